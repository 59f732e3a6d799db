/**
 * The ABI checker under calling conventions (fixtures/abi/conventions, hand-written assembly): a stdcall callee
 * must pop its arguments, a fastcall/stdcall caller must not clean up cdecl-style, an ms_abi caller must reserve
 * the 32-byte shadow space and an ms_abi callee must keep rsi — each broken case caught under its rule with the
 * convention named, each correct twin clean. Also: host calls and callbacks of each convention pass clean.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Violation } from '../src/check/rules.ts';
import { Machine } from '../src/machine.ts';

const DIR = new URL('../fixtures/abi/conventions/', import.meta.url).pathname;

const DECLS = {
  i386: `int __attribute__((stdcall)) std_pops(int a, int b, int c);
int __attribute__((stdcall)) std_no_pop(int a, int b, int c);
int __attribute__((fastcall)) fast_sub(int a, int b, int c);`,
  amd64: `long __attribute__((ms_abi)) ms_sum5(long a, long b, long c, long d, long e);
long __attribute__((ms_abi)) ms_clobber_rsi(long a);`,
};

function violationsOf(run: () => { abi?: { violations: Violation[] } }): Violation[] {
  try {
    return run().abi!.violations;
  } catch (error) {
    const abi = (error as { abi?: { violations: Violation[] } }).abi;
    if (!abi) throw error;
    return abi.violations;
  }
}

describe('convention rules on i386', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ arch: 'i386', check: true, decls: DECLS.i386, libs: [`${DIR}libconv-targets-i386.so`, `${DIR}libconv-shims-i386.so`] });
  });
  afterAll(() => m?.close());

  it('host calls of stdcall and fastcall functions are clean and right', () => {
    const std = m.fn('libconv-targets.so', 'int __attribute__((stdcall)) std_pops(int a, int b, int c)')(10, 3, 5);
    expect([std.value, std.abi]).toEqual([12, { ok: true, violations: [] }]);
    const fast = m.fn('libconv-targets.so', 'int __fastcall fast_sub(int a, int b, int c)')(10, 3, 5);
    expect([fast.value, fast.abi]).toEqual([12, { ok: true, violations: [] }]);
  });

  it('callee-pop: a stdcall callee that returns with a plain ret', () => {
    const v = violationsOf(() => m.fn('libconv-targets.so', 'int __attribute__((stdcall)) std_no_pop(int a, int b, int c)')(10, 3, 5));
    expect(v.map((x) => x.rule)).toEqual(['callee-pop']);
    expect(v[0]!.message).toMatch(/std_no_pop is stdcall, so it must remove its 12 bytes of stack arguments itself with `ret \$12`, but it returned with a plain `ret`/);
    expect(v[0]!.message).toMatch(/\(i386, stdcall\)\.$/);
  });

  it('caller-cleanup: a caller that passes fastcall arguments on the stack, or cleans up after stdcall', () => {
    const shim = (name: string) => m.fn('libconv-shims.so', `int ${name}(void *f)`);
    expect(shim('fast_caller_ok')(m.address('fast_sub', 'libconv-targets.so'))).toMatchObject({ value: 12, abi: { ok: true, violations: [] } });
    expect(shim('std_caller_ok')(m.address('std_pops', 'libconv-targets.so'))).toMatchObject({ value: 12, abi: { ok: true, violations: [] } });

    const fast = violationsOf(() => shim('fast_caller_on_stack')(m.address('fast_sub', 'libconv-targets.so')));
    expect(fast.map((x) => [x.rule, x.function])).toEqual([['caller-cleanup', 'fast_sub']]);
    expect(fast[0]!.caller).toMatch(/^fast_caller_on_stack\+0x[0-9a-f]+ /);
    expect(fast[0]!.message).toMatch(/fast_sub is fastcall: it takes 4 bytes of arguments on the stack and pops them itself \(ret \$4\), but .*`add esp, 0x18`, removes 24 bytes .*`int a` in ecx, `int b` in edx/);

    const std = violationsOf(() => shim('std_caller_cdecl')(m.address('std_pops', 'libconv-targets.so')));
    expect(std.map((x) => [x.rule, x.function])).toEqual([['caller-cleanup', 'std_pops']]);
    expect(std[0]!.message).toMatch(/std_pops is stdcall.*its stack ends up 12 bytes too high/);
  });

  it('callbacks of each convention are called correctly by guest code: qsort through a stdcall-shaped wrapper', () => {
    // The stub a stdcall callback gets pops its arguments: a gcc-compiled stdcall caller (the invoker in
    // libconventions) is checked by the conventions corpus; here the checker sees the callback's own entry/return.
    const cb = m.callback('int (__stdcall *)(int, int, int)', (a, b, c) => (a as number) - (b as number) + (c as number));
    const r = m.fn('libconv-shims.so', 'int std_caller_ok(void *f)')(cb);
    expect(r.value).toBe(12);
    cb.free();
  });
});

describe('convention rules on amd64', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ arch: 'amd64', check: true, decls: DECLS.amd64, libs: [`${DIR}libconv-targets-amd64.so`, `${DIR}libconv-shims-amd64.so`] });
  });
  afterAll(() => m?.close());

  it('a host call of an ms_abi function is clean (the reference trampoline reserves the shadow space)', () => {
    const r = m.fn('libconv-targets.so', 'long __attribute__((ms_abi)) ms_sum5(long a, long b, long c, long d, long e)')(1, 2, 3, 4, 5);
    expect([r.value, r.abi]).toEqual([15, { ok: true, violations: [] }]);
  });

  it('shadow-space: an ms_abi caller that reserves no shadow space; its correct twin is clean', () => {
    const shim = (name: string) => m.fn('libconv-shims.so', `long ${name}(void *f)`);
    const sum5 = m.address('ms_sum5', 'libconv-targets.so');
    expect(shim('ms_caller_ok')(sum5)).toMatchObject({ value: 15, abi: { ok: true, violations: [] } });
    const v = violationsOf(() => shim('ms_caller_no_shadow')(sum5));
    expect(v[0]).toMatchObject({ rule: 'shadow-space', function: 'ms_sum5', at: 'entry' });
    expect(v[0]!.caller).toMatch(/^ms_caller_no_shadow\+0x[0-9a-f]+ /);
    expect(v[0]!.message).toMatch(/ms_sum5 is ms_abi: the 32 bytes above its return address .* are its shadow space.* did not reserve the shadow space/);
    expect(v[0]!.message).toMatch(/\(amd64, ms_abi\)\.$/);
  });

  it('callee-saved: an ms_abi callee must keep rsi (System V callees need not)', () => {
    const v = violationsOf(() => m.fn('libconv-targets.so', 'long __attribute__((ms_abi)) ms_clobber_rsi(long a)')(7));
    expect(v.map((x) => x.rule)).toEqual(['callee-saved']);
    expect(v[0]!.message).toMatch(/rsi changed from .* to 0x5a5a5a5a/);
    const sysv = m.fn('libconv-targets.so', 'long ms_clobber_rsi(long a)')(7);
    expect(sysv.abi!.violations.filter((x) => x.rule === 'callee-saved')).toEqual([]);
  });

  it('an ms_abi callback reads rcx, rdx, r8, r9 and the stack above the shadow space', () => {
    const cb = m.callback('long (__attribute__((ms_abi)) *)(long, long, long, long, long)', (a, b, c, d, e) =>
      (a as number) * 10000 + (b as number) * 1000 + (c as number) * 100 + (d as number) * 10 + (e as number));
    expect(m.fn('libconv-shims.so', 'long ms_caller_ok(void *f)')(cb)).toMatchObject({ value: 12345, abi: { ok: true, violations: [] } });
    cb.free();
  });
});
