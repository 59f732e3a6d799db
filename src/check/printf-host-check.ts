/**
 * The host printf check applied to host calls: a variadic printf-family call's format, read from the arguments,
 * checked against its typed variadic arguments (printf-arguments.ts). Calls repeat, so the result is remembered per
 * call plan and format (plans are pure and outlive `reset()`, and so does this memo).
 */
import type { Arch } from '../emu/arch.ts';
import type { CallPlan } from '../callspec/plan.ts';
import { GuestPointer, type HostValue } from '../callspec/values.ts';
import { checkPrintfArguments, printfFormatIndex } from './printf-arguments.ts';
import type { Violation } from './rules.ts';

/** Longest format string read from guest memory (variadic callbacks' `format`, the host printf check). */
export const PRINTF_FORMAT_MAX = 4096;
/** Formats remembered per call plan by the host printf check before the memo starts over. */
const PRINTF_CHECKS_KEPT = 64;

export class PrintfHostCheck {
  /** Host printf checks per plan and format. */
  private readonly printfChecks = new WeakMap<CallPlan, Map<string, Violation[]>>();

  constructor(
    private readonly arch: Arch,
    private readonly readCString: (address: number, max: number) => string,
  ) {}

  /**
   * A variadic printf-family host call's format checked against its typed variadic arguments (printf-arguments.ts);
   * undefined when it is no such call or they agree. Remembered per plan and format: calls repeat.
   */
  warnings(plan: CallPlan, args: readonly HostValue[]): Violation[] | undefined {
    const spec = plan.spec;
    const index = printfFormatIndex(spec.function);
    if (index === undefined || index >= spec.args.length) return undefined;
    const value = args[index];
    const pointer = value instanceof GuestPointer ? value.address : typeof value === 'number' ? value : undefined;
    const format = typeof value === 'string' ? value : pointer ? this.readCString(pointer, PRINTF_FORMAT_MAX) : undefined;
    if (format === undefined) return undefined;
    let byFormat = this.printfChecks.get(plan);
    if (!byFormat || byFormat.size > PRINTF_CHECKS_KEPT) this.printfChecks.set(plan, (byFormat = new Map()));
    let found = byFormat.get(format);
    if (!found) {
      const passed = spec.args.filter((a) => a.variadic).map((a) => ({ index: a.index - 1, type: a.type })); // ArgSpec.index is 1-based
      byFormat.set(format, (found = checkPrintfArguments(spec.function, format, passed, this.arch)));
    }
    return found.length > 0 ? found.map((v) => ({ ...v })) : undefined;
  }
}
