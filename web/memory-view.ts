/**
 * The memory view's logic: what an address expression names, and guest memory as hex + ASCII rows at the player's
 * current position. Every byte shown is exact: the trace knows every byte the call read or wrote (the playground
 * records loads too), the argument block the host prepared, the TLS header and errno; bytes it does not know are
 * shown as unknown, never guessed.
 *
 * Expressions: `0x7ffff7dd1000` (or bare hex with a digit), `errno` (the calling thread's), an argument by name
 * (`buf`: the value it had at the callee's entry, i.e. where the pointer points) or by position as `arg1`, `arg2`… (1-based, as the plan numbers them), a function
 * the trace knows, a global variable the call touched (watched over its whole size: `_IO_2_1_stdout_`), or an
 * integer register (its value at the current step: `rsp + 0x28`); each optionally `+ offset` / `- offset` (hex or decimal), and `, size` for the watched width.
 */
import { type Session, POINTER_SIZE, SP } from './session.ts';

export class MemoryExpressionError extends Error {
  override name = 'MemoryExpressionError';
}

/** What an expression resolved to: the address, the width a watchpoint on it covers, and how to name it. */
export interface MemoryTarget {
  label: string;
  address: number;
  size: number;
}

/** Bytes per row (8 keeps address, hex and ASCII within the state column), and bytes, of the view. */
export const ROW_BYTES = 8;
export const VIEW_BYTES = 64;
/** Widest watched range (a `, size` suffix). */
export const MAX_WATCH_BYTES = 1 << 16;
const ERRNO_SIZE = 4;

const NUMBER = /^(0x[0-9a-f]+|\d+)$/i;

export function resolveMemoryTarget(s: Session, input: string): MemoryTarget {
  const text = input.trim();
  if (!text) throw new MemoryExpressionError('type an address (0x…), errno, an argument name (buf) or a function name');
  const sized = /^(.*?)\s*,\s*(\S+)$/.exec(text);
  const expression = sized ? sized[1]! : text;
  let size: number | undefined;
  if (sized) {
    size = NUMBER.test(sized[2]!) ? Number(sized[2]) : NaN;
    if (!(size >= 1 && size <= MAX_WATCH_BYTES)) throw new MemoryExpressionError(`the size after the comma must be a number of bytes from 1 to ${MAX_WATCH_BYTES}, got "${sized[2]}"`);
  }
  const offsetMatch = /^(.*?)\s*([+-])\s*(0x[0-9a-f]+|\d+)$/i.exec(expression);
  const base = (offsetMatch ? offsetMatch[1]! : expression).trim();
  const offset = offsetMatch ? (offsetMatch[2] === '-' ? -1 : 1) * Number(offsetMatch[3]) : 0;
  const named = baseAddress(s, base);
  const address = named.address + offset;
  if (address < 0) throw new MemoryExpressionError(`${text} is a negative address`);
  const label = offset ? `${named.label}${offsetMatch![2]}${offsetMatch![3]}` : named.label;
  return { label, address, size: size ?? named.size };
}

function baseAddress(s: Session, base: string): MemoryTarget {
  if (/^(0x)?[0-9a-f]+$/i.test(base) && /\d/.test(base)) {
    const address = Number.parseInt(base.replace(/^0x/i, ''), 16);
    return { label: `0x${address.toString(16)}`, address, size: 1 };
  }
  const register = s.player.trace.registers.find((r) => r.name === base && r.kind === 'int');
  if (register) {
    // A register names the address it holds at the current step (`rsp+0x28`): re-resolved as the student steps.
    return { label: base, address: Number(BigInt.asUintN(64, s.player.registerBigInt(base))), size: 1 };
  }
  if (base === 'errno') {
    const address = errnoAddress(s);
    if (address === undefined) throw new MemoryExpressionError('this call has no TLS layout, so errno\'s address is unknown (run it with the TLS watch on)');
    return { label: 'errno', address, size: ERRNO_SIZE };
  }
  const arg = s.spec.args.find((a) => parameterName(a.text) === base) ?? (/^arg(\d+)$/.exec(base) ? s.spec.args.find((a) => a.index === Number(base.slice(3))) : undefined);
  if (arg) {
    const value = argumentValue(s, arg.index);
    if (value === undefined) throw new MemoryExpressionError(`the value of ${base} at the callee's entry is not in this trace`);
    return { label: base, address: value, size: 1 };
  }
  const global = s.globals.find((g) => g.name === base);
  if (global) return { label: global.name, address: global.address, size: Math.min(Math.max(global.size ?? 1, 1), MAX_WATCH_BYTES) };
  const symbol = s.symbols.find((sym) => sym.name === base || sym.name.startsWith(`${base}@`));
  if (symbol) return { label: symbol.name, address: symbol.address, size: 1 };
  const names = s.spec.args.map((a) => parameterName(a.text)).filter((n): n is string => !!n);
  throw new MemoryExpressionError(`"${base}" is not an address, errno, a register, an argument (${names.length ? names.join(', ') : 'none named'}), or a global or function this call touched`);
}

/** `char *buf` → `buf`; undefined for unnamed and variadic parameters. */
export function parameterName(text: string): string | undefined {
  const m = /([A-Za-z_]\w*)\s*(\[[^\]]*\])*\s*$/.exec(text);
  if (!m || /^variadic\b/.test(text) || text.trim() === m[1]) return undefined;
  return m[1];
}

/** errno of the thread the call ran on: the thread pointer at the call's start plus errno's offset in the layout. */
export function errnoAddress(s: Session): number | undefined {
  const layout = s.result.tls?.layout;
  if (!layout) return undefined;
  return withPlayerAt(s, s.mainRun.start, () => Number(s.player.registerBigInt(s.arch === 'amd64' ? 'fs_base' : 'gs_base'))) + (layout.errno - layout.threadPointer);
}

/** An integer or pointer argument's value at the callee's entry (undefined when its location is not known). */
export function argumentValue(s: Session, index: number): number | undefined {
  const arg = s.spec.args.find((a) => a.index === index);
  const l = arg?.locations[0];
  if (!arg || !l || s.entryStep === undefined) return undefined;
  return withPlayerAt(s, s.entryStep, () => {
    if (l.kind === 'reg') return /^(xmm|st)/.test(l.reg) ? undefined : Number(BigInt.asUintN(64, s.player.registerBigInt(l.reg)));
    const sp = Number(s.player.registerBigInt(SP[s.arch]));
    const { bytes, known } = s.player.peek(sp + POINTER_SIZE[s.arch] + l.stackOffset, POINTER_SIZE[s.arch]);
    return known.every((k) => k === 1) ? bytes.reduceRight((acc, b) => acc * 256 + b, 0) : undefined;
  });
}

function withPlayerAt<T>(s: Session, at: number, read: () => T): T {
  const here = s.player.step;
  s.player.seek(at);
  try {
    return read();
  } finally {
    s.player.seek(here);
  }
}

/** One row of the view: per byte its value (undefined = unknown to the trace) and whether the last step wrote it. */
export interface MemoryRow {
  address: number;
  bytes: (number | undefined)[];
  written: boolean[];
}

/** `VIEW_BYTES` bytes from `address` at the player's current position; `written` marks what the previous instruction stored. */
export function memoryRows(s: Session, address: number, length = VIEW_BYTES): MemoryRow[] {
  const p = s.player;
  const { bytes, known } = p.peek(address, length);
  const written = new Uint8Array(length);
  if (p.step > 0) {
    for (const w of p.writesAt(p.step - 1)) {
      for (let i = Math.max(w.address, address); i < Math.min(w.address + w.new.length, address + length); i++) written[i - address] = 1;
    }
  }
  const rows: MemoryRow[] = [];
  for (let r = 0; r < length; r += ROW_BYTES) {
    const n = Math.min(ROW_BYTES, length - r);
    rows.push({
      address: address + r,
      bytes: Array.from({ length: n }, (_, i) => (known[r + i] ? bytes[r + i] : undefined)),
      written: Array.from({ length: n }, (_, i) => written[r + i] === 1),
    });
  }
  return rows;
}

/** A byte as two hex digits, `??` when unknown. */
export function hexByte(b: number | undefined): string {
  return b === undefined ? '??' : b.toString(16).padStart(2, '0');
}

/** A byte as an ASCII character: printable as itself, others `.`, unknown ` `. */
export function asciiByte(b: number | undefined): string {
  if (b === undefined) return ' ';
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
}
