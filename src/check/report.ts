/** Readable reports of ABI violations (for the CLI, the vitest matchers and the playground's text views). */
import type { Violation } from './rules.ts';

/** One block per violation: `✗ rule (severity, at entry|return) in fn ← caller`, the message, expected vs actual. */
export function formatViolations(violations: Violation[], indent = ''): string {
  return violations
    .map((v) => {
      const mark = v.severity === 'error' ? '✗' : '!';
      return [
        `${indent}${mark} ${v.rule} (${v.severity}, at ${v.at}) in ${v.function} ← ${v.caller}`,
        `${indent}  expected ${v.expected}, found ${v.actual}`,
        `${indent}  ${v.message}`,
      ].join('\n');
    })
    .join('\n');
}
