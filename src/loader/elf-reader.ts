/**
 * Bounds-checked little-endian reads over an ELF image. Every read that could fall outside the file goes through
 * `need()` first, so malformed input ends in an ElfError naming the structure, never in a RangeError.
 */
import { hex } from './elf-constants.ts';

/** A malformed, truncated or unsupported ELF file. The message starts with the file's name. */
export class ElfError extends Error {
  /** The message without the file name prefix. */
  readonly detail: string;

  constructor(message: string, readonly file?: string) {
    super(file === undefined ? message : `${file}: ${message}`);
    this.name = 'ElfError';
    this.detail = message;
  }
}

/** 2^32, to combine the halves of a 64-bit field. */
const TWO_32 = 0x1_0000_0000;
/** Largest high half of a 64-bit value that still fits in 2^53 (a JS number's integer range). */
const MAX_SAFE_HIGH = 0x1f_ffff;

const UTF8 = new TextDecoder('utf-8');

export class ElfReader {
  readonly size: number;
  /**
   * What was broken but ignored: metadata ld.so never reads (section headers, notes, e_entry of a library) is
   * parsed leniently, so a file glibc would load is not refused for it. One line per ignored structure.
   */
  readonly warnings: string[] = [];
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array, readonly file: string, readonly bits: 32 | 64) {
    this.size = bytes.byteLength;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes in a target word (pointer, Elf_Addr, Elf_Off...). */
  get wordSize(): 4 | 8 {
    return this.bits === 64 ? 8 : 4;
  }

  fail(message: string): never {
    throw new ElfError(message, this.file);
  }

  /**
   * Runs a step that reads optional metadata: an ElfError in it becomes a warning and `fallback` is used
   * instead. Other exceptions are bugs and propagate (parseElf's safety net still names the file).
   */
  lenient<T>(step: () => T, fallback: T): T {
    try {
      return step();
    } catch (error) {
      if (!(error instanceof ElfError)) throw error;
      this.warnings.push(error.detail);
      return fallback;
    }
  }

  /** Throws unless [offset, offset + length) lies inside the file. */
  need(offset: number, length: number, what: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      this.fail(`${what}: bad file range (offset ${offset}, size ${length})`);
    }
    if (offset + length > this.size) {
      this.fail(
        `truncated: ${what} extends past end of file (offset ${hex(offset)}, size ${hex(length)}, ` +
          `file size ${hex(this.size)})`,
      );
    }
  }

  // The accessors below assume the caller has checked the range with need(); DataView would still throw a
  // RangeError on a bug, which parseElf's safety net turns into an ElfError.

  u8(offset: number): number {
    return this.view.getUint8(offset);
  }

  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  i32(offset: number): number {
    return this.view.getInt32(offset, true);
  }

  /** An unsigned 64-bit field as a number; throws if it is 2^53 or more (no user-space address is). */
  u64(offset: number, what: string): number {
    const low = this.u32(offset);
    const high = this.u32(offset + 4);
    if (high > MAX_SAFE_HIGH) {
      this.fail(
        `${what} 0x${high.toString(16)}${low.toString(16).padStart(8, '0')} at file offset ${hex(offset)} ` +
          'does not fit in 53 bits',
      );
    }
    return high * TWO_32 + low;
  }

  /** A signed 64-bit field (Elf64_Sxword, e.g. r_addend) as a number, within ±2^53. */
  i64(offset: number, what: string): number {
    const low = this.u32(offset);
    const high = this.i32(offset + 4);
    if (high > MAX_SAFE_HIGH || high < -MAX_SAFE_HIGH - 1) {
      this.fail(`${what} at file offset ${hex(offset)} does not fit in 53 bits`);
    }
    return high * TWO_32 + low;
  }

  /** An Elf_Addr / Elf_Off / Elf_Xword-sized unsigned field. */
  word(offset: number, what: string): number {
    return this.bits === 64 ? this.u64(offset, what) : this.u32(offset);
  }

  /** A signed word (Elf32_Sword / Elf64_Sxword). */
  sword(offset: number, what: string): number {
    return this.bits === 64 ? this.i64(offset, what) : this.i32(offset);
  }

  /**
   * The NUL-terminated string at `offset`, which must end before `limit` (exclusive, a file offset). `what` names it
   * in an error; a function is called only then (thousands of symbol names need no description each).
   */
  cString(offset: number, limit: number, what: string | (() => string)): string {
    const end = Math.min(limit, this.size);
    const name = () => (typeof what === 'string' ? what : what());
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= end) {
      this.fail(`${name()}: string offset ${hex(offset)} is outside its table (which ends at file offset ${hex(end)})`);
    }
    const nul = this.bytes.indexOf(0, offset);
    if (nul < 0 || nul >= end) this.fail(`${name()}: string at file offset ${hex(offset)} is not NUL-terminated`);
    return decodeName(this.bytes, offset, nul);
  }

  slice(offset: number, length: number, what: string): Uint8Array {
    this.need(offset, length, what);
    return this.bytes.subarray(offset, offset + length);
  }
}

/** Names up to this long are built a character at a time (no subarray, no spread of a typed array). */
const SHORT_NAME = 64;

/** Symbol and library names are ASCII in practice; skip the decoder for them. */
function decodeName(bytes: Uint8Array, start: number, end: number): string {
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) return UTF8.decode(bytes.subarray(start, end));
  let text = '';
  if (end - start <= SHORT_NAME) {
    for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]!);
    return text;
  }
  // Chunked to keep String.fromCharCode's argument count reasonable for long strings.
  for (let i = start; i < end; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 4096)));
  }
  return text;
}
