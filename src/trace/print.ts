/**
 * A readable listing of a trace: one line per instruction (step, address, bytes, Intel-syntax disassembly, the
 * registers it changed and the memory it wrote), strace-like lines for system calls, and events.
 *
 *   in __vfprintf_internal (libc.so.6)
 *   #000042  0x7ffff7e5a0c0  48 89 e5                  mov rbp, rsp                          rbp=0x7fffffffe930
 *     syscall write(1, 0x55555555a2a0, 12) = 12
 *
 * An `in` line names the function the next instructions are in whenever it changes (with the offset when the
 * code enters it other than at its start: a return), from the names the trace recorded (`Trace.functions`).
 *
 * Needs the disassembler: `await loadDisassembler()` first.
 */
import { ERRNO } from '../kernel/errno.ts';
import { disassemble } from './disassemble.ts';
import { encodeTrace, fromHex, functionAt, type Trace, type TraceFunction, type TraceSyscall } from './format.ts';

export interface PrintOptions {
  /** Print at most this many instructions (all by default). */
  limit?: number;
  /** The encoded size to show in the header (computed with encodeTrace when omitted). */
  compressedSize?: number;
}

const BYTES_COLUMN = 26;
const TEXT_COLUMN = 38;
const MAX_SHOWN_BYTES = 8;
const MAX_SHOWN_WRITE = 16;

const ERRNO_NAMES = new Map<number, string>(Object.entries(ERRNO).map(([name, n]) => [n, name]));

/** Arguments strace would show for common system calls (all six otherwise). */
const SYSCALL_ARITY: Record<string, number> = {
  read: 3, write: 3, open: 3, openat: 4, close: 1, stat: 2, fstat: 2, lstat: 2, newfstatat: 4, fstat64: 2,
  stat64: 2, lstat64: 2, fstatat64: 4, statx: 5, lseek: 3, _llseek: 5, mmap: 6, mmap2: 6, munmap: 2, mprotect: 3,
  brk: 1, ioctl: 3, pread64: 4, pwrite64: 4, readv: 3, writev: 3, access: 2, faccessat: 3, faccessat2: 4,
  getpid: 0, gettid: 0, getuid: 0, geteuid: 0, getgid: 0, getegid: 0, getuid32: 0, geteuid32: 0, getgid32: 0,
  getegid32: 0, exit: 1, exit_group: 1, uname: 1, fcntl: 3, fcntl64: 3, getcwd: 2, readlink: 3, readlinkat: 4,
  arch_prctl: 2, set_thread_area: 1, set_tid_address: 1, set_robust_list: 2, rseq: 4, prlimit64: 4,
  getrandom: 3, clock_gettime: 2, clock_gettime64: 2, gettimeofday: 2, time: 1, futex: 6, dup: 1, dup2: 2, dup3: 3,
  getdents64: 3, socket: 3, prctl: 5, sched_getaffinity: 3, rt_sigaction: 4, rt_sigprocmask: 4, madvise: 3,
};

/** The listing as text (lines joined with \n). */
export function printTrace(trace: Trace, options: PrintOptions = {}): string {
  const lines: string[] = [];
  const size = options.compressedSize ?? encodeTrace(trace).length;
  const limit = Math.max(0, Math.min(options.limit ?? trace.steps, trace.steps));
  lines.push(
    `trace "${trace.label}"  ${trace.arch}  ${trace.steps} instructions  ${trace.writes.length} memory writes  ` +
      `${trace.syscalls.length} system calls  ${trace.events.length} events  ${formatSize(size)} compressed`,
  );
  const code = new Map<number, { step: number; bytes: Uint8Array; text?: string }[]>();
  for (const c of trace.code) {
    const list = code.get(c.address) ?? [];
    list.push({ step: c.step, bytes: fromHex(c.bytes) });
    code.set(c.address, list);
  }
  const runsAt = new Map<number, Trace['runs']>();
  for (const r of trace.runs) runsAt.set(r.step, [...(runsAt.get(r.step) ?? []), r]);
  const syscallsAt = groupBy(trace.syscalls, (s) => s.step);
  const eventsAt = groupBy(trace.events, (e) => e.step);
  const writesAt = groupBy(trace.writes, (w) => w[0]);

  let inFunction: TraceFunction | undefined;
  for (let p = 0; p < limit; p++) {
    for (const r of runsAt.get(p) ?? []) {
      lines.push(`-- run 0x${r.begin.toString(16)} (returns to 0x${r.until.toString(16)})`);
      inFunction = undefined;
    }
    const pc = trace.pc[p]!;
    const located = functionAt(trace, pc);
    if (located && located.fn !== inFunction) lines.push(`  in ${functionLabel(located.fn, located.offset)}`);
    inFunction = located?.fn;
    const versions = code.get(pc) ?? [];
    const version = versions.filter((v) => v.step <= p).pop() ?? versions[0];
    const bytes = version?.bytes ?? new Uint8Array();
    if (version && version.text === undefined) version.text = disassemble(version.bytes, pc, trace.arch).text;
    const shownBytes = [...bytes.subarray(0, MAX_SHOWN_BYTES)].map((b) => b.toString(16).padStart(2, '0')).join(' ') +
      (bytes.length > MAX_SHOWN_BYTES ? ' …' : '');
    const effects = [...registerChanges(trace, p + 1), ...(writesAt.get(p) ?? []).map(formatWrite)];
    const line = `#${String(p).padStart(6, '0')}  0x${pc.toString(16)}  ${shownBytes.padEnd(BYTES_COLUMN)}${(version?.text ?? '(no code)').padEnd(TEXT_COLUMN)}${effects.join(' ')}`;
    lines.push(line.trimEnd());
    for (const s of syscallsAt.get(p) ?? []) lines.push(`  syscall ${formatSyscall(s)}`);
    for (const e of eventsAt.get(p) ?? []) lines.push(`  ${e.kind}: ${JSON.stringify(e.data)}`);
  }
  if (limit < trace.steps) lines.push(`… ${trace.steps - limit} more instructions (--limit)`);
  for (const e of trace.events.filter((ev) => ev.step >= trace.steps)) lines.push(`  ${e.kind}: ${JSON.stringify(e.data)}`);
  const endPc = `0x${trace.pc[trace.steps]!.toString(16)}`;
  lines.push(trace.end.error === null ? `end  pc=${endPc}` : `end  pc=${endPc}  error: ${trace.end.error}`);
  return lines.join('\n');
}

function registerChanges(trace: Trace, position: number): string[] {
  const changes = trace.regs[position] ?? [];
  const out: string[] = [];
  for (let i = 0; i < changes.length; i += 2) {
    const reg = trace.registers[changes[i] as number]!;
    const value = changes[i + 1] as string;
    out.push(`${reg.name}=${reg.kind === 'bytes' ? bytesAsNumber(value) : value}`);
  }
  return out;
}

/** Little-endian register bytes as one hex number (`0000c0f83f…` → `0x3ff8c00000…`). */
function bytesAsNumber(hex: string): string {
  let s = '';
  for (let i = hex.length - 2; i >= 0; i -= 2) s += hex.slice(i, i + 2);
  return `0x${s.replace(/^0+(?=.)/, '')}`;
}

function formatWrite([, address, , newHex]: [number, number, string, string]): string {
  const size = newHex.length / 2;
  const where = `[0x${address.toString(16)}]`;
  if (size <= 8) return `${where}=${bytesAsNumber(newHex)}`;
  const shown = newHex.slice(0, MAX_SHOWN_WRITE * 2);
  return `${where}=${shown}${size > MAX_SHOWN_WRITE ? '…' : ''}(${size} bytes)`;
}

/** `write(1, 0x55555555a2a0, 12) = 12`, `openat(-100, 0x…, 0) = -2 ENOENT`. */
export /** `__printf_fp_l+0x1c (libc.so.6)`: the name, the offset when not 0, and the object's file name. */
function functionLabel(fn: TraceFunction, offset: number): string {
  const file = fn.object.split('/').pop();
  return `${fn.name}${offset ? `+0x${offset.toString(16)}` : ''}${file ? ` (${file})` : ''}`;
}

function formatSyscall(s: TraceSyscall): string {
  const arity = SYSCALL_ARITY[s.name] ?? s.args.length;
  const args = s.args.slice(0, arity).map(formatArgument);
  const result = Number(s.result);
  const errno = result < 0 && result > -4096 ? ERRNO_NAMES.get(-result) : undefined;
  return `${s.name}(${args.join(', ')}) = ${s.result}${errno ? ` ${errno}` : ''}`;
}

function formatArgument(hex: string): string {
  const value = BigInt(hex);
  if (value < 0x10000n) return value.toString();
  // small negative numbers (AT_FDCWD = -100) in 32 or 64 bits
  for (const bits of [32, 64]) {
    const signed = BigInt.asIntN(bits, value);
    if (value < 1n << BigInt(bits) && signed < 0n && signed > -0x10000n) return signed.toString();
  }
  return hex;
}

function formatSize(bytes: number): string {
  return bytes < 1024 ? `${bytes} B` : `${(bytes / 1024).toFixed(1)} KiB`;
}

function groupBy<T>(items: T[], key: (item: T) => number): Map<number, T[]> {
  const map = new Map<number, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}
