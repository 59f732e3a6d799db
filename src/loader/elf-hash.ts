/**
 * The dynamic symbol hash tables: DT_GNU_HASH (bloom filter + buckets + chains) and the SysV DT_HASH. They give
 * the number of dynamic symbols (nothing else in a section-stripped file does) and fast lookup by name.
 */
import { hex } from './elf-constants.ts';
import type { ElfReader } from './elf-reader.ts';
import type { AddressMap } from './elf-segments.ts';

/** Header words of DT_GNU_HASH: nbuckets, symoffset, bloom_size, bloom_shift. */
const GNU_HASH_HEADER_SIZE = 16;
/** Header words of DT_HASH: nbucket, nchain. */
const SYSV_HASH_HEADER_SIZE = 8;
/** The GNU hash function's seed (Bernstein's djb2). */
const GNU_HASH_SEED = 5381;

const UTF8 = new TextEncoder();

/** Symbol names are hashed as bytes: the UTF-8 encoding of the JS string. */
function nameBytes(name: string): Uint8Array {
  return UTF8.encode(name);
}

/** dl_new_hash: h = h * 33 + c over the name's bytes, modulo 2^32. */
export function gnuHash(name: string): number {
  let h = GNU_HASH_SEED;
  for (const c of nameBytes(name)) h = (Math.imul(h, 33) + c) >>> 0;
  return h;
}

/** The SysV ELF hash (gABI "Hash Table"). */
export function sysvHash(name: string): number {
  let h = 0;
  for (const c of nameBytes(name)) {
    h = ((h << 4) + c) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h = (h & ~g) >>> 0;
  }
  return h;
}

export interface SymbolHashTable {
  readonly kind: 'gnu' | 'sysv';
  /** Number of entries of the dynamic symbol table that the hash table covers. */
  readonly symbolCount: number;
  /**
   * Whether symbolCount is the size of the whole table. DT_HASH's nchain always is; DT_GNU_HASH's count is
   * only when it hashes at least one symbol: with none, GNU ld writes symoffset = 1 even though unhashed
   * (undefined) symbols follow.
   */
  readonly exactCount: boolean;
  /** Indices of dynamic symbols that may be called `name`; the caller compares names. */
  candidates(name: string): Iterable<number>;
}

export class GnuHashTable implements SymbolHashTable {
  readonly kind = 'gnu';
  readonly symbolCount: number;
  readonly exactCount: boolean;

  private constructor(
    private readonly reader: ElfReader,
    private readonly nbuckets: number,
    private readonly symoffset: number,
    private readonly bloomSize: number,
    private readonly bloomShift: number,
    private readonly bloomOffset: number,
    private readonly bucketsOffset: number,
    private readonly chainsOffset: number,
    segmentEnd: number,
  ) {
    this.symbolCount = this.countSymbols(segmentEnd);
    this.exactCount = this.symbolCount > symoffset;
  }

  static read(reader: ElfReader, map: AddressMap, address: number): GnuHashTable {
    const offset = map.range(address, GNU_HASH_HEADER_SIZE, 'DT_GNU_HASH header');
    const segmentEnd = map.segmentFileEnd(address)!;
    const nbuckets = reader.u32(offset);
    const symoffset = reader.u32(offset + 4);
    const bloomSize = reader.u32(offset + 8);
    const bloomShift = reader.u32(offset + 12);
    if (nbuckets === 0) reader.fail('DT_GNU_HASH has no buckets');
    if (bloomSize === 0) reader.fail('DT_GNU_HASH has an empty bloom filter');
    const bloomOffset = offset + GNU_HASH_HEADER_SIZE;
    const bucketsOffset = bloomOffset + bloomSize * reader.wordSize;
    const chainsOffset = bucketsOffset + nbuckets * 4;
    if (chainsOffset > segmentEnd) {
      reader.fail(
        `DT_GNU_HASH: ${bloomSize} bloom words and ${nbuckets} buckets at ${hex(address)} extend past the end ` +
          'of their segment',
      );
    }
    return new GnuHashTable(
      reader, nbuckets, symoffset, bloomSize, bloomShift, bloomOffset, bucketsOffset, chainsOffset, segmentEnd,
    );
  }

  /**
   * The highest symbol index is in the chain of the highest bucket: follow that chain to its terminator (low bit
   * set). Symbols below symoffset are not hashed (undefined and local ones) but still count.
   */
  private countSymbols(segmentEnd: number): number {
    const { reader } = this;
    let maxStart = 0;
    for (let b = 0; b < this.nbuckets; b++) {
      const start = reader.u32(this.bucketsOffset + b * 4);
      if (start !== 0 && start < this.symoffset) {
        reader.fail(`DT_GNU_HASH bucket ${b} starts at symbol ${start}, below symoffset ${this.symoffset}`);
      }
      maxStart = Math.max(maxStart, start);
    }
    if (maxStart === 0) return this.symoffset;
    for (let index = maxStart; ; index++) {
      const at = this.chainAt(index);
      if (at + 4 > segmentEnd) reader.fail(`DT_GNU_HASH: the chain of symbol ${maxStart} runs past the end of its segment`);
      if ((reader.u32(at) & 1) !== 0) return index + 1;
    }
  }

  *candidates(name: string): Iterable<number> {
    const hash = gnuHash(name);
    if (!this.bloomAccepts(hash)) return;
    const start = this.reader.u32(this.bucketsOffset + (hash % this.nbuckets) * 4);
    if (start === 0) return;
    for (let index = start; index < this.symbolCount; index++) {
      const chainHash = this.reader.u32(this.chainAt(index));
      // The low bit marks the end of the chain; the other 31 bits are the symbol's hash.
      if ((chainHash ^ hash) >>> 1 === 0) yield index;
      if ((chainHash & 1) !== 0) return;
    }
  }

  /** Two bits per name in one bloom word of ELFCLASS width: the filter rejects most absent names cheaply. */
  private bloomAccepts(hash: number): boolean {
    const bitsPerWord = this.reader.wordSize * 8;
    const word = Math.floor(hash / bitsPerWord) % this.bloomSize;
    const bit1 = hash % bitsPerWord;
    // Division rather than >>> so that a (corrupt) shift of 32 or more gives 0 instead of wrapping.
    const bit2 = Math.floor(hash / 2 ** this.bloomShift) % bitsPerWord;
    return this.bloomBit(word, bit1) && this.bloomBit(word, bit2);
  }

  private bloomBit(word: number, bit: number): boolean {
    // A 64-bit bloom word is read as two little-endian halves.
    const at = this.bloomOffset + word * this.reader.wordSize + (bit >= 32 ? 4 : 0);
    return ((this.reader.u32(at) >>> (bit % 32)) & 1) === 1;
  }

  private chainAt(index: number): number {
    return this.chainsOffset + (index - this.symoffset) * 4;
  }
}

export class SysvHashTable implements SymbolHashTable {
  readonly kind = 'sysv';
  readonly exactCount = true;

  private constructor(
    private readonly reader: ElfReader,
    private readonly nbucket: number,
    readonly symbolCount: number,
    private readonly bucketsOffset: number,
    private readonly chainsOffset: number,
  ) {}

  static read(reader: ElfReader, map: AddressMap, address: number): SysvHashTable {
    const offset = map.range(address, SYSV_HASH_HEADER_SIZE, 'DT_HASH header');
    const nbucket = reader.u32(offset);
    const nchain = reader.u32(offset + 4);
    if (nbucket === 0 && nchain !== 0) reader.fail('DT_HASH has symbols but no buckets');
    map.range(address, SYSV_HASH_HEADER_SIZE + (nbucket + nchain) * 4, `DT_HASH (${nbucket} buckets, ${nchain} chains)`);
    const bucketsOffset = offset + SYSV_HASH_HEADER_SIZE;
    return new SysvHashTable(reader, nbucket, nchain, bucketsOffset, bucketsOffset + nbucket * 4);
  }

  *candidates(name: string): Iterable<number> {
    if (this.nbucket === 0) return;
    let index = this.reader.u32(this.bucketsOffset + (sysvHash(name) % this.nbucket) * 4);
    // At most nchain steps, so that a cyclic (corrupt) chain cannot hang us.
    for (let steps = 0; index !== 0 && steps < this.symbolCount; steps++) {
      if (index >= this.symbolCount) this.reader.fail(`DT_HASH chain points at symbol ${index}, past nchain`);
      yield index;
      index = this.reader.u32(this.chainsOffset + index * 4);
    }
  }
}
