/**
 * Finding steps in a recorded trace, the way a student uses gdb: the next (or previous) instruction whose text or
 * function matches a search, and breakpoints (an address, or a function's entry by name) to continue to.
 */
import { symbolize, type Session } from './session.ts';

export type Direction = 1 | -1;

/** A breakpoint as the student typed it, resolved to an address when it names a known function. */
export interface Breakpoint {
  label: string;
  address: number;
}

export class BreakpointError extends Error {
  override name = 'BreakpointError';
}

/** `0x7ffff7e40c10`, `7ffff7e40c10` or a function name the trace knows (`snprintf`, `__printf_fp`). */
export function parseBreakpoint(s: Session, input: string): Breakpoint {
  const text = input.trim();
  if (!text) throw new BreakpointError('type an address (0x…) or the name of a function in this trace');
  if (/^(0x)?[0-9a-f]+$/i.test(text) && /\d/.test(text)) {
    const address = Number.parseInt(text.replace(/^0x/i, ''), 16);
    return { label: `0x${address.toString(16)}`, address };
  }
  const symbol = s.symbols.find((sym) => sym.name === text || sym.name.startsWith(`${text}@`));
  if (!symbol) {
    throw new BreakpointError(`no function "${text}" in this trace: breakpoints take an address (0x…) or a function the call entered`);
  }
  return { label: symbol.name, address: symbol.address };
}

/** The nearest step after (or before) `from` whose pc is one of `addresses`; undefined when there is none. */
export function findBreakpoint(s: Session, from: number, direction: Direction, addresses: number[]): number | undefined {
  if (!addresses.length) return undefined;
  const wanted = new Set(addresses);
  const pc = s.player.trace.pc;
  for (let step = from + direction; step >= 0 && step < s.player.length; step += direction) {
    if (wanted.has(pc[step]!)) return step;
  }
  return undefined;
}

/** The nearest step after (or before) `from` whose instruction text or function contains `query` (any case). */
export function findText(s: Session, from: number, direction: Direction, query: string): number | undefined {
  const q = query.trim().toLowerCase();
  if (!q) return undefined;
  const p = s.player;
  for (let step = from + direction; step >= 0 && step < p.length; step += direction) {
    const pc = p.trace.pc[step]!;
    let text = '';
    try {
      text = s.disassembly ? p.instruction(step)?.text ?? '' : '';
    } catch {
      text = '';
    }
    if (text.toLowerCase().includes(q) || (symbolize(s.symbols, pc) ?? '').toLowerCase().includes(q)) return step;
  }
  return undefined;
}
