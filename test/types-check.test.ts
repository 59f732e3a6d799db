/**
 * The ABI checker and a _Complex long double result (AMD64 psABI §3.2.3: COMPLEX_X87, in st0 and st1): a callee that
 * leaves both parts is clean and its value exact; one that leaves only the real part breaks x87-stack, and the
 * message says that two values were due (fixtures/abi/types, hand-written assembly).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactJson } from '../src/cli/call.ts';
import type { Violation } from '../src/check/rules.ts';
import { Machine } from '../src/machine.ts';

const LIB = new URL('../fixtures/abi/types/libtypes-targets-amd64.so', import.meta.url).pathname;
const CLX = { kind: 'complex', of: 'long double' } as const;

describe('checked _Complex long double returns (amd64)', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ arch: 'amd64', check: true, libs: [LIB] });
  });
  afterAll(() => m?.close());

  it('st0 and st1 both returned: clean, and both parts exact', () => {
    const r = m.fn('libtypes-targets.so', '_Complex long double clx_ok(void)')();
    expect(r.abi).toEqual({ ok: true, violations: [] });
    expect(exactJson(CLX, r.returnBytes, 'amd64')).toEqual({ re: 'x87:3fffc000000000000000', im: 'x87:bffd8000000000000000' });
    expect(r.value).toEqual({ re: 1.5, im: -0.25 });
  });

  it('only st0 returned: x87-stack, expecting two values', () => {
    let violations: Violation[] = [];
    try {
      violations = m.fn('libtypes-targets.so', '_Complex long double clx_one(void)')().abi!.violations;
    } catch (error) {
      violations = (error as { abi?: { violations: Violation[] } }).abi?.violations ?? [];
    }
    expect(violations.map((v) => v.rule)).toContain('x87-stack');
    expect(violations.find((v) => v.rule === 'x87-stack')!.message).toMatch(/clx_one returns a _Complex long double in st0 and st1, so exactly 2 values must be on the x87 stack at return; found 1/);
  });
});
