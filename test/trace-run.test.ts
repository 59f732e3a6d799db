/**
 * The playground's memory view and "run to" tools (web/memory-view.ts, web/trace-run.ts) on real recordings: the
 * bytes shown at a step are guest memory at that step, watchpoints stop right after the store, call and return stops
 * are where the depth changes. Expected values come from the recordings' own writes and from the call's result.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { call } from '../src/playground/api.ts';
import { openSession, type Session } from '../web/session.ts';
import type { CallResponse } from '../web/api.ts';
import { argumentValue, asciiByte, errnoAddress, MemoryExpressionError, memoryRows, parameterName, resolveMemoryTarget } from '../web/memory-view.ts';
import { findCall, findReturn, findWrite } from '../web/trace-run.ts';

const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const text = (s: Session, address: number, n: number) => memoryRows(s, address, n).flatMap((r) => r.bytes.map(asciiByte)).join('');

describe('memory view and run-to on recorded calls', () => {
  let snprintf: Session;
  let open: Session;
  let puts: Session;
  beforeAll(async () => {
    const a = (await call({ arch: 'amd64', library: 'libc.so.6', prototype: SNPRINTF, args: ['out:32', '32', '%d!', 'int:42'] })) as unknown as CallResponse;
    snprintf = await openSession('amd64', a);
    const b = (await call({ arch: 'i386', library: 'libc.so.6', prototype: 'int open(const char *path, int flags, ...)', args: ['/nonexistent/file', '0'] })) as unknown as CallResponse;
    open = await openSession('i386', b);
    const c = (await call({ arch: 'amd64', library: 'libc.so.6', prototype: 'int puts(const char *s)', args: ['hi'] })) as unknown as CallResponse;
    puts = await openSession('amd64', c);
  }, 120_000);

  it('resolves addresses, errno, arguments, functions, offsets and sizes; refuses the rest with a clear error', () => {
    const s = snprintf;
    const buf = argumentValue(s, 1)!;
    expect(resolveMemoryTarget(s, 'buf')).toEqual({ label: 'buf', address: buf, size: 1 });
    expect(resolveMemoryTarget(s, 'arg1 + 0x10, 8')).toEqual({ label: 'arg1+0x10', address: buf + 16, size: 8 });
    expect(resolveMemoryTarget(s, `0x${buf.toString(16)}`).address).toBe(buf);
    expect(resolveMemoryTarget(s, 'errno')).toMatchObject({ label: 'errno', size: 4, address: errnoAddress(s) });
    expect(resolveMemoryTarget(s, 'snprintf').address).toBe(s.symbols.find((x) => x.name === 'snprintf')!.address);
    expect(() => resolveMemoryTarget(s, 'nosuch')).toThrow(MemoryExpressionError);
    s.player.seek(s.entryStep!);
    expect(resolveMemoryTarget(s, 'rdi - 8, 8')).toEqual({ label: 'rdi-8', address: buf - 8, size: 8 });
    expect(() => resolveMemoryTarget(s, 'nosuch')).toThrow(/"nosuch" is not an address, errno, a register, an argument \(buf, n, fmt\), or a global or function this call touched/);
    expect(() => resolveMemoryTarget(s, 'buf, 0')).toThrow(/size after the comma/);
    expect(parameterName('const char *fmt')).toBe('fmt');
    expect(parameterName('int')).toBeUndefined();
  });

  it('shows the buffer as it was at each step, and run-to-next-write stops right after each store', () => {
    const s = snprintf;
    const buf = argumentValue(s, 1)!;
    const p = s.player;
    p.seek(s.entryStep!);
    expect(text(s, buf, 4)).not.toBe('42!.');
    // Walk the watchpoint through the buffer's first 4 bytes: every stop is just after a store into them.
    const stops: number[] = [];
    for (let at = s.entryStep!, w = findWrite(s, at, 1, buf, 4); w; w = findWrite(s, at, 1, buf, 4)) {
      expect(p.writesAt(w.step).some((x) => x.address < buf + 4 && x.address + x.new.length > buf)).toBe(true);
      stops.push(w.position);
      at = w.position;
    }
    expect(stops.length).toBeGreaterThan(0);
    p.seek(stops.at(-1)!);
    expect(text(s, buf, 4)).toBe('42!.'); // "42!" and its terminating NUL
    const rows = memoryRows(s, buf, 16);
    expect(rows[0]!.written.some(Boolean)).toBe(true); // the last store is marked
    // Backward from the end finds the same last store.
    expect(findWrite(s, p.length, -1, buf, 4)?.position).toBe(stops.at(-1));
    expect(findWrite(s, stops[0]!, -1, buf, 4)).toBeUndefined();
  });

  it('knows bytes the call only read (the format string) and errno even when untouched; unknown bytes stay unknown', () => {
    const s = snprintf;
    const fmt = argumentValue(s, 3)!;
    s.player.seek(s.entryStep!);
    expect(text(s, fmt, 4)).toBe('%d!.');
    const errno = memoryRows(s, errnoAddress(s)!, 4)[0]!.bytes;
    expect(errno.every((b) => b !== undefined)).toBe(true);
    expect(findWrite(s, 0, 1, errnoAddress(s)!, 4)).toBeUndefined(); // snprintf does not set errno
    expect(memoryRows(s, 0x1000, 16)[0]!.bytes.every((b) => b === undefined)).toBe(true);
  });

  it('runs to the write of errno on i386 (a failed open): ENOENT after the store, the old value before', () => {
    const s = open;
    const target = resolveMemoryTarget(s, 'errno');
    const w = findWrite(s, 0, 1, target.address, target.size)!;
    expect(w).toBeDefined();
    s.player.seek(w.position);
    expect(memoryRows(s, target.address, 4)[0]!.bytes).toEqual([2, 0, 0, 0]); // ENOENT
    expect(s.result.errno).toBe(2);
    s.player.seek(w.step);
    expect(memoryRows(s, target.address, 4)[0]!.bytes).not.toEqual([2, 0, 0, 0]);
  });

  it('runs to the next and previous call and return', () => {
    const s = snprintf;
    const p = s.player;
    const call = findCall(s, s.mainRun.start, 1)!;
    expect(call).toBe(s.entryStep); // the first call of the run is the trampoline's call of snprintf
    expect(p.instruction(call - 1)?.text).toMatch(/^call /);
    const inner = findCall(s, call, 1)!;
    expect(p.depth(inner)).toBe(p.depth(call) + 1);
    const back = findReturn(s, inner, 1)!;
    expect(p.instruction(back - 1)?.text).toMatch(/^ret/);
    expect(findCall(s, inner, -1)).toBe(call);
    expect(findReturn(s, back + 1, -1)).toBe(back);
    expect(findReturn(s, s.returnStep! - 1, 1)).toBe(s.returnStep); // snprintf's own return, back in the trampoline
    expect(findCall(s, s.returnStep!, 1)).toBeUndefined(); // the trampoline calls nothing after it
  });

  it('names the globals the call touched (puts: stdout\'s FILE) and watches them over their whole size', () => {
    const s = puts;
    const stdout = s.globals.find((g) => g.name === '_IO_2_1_stdout_');
    expect(stdout, s.globals.map((g) => g.name).join(' ')).toBeDefined();
    const target = resolveMemoryTarget(s, '_IO_2_1_stdout_');
    expect(target).toEqual({ label: '_IO_2_1_stdout_', address: stdout!.address, size: stdout!.size });
    expect(target.size).toBeGreaterThan(100); // a FILE and its vtable pointer
    const w = findWrite(s, 0, 1, target.address, target.size)!;
    expect(w).toBeDefined(); // puts updates the stream's pointers
    s.player.seek(w.step);
    expect(memoryRows(s, w.address, w.size).every((r) => r.bytes.every((b) => b !== undefined))).toBe(true);
  });
});
