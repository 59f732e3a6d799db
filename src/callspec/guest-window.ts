/**
 * Live host views of the few guest data ranges a host call touches every time — the host arena (argument blocks,
 * strings, out buffers), the call frame at the stack top, errno — so that writing the arguments and reading the
 * results costs no native call at all (each `uc_mem_write`/`uc_mem_read` through koffi costs ~0.5 µs).
 *
 * A window is used only while that is exactly equivalent to going through the engine:
 *   - the range is accessible and not executable (AddressSpace.dataWindow), re-checked whenever the address
 *     space's generation changes (the guest may munmap or mprotect it in a call): no translated code can go stale;
 *   - nobody observes the engine's writes (`DirectAccess.on`: the machine turns it off while a trace is recorded,
 *     since the recorder sees host writes by wrapping `engine.write`, and for good once the machine is closed and
 *     its host memory released).
 * Otherwise every access takes the engine path, with the same writes in the same order as before windows existed.
 */
import type { Engine } from '../emu/engine.ts';
import type { AddressSpace } from '../kernel/address-space.ts';

/** Whether windows may be used now (shared by all windows of one machine). */
export interface DirectAccess {
  on: boolean;
}

const TWO_32 = 2 ** 32;

export class GuestWindow {
  private checkedAt = -1;
  private live: Uint8Array | undefined;
  private view: DataView | undefined;

  constructor(
    private readonly space: AddressSpace,
    private readonly engine: Engine,
    readonly start: number,
    readonly size: number,
    private readonly access: DirectAccess,
  ) {}

  /** The live bytes of the whole window, or undefined when this access must go through the engine. */
  private bytes(address: number, size: number): Uint8Array | undefined {
    if (!this.access.on || address < this.start || address + size > this.start + this.size) return undefined;
    if (this.checkedAt !== this.space.generation) {
      this.live = this.space.dataWindow(this.start, this.size);
      this.view = this.live && new DataView(this.live.buffer, this.live.byteOffset, this.live.byteLength);
      this.checkedAt = this.space.generation;
    }
    return this.live;
  }

  write(address: number, bytes: Uint8Array): void {
    const live = this.bytes(address, bytes.length);
    if (live) live.set(bytes, address - this.start);
    else this.engine.write(address, bytes);
  }

  /** Writes a little-endian word (4 or 8 bytes) of a non-negative integer below 2^53. */
  writeWord(address: number, value: number, word: 4 | 8): void {
    if (this.bytes(address, word)) {
      const at = address - this.start;
      this.view!.setUint32(at, value >>> 0, true);
      if (word === 8) this.view!.setUint32(at + 4, Math.floor(value / TWO_32), true);
      return;
    }
    const bytes = new Uint8Array(word);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, value >>> 0, true);
    if (word === 8) view.setUint32(4, Math.floor(value / TWO_32), true);
    this.engine.write(address, bytes);
  }

  /** Writes `size` zero bytes. */
  zero(address: number, size: number): void {
    const live = this.bytes(address, size);
    if (live) live.fill(0, address - this.start, address - this.start + size);
    else this.engine.write(address, new Uint8Array(size));
  }

  /** A copy of `size` bytes. */
  read(address: number, size: number): Uint8Array {
    const live = this.bytes(address, size);
    return live ? live.slice(address - this.start, address - this.start + size) : this.engine.read(address, size);
  }

  /** An unsigned little-endian word (4 or 8 bytes; 8-byte values above 2^53 lose precision, as Number() does). */
  readWord(address: number, word: 4 | 8): number {
    const live = this.bytes(address, word);
    const view = live ? this.view! : dataView(this.engine.read(address, word));
    const at = live ? address - this.start : 0;
    const low = view.getUint32(at, true);
    return word === 8 ? view.getUint32(at + 4, true) * TWO_32 + low : low;
  }

  readInt32(address: number): number {
    const live = this.bytes(address, 4);
    return live ? this.view!.getInt32(address - this.start, true) : dataView(this.engine.read(address, 4)).getInt32(0, true);
  }
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
