/**
 * The recorder's copy of the guest memory a trace touches: every touched page as it is now (kept equal to guest
 * memory: the recorder applies every write it sees) and as it was at position 0, and which bytes of those pages go
 * into the trace's initial memory.
 */
import type { Engine } from '../emu/engine.ts';
import { toHex, TRACE_PAGE_SIZE, type TraceMemory } from './format.ts';

const PAGE = TRACE_PAGE_SIZE;

export function pageOf(address: number): number {
  return address - (address % PAGE);
}

export class MemoryShadow {
  /** Current memory of every page the trace touches (kept equal to guest memory), and the pages as of position 0. */
  private readonly shadow = new Map<number, Uint8Array>();
  private readonly initialPages = new Map<number, Uint8Array>();
  /** Per touched page, which bytes go into the initial snapshot (1 = included). */
  private readonly included = new Map<number, Uint8Array>();

  constructor(private readonly engine: Pick<Engine, 'readOriginal'>) {}

  /** Puts [address, address + size) into the initial snapshot (its pages must be shadowed). */
  include(address: number, size: number): void {
    for (let done = 0; done < size;) {
      const at = address + done;
      const page = pageOf(at);
      let mask = this.included.get(page);
      if (!mask) this.included.set(page, (mask = new Uint8Array(PAGE)));
      const n = Math.min(size - done, PAGE - (at - page));
      mask.fill(1, at - page, at - page + n);
      done += n;
    }
  }

  /** The shadow of a page (read from the guest the first time: that is its state at position 0). */
  private page(page: number): Uint8Array | undefined {
    let bytes = this.shadow.get(page);
    if (bytes === undefined) {
      try {
        bytes = this.engine.readOriginal(page, PAGE); // as the program has it, like the code (see the recorder's learnCode)
      } catch {
        return undefined; // not mapped
      }
      this.shadow.set(page, bytes);
      this.initialPages.set(page, bytes.slice());
    }
    return bytes;
  }

  /** The current bytes at [address, address + size) from the shadow, or undefined when a page is not mapped. */
  bytes(address: number, size: number): Uint8Array | undefined {
    const out = new Uint8Array(size);
    for (let done = 0; done < size;) {
      const at = address + done;
      const page = pageOf(at);
      const bytes = this.page(page);
      if (!bytes) return undefined;
      const offset = at - page;
      const n = Math.min(size - done, PAGE - offset);
      out.set(bytes.subarray(offset, offset + n), done);
      done += n;
    }
    return out;
  }

  /** Writes `bytes` at `address` into the shadow pages that exist (the others are read from the guest when touched). */
  apply(address: number, bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length;) {
      const at = address + done;
      const page = pageOf(at);
      const offset = at - page;
      const n = Math.min(bytes.length - done, PAGE - offset);
      this.shadow.get(page)?.set(bytes.subarray(done, done + n), offset);
      done += n;
    }
  }

  /** Zeroes a shadowed page (its memory was unmapped); its bytes before, in hex, or undefined when it was not shadowed or all zeros. */
  zeroPage(page: number): string | undefined {
    const bytes = this.shadow.get(page);
    if (!bytes || bytes.every((b) => b === 0)) return undefined;
    const old = toHex(bytes);
    bytes.fill(0);
    return old;
  }

  /** The included bytes as of position 0, as ascending, coalesced ranges. */
  initialMemory(): TraceMemory[] {
    const ranges: { address: number; parts: Uint8Array[]; end: number }[] = [];
    for (const page of [...this.included.keys()].sort((a, b) => a - b)) {
      const mask = this.included.get(page)!;
      const bytes = this.initialPages.get(page)!;
      for (let i = 0; i < PAGE;) {
        if (!mask[i]) {
          i++;
          continue;
        }
        let j = i;
        while (j < PAGE && mask[j]) j++;
        const last = ranges.at(-1);
        if (last && last.end === page + i) {
          last.parts.push(bytes.subarray(i, j));
          last.end = page + j;
        } else {
          ranges.push({ address: page + i, parts: [bytes.subarray(i, j)], end: page + j });
        }
        i = j;
      }
    }
    return ranges.map((r) => ({ address: r.address, bytes: r.parts.map(toHex).join('') }));
  }
}
