/**
 * For test suites: vitest matchers over call results, and a small API to run a table of ABI cases.
 *
 *   import { abiMatchers } from 'shimulator/check';   // src/check/suite.ts
 *   expect.extend(abiMatchers);
 *   const m = await Machine.boot({ arch: 'amd64', check: true, libs: ['./libshim.so'] });
 *   expect(m.fn(undefined, 'int my_shim(double x)')(1.5)).toConformToAbi();
 *   expect(m.fn(undefined, 'int broken(int x)')(1)).toViolateAbiRule('callee-saved');
 */
// The augmentation below needs vitest's types in the program (type-only: nothing of vitest loads at run time).
import type {} from 'vitest';
import type { HostValue } from '../callspec/values.ts';
import type { CallResult, Machine } from '../machine.ts';
import { formatViolations } from './report.ts';
import type { RuleId, Violation } from './rules.ts';

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

function reportOf(received: unknown): { violations: Violation[] } | undefined {
  const abi = (received as Partial<CallResult> | undefined)?.abi;
  return abi && Array.isArray(abi.violations) ? abi : undefined;
}

const NOT_CHECKED =
  'expected a call result with an ABI report: boot the machine with { check: true } (or set machine.checking = true)';

/** vitest/jest matchers: pass them to `expect.extend`. */
export const abiMatchers = {
  /** The call (and every cross-object call it made) broke no error-level ABI rule. */
  toConformToAbi(received: unknown): MatcherResult {
    const report = reportOf(received);
    if (!report) return { pass: false, message: () => NOT_CHECKED };
    const errors = report.violations.filter((v) => v.severity === 'error');
    return {
      pass: errors.length === 0,
      message: () =>
        errors.length === 0
          ? 'expected ABI violations, found none'
          : `expected the call to conform to the ABI, found ${errors.length} violation(s):\n${formatViolations(errors, '  ')}`,
    };
  },

  /** The call broke `rule` (optionally in `fn`). */
  toViolateAbiRule(received: unknown, rule: RuleId, fn?: string): MatcherResult {
    const report = reportOf(received);
    if (!report) return { pass: false, message: () => NOT_CHECKED };
    const hit = report.violations.some((v) => v.rule === rule && (fn === undefined || v.function === fn));
    const found = report.violations.length ? `\n${formatViolations(report.violations, '  ')}` : ' none';
    return {
      pass: hit,
      message: () => (hit ? `expected no ${rule} violation, but found:${found}` : `expected a ${rule} violation${fn ? ` in ${fn}` : ''}; found:${found}`),
    };
  },
};

interface AbiMatchers<R = unknown> {
  toConformToAbi(): R;
  toViolateAbiRule(rule: RuleId, fn?: string): R;
}

declare module 'vitest' {
  // vitest 3.2's extension point for custom matchers (the `any` default is vitest's own).
  interface Matchers<T = any> extends AbiMatchers<T> {}
}

/** One row of an ABI conformance suite. */
export interface AbiCase {
  name?: string;
  /** Where the function is (soname or path), or undefined for the global scope. */
  library?: string;
  prototype: string;
  args: HostValue[];
  /** The rules this call must break (empty or omitted: it must be clean). */
  expect?: RuleId[];
}

export interface AbiCaseResult {
  case: AbiCase;
  pass: boolean;
  /** The rules found, sorted and without duplicates. */
  rules: RuleId[];
  violations: Violation[];
  error?: Error;
}

/** Runs each case with checking on and compares the rules it broke with the ones it should break. */
export function runAbiCases(machine: Machine, cases: AbiCase[]): AbiCaseResult[] {
  const wasChecking = machine.checking;
  machine.checking = true;
  try {
    return cases.map((c) => {
      const expected = [...new Set(c.expect ?? [])].sort();
      let violations: Violation[] = [];
      let error: Error | undefined;
      try {
        violations = machine.fn(c.library, c.prototype)(...c.args).abi?.violations ?? [];
      } catch (e) {
        error = e as Error;
        violations = (e as { abi?: { violations: Violation[] } }).abi?.violations ?? [];
      }
      const rules = [...new Set(violations.map((v) => v.rule))].sort();
      const pass = !error && rules.length === expected.length && rules.every((r, i) => r === expected[i]);
      return { case: c, pass, rules, violations, error };
    });
  } finally {
    machine.checking = wasChecking;
  }
}

/** A readable summary: one line per case, with the violations of failing cases. */
export function formatAbiCaseResults(results: AbiCaseResult[]): string {
  const lines = results.map((r) => {
    const name = r.case.name ?? r.case.prototype;
    const wanted = r.case.expect?.length ? r.case.expect.join(', ') : 'clean';
    const got = r.error ? `error: ${r.error.message}` : r.rules.length ? r.rules.join(', ') : 'clean';
    const head = `${r.pass ? '✓' : '✗'} ${name}: expected ${wanted}, got ${got}`;
    return r.pass || r.violations.length === 0 ? head : `${head}\n${formatViolations(r.violations, '    ')}`;
  });
  const passed = results.filter((r) => r.pass).length;
  lines.push(`${passed} of ${results.length} ABI cases as expected`);
  return lines.join('\n');
}
