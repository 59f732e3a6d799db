/**
 * The i386 global descriptor table: flat segments for the process and the TLS entries that Linux's
 * set_thread_area fills (GDT_ENTRY_TLS_MIN = 12 … 14, so glibc's first TLS entry becomes selector 0x63).
 * The table lives in a guest page outside the user address range; Unicorn reads descriptors from there when a
 * segment register is loaded.
 */
import type { Engine } from './engine.ts';

export const GDT_ENTRIES = 32;
export const GDT_ENTRY_SIZE = 8;
/** Flat ring-0 data segment for SS: Unicorn runs the guest at CPL 0, and SS's DPL must equal the CPL. */
export const GDT_ENTRY_KERNEL_DS = 2;
/** Linux's TLS entries (arch/x86/include/asm/segment.h). */
export const GDT_ENTRY_TLS_MIN = 12;
export const GDT_ENTRY_TLS_ENTRIES = 3;
export const SELECTOR_RPL_USER = 3;

const ACCESS_PRESENT = 0x80;
const ACCESS_DESCRIPTOR_TYPE = 0x10; // code/data (not system)
const ACCESS_DATA_WRITABLE = 0x02;
const ACCESS_CODE_READABLE = 0x0a;
const ACCESS_ACCESSED = 0x01;
const FLAG_GRANULARITY_4K = 0x8;
const FLAG_32BIT = 0x4;
const DPL_SHIFT = 5;

/** A segment descriptor's fields, in the form Linux's `struct user_desc` describes them. */
export interface SegmentDescriptor {
  base: number;
  /** Limit in bytes, or in 4 KiB pages when `pageGranular`. */
  limit: number;
  pageGranular: boolean;
  code: boolean;
  dpl: 0 | 3;
  present: boolean;
  is32Bit: boolean;
}

/** Encodes a descriptor into the 8-byte format of the Intel SDM vol. 3A §3.4.5. */
export function encodeDescriptor(d: SegmentDescriptor): Uint8Array {
  const bytes = new Uint8Array(GDT_ENTRY_SIZE);
  if (!d.present) return bytes; // an empty entry: loading it faults, as on Linux
  const access =
    ACCESS_PRESENT | (d.dpl << DPL_SHIFT) | ACCESS_DESCRIPTOR_TYPE | ACCESS_ACCESSED |
    (d.code ? ACCESS_CODE_READABLE : ACCESS_DATA_WRITABLE);
  const flags = (d.pageGranular ? FLAG_GRANULARITY_4K : 0) | (d.is32Bit ? FLAG_32BIT : 0);
  bytes[0] = d.limit & 0xff;
  bytes[1] = (d.limit >>> 8) & 0xff;
  bytes[2] = d.base & 0xff;
  bytes[3] = (d.base >>> 8) & 0xff;
  bytes[4] = (d.base >>> 16) & 0xff;
  bytes[5] = access;
  bytes[6] = ((d.limit >>> 16) & 0x0f) | (flags << 4);
  bytes[7] = (d.base >>> 24) & 0xff;
  return bytes;
}

export function selector(entry: number, rpl: number): number {
  return (entry << 3) | rpl;
}

export const FLAT_DATA_RING0: SegmentDescriptor = {
  base: 0, limit: 0xfffff, pageGranular: true, code: false, dpl: 0, present: true, is32Bit: true,
};

/** The process's GDT in guest memory. */
export class GlobalDescriptorTable {
  constructor(
    private readonly engine: Engine,
    readonly base: number,
  ) {}

  /** Writes the flat entries, points GDTR at the table and loads SS (see the note on GDT_ENTRY_KERNEL_DS). */
  install(): void {
    this.engine.setGdtr({ base: this.base, limit: GDT_ENTRIES * GDT_ENTRY_SIZE - 1 });
    this.set(GDT_ENTRY_KERNEL_DS, FLAT_DATA_RING0);
    this.engine.setReg('ss', selector(GDT_ENTRY_KERNEL_DS, 0));
  }

  set(entry: number, descriptor: SegmentDescriptor): void {
    this.engine.write(this.base + entry * GDT_ENTRY_SIZE, encodeDescriptor(descriptor));
  }

  isFree(entry: number): boolean {
    return this.engine.read(this.base + entry * GDT_ENTRY_SIZE, GDT_ENTRY_SIZE).every((b) => b === 0);
  }
}
