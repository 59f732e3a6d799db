/**
 * Deterministic, seeded mutations of ELF files for the fuzz tests: each mutation aims at one structure (the ELF
 * header, the program or section header tables, the dynamic section, the notes) or truncates the file, so a
 * failure names what was damaged and replays from its seed.
 *
 * `npm test` runs a few rounds per file; `npm run fuzz` (scripts/fuzz/run.mjs) sets SHIMULATOR_FUZZ_ROUNDS and
 * SHIMULATOR_FUZZ_SEED for a longer run of the same tests.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../../src/emu/arch.ts';
import { type ElfFile, parseElf } from '../../src/loader/elf.ts';
import { PT_DYNAMIC, PT_NOTE } from '../../src/loader/elf-constants.ts';

/** Rounds per original file and seed: small by default so that `npm test` stays quick. */
export function fuzzRounds(quick: number): number {
  const requested = Number(process.env.SHIMULATOR_FUZZ_ROUNDS);
  return Number.isInteger(requested) && requested > 0 ? requested : quick;
}

export function fuzzSeed(): number {
  const requested = Number(process.env.SHIMULATOR_FUZZ_SEED);
  return Number.isInteger(requested) && requested > 0 ? requested : 0x5eed;
}

/** mulberry32: a small seeded generator, so every mutation can be replayed from its seed. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

/** The structures a mutation can aim at. */
export const TARGETS = ['header', 'program-headers', 'section-headers', 'dynamic', 'notes', 'truncate'] as const;
export type Target = (typeof TARGETS)[number];

/** Structures ld.so never reads: damage to them must never make the reader refuse the file. */
export const IGNORED_BY_LDSO: readonly Target[] = ['section-headers', 'notes'];

export interface Mutation {
  target: Target;
  bytes: Uint8Array;
  /** What was done, for failure messages: `notes: 3 bytes at 0x2a0..`. */
  description: string;
}

/** Word values that tend to break readers: zero, all ones, the file size, past 2^53, small and odd. */
function interestingValues(size: number): bigint[] {
  return [0n, 1n, 0xffn, 0xffffn, 0xffff_ffffn, BigInt(size), BigInt(size) * 2n, 1n << 53n, (1n << 64n) - 1n, 0x8000_0000n];
}

/** The byte ranges of one structure in an intact file; empty when the file has none. */
function regionsOf(elf: ElfFile, target: Target): [number, number][] {
  const entsize = elf.bits === 64 ? 64 : 40;
  switch (target) {
    case 'header':
      return [[0, elf.bits === 64 ? 64 : 52]];
    case 'program-headers':
      return [[elf.phoff, elf.phoff + elf.phnum * elf.phentsize]];
    case 'section-headers':
      return elf.shoff === 0 ? [] : [[elf.shoff, elf.shoff + elf.sections.length * entsize]];
    case 'dynamic': {
      const dynamic = elf.programHeaders.find((p) => p.type === PT_DYNAMIC);
      const offset = dynamic && elf.vaddrToOffset(dynamic.vaddr);
      return dynamic && offset !== undefined ? [[offset, offset + dynamic.filesz]] : [];
    }
    case 'notes':
      return elf.programHeaders.filter((p) => p.type === PT_NOTE).map((p) => [p.offset, p.offset + p.filesz]);
    case 'truncate':
      return [[0, elf.bytes.length]];
  }
}

/** One seeded mutation of `original` (an intact, parseable file) aimed at `target`. */
export function mutate(original: Uint8Array, target: Target, random: Random): Mutation {
  const elf = parseElf(original, 'original');
  const bytes = original.slice();
  const regions = regionsOf(elf, target).filter(([start, end]) => end > start && end <= bytes.length);
  if (target === 'truncate') {
    const size = random.below(bytes.length);
    return { target, bytes: bytes.slice(0, size), description: `truncated to ${size} bytes` };
  }
  if (regions.length === 0) return { target, bytes, description: `${target}: none in this file, unchanged` };
  const [start, end] = random.pick(regions);
  const changes: string[] = [];
  for (let n = 1 + random.below(4); n > 0; n--) {
    if (random.below(2) === 0) {
      const at = start + random.below(end - start);
      bytes[at] = random.below(256);
      changes.push(`byte ${hex(at)}`);
    } else {
      // A whole word (4 or 8 bytes, aligned as ELF fields are) set to a value readers trip over.
      const width = elf.bits === 64 && random.below(2) === 0 ? 8 : 4;
      const at = start + Math.floor(random.below(end - start) / width) * width;
      if (at + width > end) continue;
      const value = random.pick(interestingValues(bytes.length)) & ((1n << BigInt(width * 8)) - 1n);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (width === 8) view.setBigUint64(at, value, true);
      else view.setUint32(at, Number(value), true);
      changes.push(`word ${hex(at)} = ${hex(Number(value))}`);
    }
  }
  return { target, bytes, description: `${target}: ${changes.join(', ')}` };
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

const SMALL_LIBRARY_SOURCE = `
int twice(int x) { return 2 * x; }
const char *greeting(void) { return "hello"; }
static int counter;
__attribute__((constructor)) static void start(void) { counter = 1; }
int count(void) { return counter; }
`;

/** Whether gcc can build objects for `arch` here (i386 needs the multilib runtime). */
export function canCompile(arch: Arch): boolean {
  const flag = arch === 'amd64' ? '-m64' : '-m32';
  return spawnSync('gcc', [flag, '-x', 'c', '-shared', '-fPIC', '-o', '/dev/null', '-'], { input: 'int f;' }).status === 0;
}

/** A small shared object built with gcc -shared -fPIC for `arch`, in `dir`; returns its bytes. */
export function compileSmallLibrary(dir: string, arch: Arch): Uint8Array {
  const source = join(dir, 'small.c');
  const out = join(dir, `small-${arch}.so`);
  writeFileSync(source, SMALL_LIBRARY_SOURCE);
  execFileSync('gcc', [arch === 'amd64' ? '-m64' : '-m32', '-shared', '-fPIC', '-O1', '-o', out, source]);
  return new Uint8Array(readFileSync(out));
}
