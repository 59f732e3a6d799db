/**
 * A readable table of a CallSpec: one line per argument (where it goes and why, in a few words), then the
 * return value, the stack and the hidden extras (%al, hidden return pointer, callee-popped bytes).
 */
import { describeLocations } from './classify-common.ts';
import { typeName } from './layout.ts';
import { shortReason } from './reason.ts';
import type { ArgSpec, CallSpec, Location } from './types.ts';

function where(locations: Location[], size: number): string {
  return describeLocations(locations, size);
}

function padColumns(rows: string[][]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ').trimEnd());
}

function argumentRow(arg: ArgSpec): string[] {
  const classes = arg.classes.length ? ` [${arg.classes.join(', ')}]` : '';
  return [`arg ${arg.index}`, arg.text, `→ ${where(arg.locations, arg.size)}`, `(${shortReason(arg.reason)})${classes}`];
}

/** The plan as a table, for `shimulator explain` and test failure messages. */
export function renderCallSpec(spec: CallSpec): string {
  const rows = spec.args.map(argumentRow);
  const ret = spec.ret;
  const returnWhere = ret.kind === 'void' ? 'nothing' : ret.kind === 'memory' ? 'memory' : where(ret.locations, ret.size);
  const returnNote = ret.kind === 'memory' ? `(through the hidden pointer; the callee returns its address in ${spec.arch === 'amd64' ? 'rax' : 'eax'})` : '';
  const returnClasses = ret.classes.length ? `[${ret.classes.join(', ')}]` : '';
  rows.push(['return', typeName(ret.type), `→ ${returnWhere}`, [returnNote, returnClasses].filter(Boolean).join(' ')]);
  const convention = spec.convention ? `, ${spec.convention}` : '';
  const lines = [`${spec.prototype}    (${spec.arch}${convention})`, ...padColumns(rows).map((line) => `  ${line}`)];
  if (spec.hiddenPointer) lines.push(`  hidden return pointer in ${where([spec.hiddenPointer], spec.hiddenPointer.size)}`);
  const shadow = spec.shadowSpace ? ` (the first ${spec.shadowSpace} are the callee's shadow space)` : '';
  lines.push(`  stack: ${spec.stackSize} bytes of arguments${shadow}, ${spec.stackAlign}-byte aligned at the call`);
  if (spec.al !== undefined) lines.push(`  %al = ${spec.al} (vector registers used by this variadic call)`);
  if (spec.calleePops) lines.push(`  callee pops ${spec.calleePops} bytes (ret $${spec.calleePops})${spec.convention ? `: ${spec.convention}` : ''}`);
  return lines.join('\n');
}
