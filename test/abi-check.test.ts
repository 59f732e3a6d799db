/**
 * The ABI checker against deliberately broken shims and callees written in assembly (fixtures/abi, both
 * architectures): each broken one is caught under the right rule, each correct twin passes clean, and the
 * shim-under-test diff names the misplaced argument. fixtures/abi/build.sh verified every expectation on real
 * x86 hardware first.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import { abiMatchers, formatAbiCaseResults, runAbiCases } from '../src/check/suite.ts';
import type { RuleId } from '../src/check/rules.ts';
import { out, type HostValue } from '../src/callspec/values.ts';
import { Machine } from '../src/machine.ts';

expect.extend(abiMatchers);

interface FixtureFunction {
  library: string;
  function: string;
  prototype: string;
  twin: string | null;
  kind: 'callee' | 'shim' | 'shim-under-test';
  args: (number | string)[];
  expect: Record<Arch, RuleId[]>;
  target?: { library: string; function: string; prototype: string };
  expectDiff?: Record<Arch, { arg: number; expected: string; found: string }[]>;
}

const DIR = new URL('../fixtures/abi/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as {
  decls: string;
  libraries: Record<string, Record<Arch, string>>;
  functions: FixtureFunction[];
};

/** The struct declarations plus every target's prototype, so cross-object calls into them are checked. */
const DECLS = [manifest.decls, ...new Set(manifest.functions.flatMap((f) => (f.target ? [f.target.prototype] : [])))].join('\n');

function hostArgs(args: (number | string)[]): HostValue[] {
  return args.map((a) => (typeof a === 'string' && /^out:\d+$/.test(a) ? out(Number(a.slice(4))) : a));
}

for (const arch of ARCHES) {
  describe(`ABI checker on ${arch}`, () => {
    let m: Machine;
    beforeAll(async () => {
      const lib = (name: string) => new URL(manifest.libraries[name]![arch], DIR).pathname;
      m = await Machine.boot({ arch, check: true, decls: DECLS, libs: [lib('libabi-targets.so'), lib('libabi-callees.so'), lib('libabi-shims.so')] });
    });
    afterAll(() => m?.close());

    for (const f of manifest.functions.filter((x) => x.kind !== 'shim-under-test')) {
      const expected = [...f.expect[arch]].sort();
      it(`${f.function}: ${expected.length ? expected.join(', ') : 'clean'}`, () => {
        const [result] = runAbiCases(m, [{ library: f.library, prototype: f.prototype, args: hostArgs(f.args), expect: expected }]);
        // A fault is allowed only after the violation that explains it (amd64's misaligned snprintf may fault).
        if (result!.error) expect(expected.length, String(result!.error)).toBeGreaterThan(0);
        expect(result!.rules, formatAbiCaseResults([result!])).toEqual(expected);
        for (const v of result!.violations) {
          expect(v).toMatchObject({ arch, severity: v.rule === 'narrow-int-extension' ? 'warning' : 'error' });
          expect(v.message).toContain(v.rule);
          expect(v.message.length).toBeGreaterThan(80); // says what the rule is, what was found and where
        }
      });
    }

    it('names the caller of a cross-object call and the callee', () => {
      const r = m.fn('libabi-shims.so', 'int shim_snprintf_misaligned(char *buf, unsigned long n, const char *fmt, double x)');
      let violations;
      try {
        violations = r(out(64), 64, '%f', 1.5).abi!.violations;
      } catch (error) {
        violations = (error as { abi: { violations: { rule: string; function: string; caller: string }[] } }).abi.violations;
      }
      const v = violations.find((x) => x.rule === 'stack-alignment' && x.function === 'snprintf')!;
      expect(v.caller).toMatch(/^shim_snprintf_misaligned\+0x[0-9a-f]+ \(.*libabi-shims-.*\.so\)$/);
    });

    it('the vitest matchers read the report', () => {
      expect(m.fn('libabi-callees.so', 'int keep_callee_saved(int x)')(42)).toConformToAbi();
      expect(m.fn('libabi-callees.so', 'int clobber_callee_saved(int x)')(42)).toViolateAbiRule('callee-saved', 'clobber_callee_saved');
      expect(m.fn('libabi-callees.so', 'int clobber_callee_saved(int x)')(42)).not.toConformToAbi();
    });

    it('a clean libc call has an empty report', () => {
      const r = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)')(out(64), 64, '%f %d', 1.5, 7);
      expect(r.abi).toEqual({ ok: true, violations: [] });
    });

    for (const f of manifest.functions.filter((x) => x.kind === 'shim-under-test')) {
      const expectedDiffs = f.expectDiff?.[arch] ?? [];
      it(`shim under test ${f.function}: ${expectedDiffs.length ? 'arguments misplaced' : 'arguments in place'}`, () => {
        const r = m.testShim({ shim: f.function, library: f.library, prototype: f.target!.prototype, targetLibrary: f.target!.library, args: hostArgs(f.args) });
        expect(r.reached).toBe(true);
        expect(r.diffs.map((d) => ({ arg: d.index + 1, expected: d.expectedIn, found: d.foundIn[0] }))).toEqual(expectedDiffs);
        expect(r.ok).toBe(expectedDiffs.length === 0);
        for (const d of r.diffs) expect(d.message).toMatch(new RegExp(`^arg ${d.index + 1} .* expected in ${d.expectedIn.replace('+', '\\+')}, found in ${d.foundIn[0]!.replace('+', '\\+')}`));
      });
    }
  });
}
