/**
 * The global variables a recorded call touched, by name: the ELF data objects (OBJECT symbols of the loaded
 * libraries, e.g. `_IO_2_1_stdout_`, `__libc_single_threaded`) that overlap the memory the trace knows (every byte
 * the call read or wrote). The playground's memory view resolves these names, so a student can watch a global as
 * well as an address. Bounded: at most MAX_GLOBALS names, one symbol lookup per known range or global crossed.
 */
import type { MappedObject } from '../loader/process.ts';
import type { Trace } from '../trace/format.ts';

export const MAX_GLOBALS = 256;

/** Name → address (hex) and size of each data object the trace's known memory overlaps. */
export function globalsTouched(trace: Trace, objects: MappedObject[]): Record<string, { address: string; size: number }> {
  const out: Record<string, { address: string; size: number }> = {};
  let count = 0;
  for (const range of trace.initial.memory) {
    const end = range.address + range.bytes.length / 2;
    let at = range.address;
    while (at < end && count < MAX_GLOBALS) {
      const object = objects.find((o) => at >= o.base + o.elf.loadSpan.start && at < o.base + o.elf.loadSpan.end);
      const near = object?.elf.nearestSymbol(at - object.base);
      if (!object || !near || near.symbol.type !== 'OBJECT' || near.offset >= near.symbol.size) break; // not inside a data object
      const start = object.base + near.symbol.value;
      if (out[near.symbol.name] === undefined) {
        out[near.symbol.name] = { address: `0x${start.toString(16)}`, size: near.symbol.size };
        count++;
      }
      at = start + near.symbol.size; // the range may run on into the next object
    }
  }
  return out;
}
