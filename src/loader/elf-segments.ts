/**
 * Virtual address ↔ file offset mapping through the PT_LOAD segments. The dynamic section refers to its tables by
 * address, and section headers may be stripped, so this is the only reliable way to find them in the file.
 */
import { PAGE_SIZE, PT_LOAD, hex } from './elf-constants.ts';
import type { ElfReader } from './elf-reader.ts';
import type { ProgramHeader } from './elf-types.ts';

export class AddressMap {
  private readonly loads: ProgramHeader[];

  constructor(private readonly reader: ElfReader, programHeaders: readonly ProgramHeader[]) {
    this.loads = programHeaders.filter((ph) => ph.type === PT_LOAD);
  }

  get hasLoads(): boolean {
    return this.loads.length > 0;
  }

  /** The file offset holding `vaddr`, or undefined if no segment's file-backed part covers it (e.g. .bss). */
  toOffset(vaddr: number): number | undefined {
    const segment = this.segmentOf(vaddr, 1);
    return segment === undefined ? undefined : segment.offset + (vaddr - segment.vaddr);
  }

  /**
   * The file offset of [vaddr, vaddr + size), which must lie in the file-backed part of a single PT_LOAD (the
   * checks on PT_LOAD already guarantee that part is inside the file).
   */
  range(vaddr: number, size: number, what: string): number {
    if (!Number.isSafeInteger(vaddr) || !Number.isSafeInteger(size) || vaddr < 0 || size < 0) {
      this.reader.fail(`${what}: bad address range (address ${vaddr}, size ${size})`);
    }
    const segment = this.segmentOf(vaddr, Math.max(size, 1));
    if (segment === undefined) {
      this.reader.fail(
        `${what} at ${hex(vaddr)} (size ${hex(size)}) is not inside the file-backed part of any PT_LOAD segment`,
      );
    }
    return segment.offset + (vaddr - segment.vaddr);
  }

  /** Whether [vaddr, vaddr + size) lies in the file-backed part of a single PT_LOAD. */
  covers(vaddr: number, size: number): boolean {
    return Number.isSafeInteger(vaddr + size) && this.segmentOf(vaddr, Math.max(size, 1)) !== undefined;
  }

  /** The file offset where the file-backed part of the segment holding `vaddr` ends (a bound for scans). */
  segmentFileEnd(vaddr: number): number | undefined {
    const segment = this.segmentOf(vaddr, 1);
    return segment === undefined ? undefined : segment.offset + segment.filesz;
  }

  private segmentOf(vaddr: number, size: number): ProgramHeader | undefined {
    return this.loads.find((ph) => vaddr >= ph.vaddr && vaddr + size <= ph.vaddr + ph.filesz);
  }
}

/** Lowest PT_LOAD address rounded down to a page, highest end rounded up; {0, 0} without PT_LOAD. */
export function loadSpanOf(programHeaders: readonly ProgramHeader[]): { start: number; end: number } {
  let start = Infinity;
  let end = 0;
  for (const ph of programHeaders) {
    if (ph.type !== PT_LOAD) continue;
    start = Math.min(start, ph.vaddr);
    end = Math.max(end, ph.vaddr + ph.memsz);
  }
  if (start === Infinity) return { start: 0, end: 0 };
  return { start: Math.floor(start / PAGE_SIZE) * PAGE_SIZE, end: Math.ceil(end / PAGE_SIZE) * PAGE_SIZE };
}
