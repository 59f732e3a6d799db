/**
 * TLS watch: which thread-local words a call reads and writes — the stack guard (fs:0x28 / gs:0x14), the pointer
 * guard, errno, … — and a layout view of the thread's TCB and each module's static TLS block. x86 uses TLS
 * variant II: the thread pointer (amd64 fs base, i386 the gs segment's base) points at the TCB (glibc's
 * `tcbhead_t`, the start of `struct pthread`), and static TLS blocks sit just below it.
 *
 * It watches memory accesses in that range with a memory hook, which slows every access while it is on: it is
 * opt-in (`--tls`), not part of `--check`.
 */
import type { Arch } from '../emu/arch.ts';
import type { HookHandle, MemoryAccess } from '../emu/engine.ts';
import type { Process } from '../loader/process.ts';

/** glibc 2.36 `tcbhead_t` fields (sysdeps/x86_64/nptl/tls.h, sysdeps/i386/nptl/tls.h): offset → name. */
export const TCB_FIELDS: Record<Arch, Record<number, string>> = {
  amd64: {
    0x00: 'tcb (self pointer)', 0x08: 'dtv', 0x10: 'self', 0x18: 'multiple_threads', 0x1c: 'gscope_flag',
    0x20: 'sysinfo', 0x28: 'stack_guard (stack protector canary)', 0x30: 'pointer_guard', 0x48: 'feature_1 (CET)',
  },
  i386: {
    0x00: 'tcb (self pointer)', 0x04: 'dtv', 0x08: 'self', 0x0c: 'multiple_threads', 0x10: 'sysinfo (syscall entry)',
    0x14: 'stack_guard (stack protector canary)', 0x18: 'pointer_guard', 0x1c: 'gscope_flag', 0x20: 'feature_1 (CET)',
  },
};
/** How much of `struct pthread` above the thread pointer is watched: the tcbhead and the fields after it. */
const TCB_WATCH_BYTES = 0x100;

export interface TlsModuleBlock {
  /** The module (soname or path). */
  module: string;
  start: number;
  size: number;
  /** Thread-local symbols the module exports, by offset in the block (e.g. errno in libc). */
  symbols: Record<number, string>;
}

export interface TlsLayout {
  arch: Arch;
  /** amd64: the fs base; i386: the base of the gs segment. */
  threadPointer: number;
  segment: 'fs' | 'gs';
  /** i386: the gs selector (0x63 = GDT entry 12, RPL 3, as set_thread_area gives glibc). */
  selector?: number;
  tcb: { start: number; fields: { offset: number; name: string; value: string }[] };
  modules: TlsModuleBlock[];
  /** errno's address for this thread (__errno_location()). */
  errno: number;
}

export interface TlsAccess {
  access: MemoryAccess;
  /** Offset from the thread pointer (negative: static TLS blocks; small positive: the TCB). */
  offset: number;
  /** `fs:0x28`-style spelling (amd64 fs / i386 gs). */
  segmentOffset: string;
  name: string;
  size: number;
  count: number;
}

export interface TlsReport {
  layout: TlsLayout;
  accesses: TlsAccess[];
}

const hex = (n: number) => (n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`);

/** Names a thread-pointer-relative address from the layout. */
export function nameTlsAddress(layout: TlsLayout, address: number): string {
  const offset = address - layout.threadPointer;
  if (address === layout.errno) return 'errno';
  if (offset >= 0 && offset < TCB_WATCH_BYTES) {
    const fields = TCB_FIELDS[layout.arch];
    const base = Object.keys(fields).map(Number).filter((o) => o <= offset).sort((a, b) => b - a)[0];
    return base !== undefined && offset - base < (layout.arch === 'amd64' ? 8 : 4)
      ? `TCB ${fields[base]}${offset > base ? ` +${offset - base}` : ''}`
      : `struct pthread +${hex(offset)}`;
  }
  for (const block of layout.modules) {
    if (address >= block.start && address < block.start + block.size) {
      const at = address - block.start;
      const symbol = Object.entries(block.symbols).find(([o]) => Number(o) === at)?.[1];
      return `${block.module} TLS ${symbol ?? `+${hex(at)}`}`;
    }
  }
  return 'static TLS';
}

/** Watches the TLS range of the calling thread for the duration of one call. */
export class TlsWatch {
  private hook: HookHandle | undefined;
  private counts = new Map<string, TlsAccess>();

  constructor(
    private readonly process: Process,
    readonly layout: TlsLayout,
  ) {}

  start(): void {
    const lowest = Math.min(this.layout.threadPointer, ...this.layout.modules.map((m) => m.start));
    const highest = this.layout.threadPointer + TCB_WATCH_BYTES - 1;
    this.counts = new Map();
    this.hook = this.process.engine.addMemoryHook(['read', 'write'], (access, address, size) => this.record(access, address, size), lowest, highest);
  }

  stop(): TlsReport {
    this.hook?.remove();
    this.hook = undefined;
    const accesses = [...this.counts.values()].sort((a, b) => a.offset - b.offset || a.access.localeCompare(b.access));
    return { layout: this.layout, accesses };
  }

  private record(access: MemoryAccess, address: number, size: number): void {
    const offset = address - this.layout.threadPointer;
    const key = `${access}:${offset}:${size}`;
    const existing = this.counts.get(key);
    if (existing) {
      existing.count++;
      return;
    }
    const segment = this.layout.segment;
    this.counts.set(key, {
      access,
      offset,
      segmentOffset: `${segment}:${hex(offset)}`,
      name: nameTlsAddress(this.layout, address),
      size,
      count: 1,
    });
  }
}

/** One line per accessed word: `read  fs:0x28  TCB stack_guard (stack protector canary)  8 bytes ×2`. */
export function formatTlsReport(report: TlsReport): string {
  const l = report.layout;
  const lines = [
    `thread pointer ${hex(l.threadPointer)} (${l.segment}${l.selector !== undefined ? ` = ${hex(l.selector)}` : ' base'}), errno at ${l.segment}:${hex(l.errno - l.threadPointer)}`,
    ...l.modules.map((m) => `  static TLS ${m.module}: ${l.segment}:${hex(m.start - l.threadPointer)} .. ${hex(m.start + m.size - l.threadPointer)} (${m.size} bytes)`),
    ...report.accesses.map((a) => `  ${a.access.padEnd(5)} ${a.segmentOffset.padEnd(10)} ${a.name}  ${a.size} bytes ×${a.count}`),
  ];
  return lines.join('\n');
}
