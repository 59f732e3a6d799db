/**
 * Grouped reports: a whole program makes thousands of calls, and one broken trampoline breaks the same rule at the
 * same site thousands of times. `groupViolations` turns the checker's flat list into one group per
 * (rule, caller site, callee) with a count and the first occurrence in full, in first-seen order.
 *
 * Knock-on folding. A broken call often breaks more than one rule, and only the first is the bug. A violation V is
 * folded under an earlier violation P — counted in P's group's `folded`, not listed as a group of its own — when:
 *
 *   1. same call, entry → return: P and V were found in the same call (same `call` number, hence the same thread
 *      and edge), P at entry with severity error, V at return. A callee entered in a broken state (misaligned
 *      stack, DF set, x87 registers in use, %al short) can leave a broken state behind — a stack-pointer or
 *      callee-saved register off after code that realigned the stack, control words or x87 depth wrong after SSE
 *      code faulted into x87 paths — so return-time findings of that call are treated as symptoms. Not
 *      x87-empty-pop: it is about the caller's own code after the return, which no state of the callee explains.
 *   2. same call, x87-stack → x87-empty-pop: P is x87-stack at the return of the call, V the x87-empty-pop in the
 *      caller's next instructions: the caller pops the st0 the callee failed to return.
 *   3. inherited entry state: V was found at entry of a nested call with rule stack-alignment, direction-flag or
 *      x87-stack, and the same rule was broken at the entry of a call still open on the same thread when V's call
 *      was entered (`enclosing`). That state is simply still there: a callee entered misaligned calls on misaligned.
 *
 * Folding is transitive: V joins the group P itself was counted in (P's own group, or the one P was folded into).
 * Violations without a `call` number (reports from older traces) never fold. Warnings are never a cause (rule 1).
 */
import type { RuleId, Severity, Violation } from './rules.ts';

/** One group; also the JSON shape of grouped reports. */
export interface ViolationGroup {
  rule: RuleId;
  severity: Severity;
  function: string;
  caller: string;
  /** Violations in the group (not counting folded ones). */
  count: number;
  /** The first occurrence, in full. */
  first: Violation;
  /** Knock-on violations folded under this group, per rule, in first-seen order. */
  folded: { rule: RuleId; count: number }[];
}

/** Rules whose broken state is inherited by every call made while it lasts (folding rule 3). */
const INHERITED: ReadonlySet<RuleId> = new Set(['stack-alignment', 'direction-flag', 'x87-stack']);

interface CallGroups {
  /** The group of the call's first error-level entry violation (rule 1). */
  entry?: ViolationGroup;
  /** The group of its x87-stack violation at return (rule 2). */
  x87Return?: ViolationGroup;
  /** Groups of its entry violations of inherited rules (rule 3). */
  inherited?: Map<RuleId, ViolationGroup>;
}

/** The group an earlier violation makes `v` a knock-on of, by the folding rules above. */
function causeOf(v: Violation, calls: Map<number, CallGroups>): ViolationGroup | undefined {
  if (v.call === undefined) return undefined;
  const own = calls.get(v.call);
  if (v.at === 'return' && v.rule !== 'x87-empty-pop' && own?.entry) return own.entry;
  if (v.rule === 'x87-empty-pop' && own?.x87Return) return own.x87Return;
  if (v.at === 'entry' && INHERITED.has(v.rule)) {
    for (const id of v.enclosing ?? []) {
      const group = calls.get(id)?.inherited?.get(v.rule);
      if (group) return group;
    }
  }
  return undefined;
}

/** Groups violations by (rule, caller site, callee), folding knock-on violations (see the header comment). */
export function groupViolations(violations: readonly Violation[]): ViolationGroup[] {
  const groups = new Map<string, ViolationGroup>();
  const calls = new Map<number, CallGroups>();
  for (const v of violations) {
    const cause = causeOf(v, calls);
    let group: ViolationGroup;
    if (cause) {
      const folded = cause.folded.find((f) => f.rule === v.rule);
      if (folded) folded.count++;
      else cause.folded.push({ rule: v.rule, count: 1 });
      group = cause;
    } else {
      const key = `${v.rule}\0${v.caller}\0${v.function}`;
      const existing = groups.get(key);
      if (existing) existing.count++;
      else groups.set(key, { rule: v.rule, severity: v.severity, function: v.function, caller: v.caller, count: 1, first: v, folded: [] });
      group = existing ?? groups.get(key)!;
    }
    if (v.call === undefined) continue;
    // Remember what this violation can cause later in the same call or in calls nested in it.
    let call = calls.get(v.call);
    if (!call) calls.set(v.call, (call = {}));
    if (v.at === 'entry' && v.severity === 'error') call.entry ??= group;
    if (v.at === 'return' && v.rule === 'x87-stack') call.x87Return ??= group;
    if (v.at === 'entry' && INHERITED.has(v.rule)) {
      call.inherited ??= new Map();
      if (!call.inherited.has(v.rule)) call.inherited.set(v.rule, group);
    }
  }
  return [...groups.values()];
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * One block per group: `✗ stack-alignment ×1,234 in snprintf ← main.trampoline+0x1f (/path/prog)`, the first
 * occurrence's expected/actual and message, and the folded knock-ons.
 */
export function formatViolationGroups(groups: readonly ViolationGroup[], indent = ''): string {
  return groups
    .map((g) => {
      const lines = [
        `${indent}${g.severity === 'error' ? '✗' : '!'} ${g.rule} ×${count(g.count)} in ${g.function} ← ${g.caller}`,
        `${indent}  expected ${g.first.expected}, found ${g.first.actual} (first at ${g.first.at}${g.first.thread !== undefined ? `, thread ${g.first.thread}` : ''})`,
        `${indent}  ${g.first.message}`,
      ];
      if (g.folded.length) {
        lines.push(`${indent}  + folded as knock-on effects of it: ${g.folded.map((f) => `${f.rule} ×${count(f.count)}`).join(', ')}`);
      }
      return lines.join('\n');
    })
    .join('\n');
}
