/**
 * A bump allocator over a guest region the host owns: strings, out-buffers and struct-return buffers for one
 * call live here and are released together when the call ends.
 */
import type { Engine } from '../emu/engine.ts';
import { ArgumentError, type GuestMemory } from './values.ts';

export class GuestArena implements GuestMemory {
  private used = 0;

  constructor(
    private readonly engine: Engine,
    readonly base: number,
    readonly size: number,
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
    this.engine.write(address, bytes);
    return address;
  }

  /** Releases everything (the next call reuses the space; its bytes are rewritten as needed). */
  reset(): void {
    this.used = 0;
  }
}
