/**
 * A bump allocator over a guest region the host owns: strings, out-buffers and struct-return buffers for one
 * call live here and are released together when the call ends.
 */
import type { Engine } from '../emu/engine.ts';
import type { ArgumentMemory } from './plan.ts';
import { ArgumentError } from './values.ts';
import type { GuestWindow } from './guest-window.ts';

const textEncoder = new TextEncoder();
const SCRATCH_STRING_BYTES = 64 * 1024;
const stringScratch = new Uint8Array(SCRATCH_STRING_BYTES);

export class GuestArena implements ArgumentMemory {
  private used = 0;
  /** Bytes at the start that survive `reset` (long-lived slots allocated before the first call). */
  private kept = 0;

  constructor(
    private readonly engine: Engine,
    readonly base: number,
    readonly size: number,
    /** Reads and writes of the arena go through this window (see guest-window.ts). */
    readonly window?: GuestWindow,
  ) {}

  alloc(size: number, align = 16): number {
    const start = Math.ceil((this.base + this.used) / align) * align;
    if (start + size > this.base + this.size) {
      throw new ArgumentError(
        `the call's strings and buffers need more than the ${this.size >> 20} MiB host arena; pass smaller buffers`,
      );
    }
    this.used = start + size - this.base;
    return start;
  }

  place(bytes: Uint8Array, align = 16): number {
    const address = this.alloc(bytes.length, align);
    this.write(address, bytes);
    return address;
  }

  placeString(text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: short strings are encoded into a reused buffer, not a new one.
    const worst = text.length * 3 + 1;
    if (worst > SCRATCH_STRING_BYTES) {
      const encoded = textEncoder.encode(text);
      const bytes = new Uint8Array(encoded.length + 1);
      bytes.set(encoded);
      return this.place(bytes, 1);
    }
    const { written } = textEncoder.encodeInto(text, stringScratch);
    stringScratch[written] = 0;
    return this.place(stringScratch.subarray(0, written + 1), 1);
  }

  placeZeros(size: number): number {
    const address = this.alloc(size, 16);
    if (this.window) this.window.zero(address, size);
    else if (size > 0) this.engine.write(address, new Uint8Array(size));
    return address;
  }

  /** Writes arena bytes (allocated with `alloc`). */
  write(address: number, bytes: Uint8Array): void {
    if (this.window) this.window.write(address, bytes);
    else this.engine.write(address, bytes);
  }

  /** An unsigned word of the arena (see GuestWindow.readWord). */
  readWord(address: number, word: 4 | 8): number {
    if (this.window) return this.window.readWord(address, word);
    const view = new DataView(this.engine.read(address, word).buffer);
    return word === 8 ? Number(view.getBigUint64(0, true)) : view.getUint32(0, true);
  }

  /** A copy of arena bytes (e.g. an out buffer after the call). */
  read(address: number, size: number): Uint8Array {
    return this.window ? this.window.read(address, size) : this.engine.read(address, size);
  }

  /** How much is allocated and kept (snapshots). */
  state(): { used: number; kept: number } {
    return { used: this.used, kept: this.kept };
  }

  restoreState(state: { used: number; kept: number }): void {
    this.used = state.used;
    this.kept = state.kept;
  }

  /** Releases everything but the kept prefix (the next call reuses the space; its bytes are rewritten as needed). */
  reset(): void {
    this.used = this.kept;
  }

  /** Makes everything allocated so far permanent. */
  keepFirst(): void {
    this.kept = this.used;
  }
}

/** Grows by whole chunks; each chunk is a fresh executable mapping labelled for fault reports. */
const CODE_CHUNK = 64 * 1024;
const CODE_ALIGN = 16;

export interface CodeArenaState {
  chunkEnd: number;
  cursor: number;
  freeSlots: [number, number[]][];
  chunks: { start: number; end: number }[];
}

/** Where generated guest code (trampolines, callback stubs) lives: read+execute pages the host writes into. */
export class CodeArena {
  private chunkEnd = 0;
  private cursor = 0;
  private readonly freeSlots = new Map<number, number[]>();
  private readonly chunks: { start: number; end: number }[] = [];

  constructor(
    private readonly engine: Engine,
    /** Maps `size` bytes of read+execute memory somewhere and returns the address. */
    private readonly mapChunk: (size: number) => number,
  ) {}

  /** Copies `code` into the arena and returns its address. Reuses a freed slot of the same size when there is one. */
  place(code: Uint8Array): number {
    const size = Math.ceil(code.length / CODE_ALIGN) * CODE_ALIGN;
    const reused = this.freeSlots.get(size)?.pop();
    const address = reused ?? this.allocate(size);
    this.engine.write(address, code);
    // Code may be rewritten in place: make sure no translation of the old bytes survives.
    if (reused !== undefined) this.engine.invalidateCode(address, size);
    return address;
  }

  /** Where code goes next, the freed slots and the chunks (snapshots: plain data). */
  state(): CodeArenaState {
    return {
      chunkEnd: this.chunkEnd,
      cursor: this.cursor,
      freeSlots: [...this.freeSlots].map(([size, slots]) => [size, [...slots]]),
      chunks: this.chunks.map((c) => ({ ...c })),
    };
  }

  restoreState(state: CodeArenaState): void {
    this.chunkEnd = state.chunkEnd;
    this.cursor = state.cursor;
    this.freeSlots.clear();
    for (const [size, slots] of state.freeSlots) this.freeSlots.set(size, [...slots]);
    this.chunks.splice(0, this.chunks.length, ...state.chunks.map((c) => ({ ...c })));
  }

  /** Whether `address` is inside generated code. */
  contains(address: number): boolean {
    return this.chunks.some((c) => address >= c.start && address < c.end);
  }

  /** Returns a slot (of the size it was placed with) for reuse. */
  release(address: number, codeLength: number): void {
    const size = Math.ceil(codeLength / CODE_ALIGN) * CODE_ALIGN;
    const slots = this.freeSlots.get(size) ?? [];
    slots.push(address);
    this.freeSlots.set(size, slots);
  }

  private allocate(size: number): number {
    if (this.cursor + size > this.chunkEnd) {
      const chunk = Math.max(CODE_CHUNK, size);
      this.cursor = this.mapChunk(chunk);
      this.chunkEnd = this.cursor + chunk;
      this.chunks.push({ start: this.cursor, end: this.chunkEnd });
    }
    const address = this.cursor;
    this.cursor += size;
    return address;
  }
}
