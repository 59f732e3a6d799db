/**
 * A variadic callback (`int (*)(const char *, ...)`) cannot know its variadic arguments' types from its C type: each
 * call says them, through the host's `varargs` function of the fixed arguments, or a printf-style format argument.
 */
import { printfVariadicTypes } from '../check/printf-format.ts';
import { PRINTF_FORMAT_MAX } from '../check/printf-host-check.ts';
import type { VariadicTypes } from './callback.ts';
import type { CType } from './types.ts';
import { ArgumentError, type DecodedValue } from './values.ts';

/** For a variadic callback type (`int (*)(const char *, ...)`): how to learn one call's variadic types. */
export interface CallbackOptions {
  /** The C type names of the variadic arguments, from the fixed arguments (decoded), e.g. `(n) => Array(n).fill('double')`. */
  varargs?: (...fixed: DecodedValue[]) => readonly string[];
  /** Or the index of the fixed `const char *` printf-style format argument that says them (`%d %s %f`). */
  format?: number;
}

/** A variadic callback's per-call description of its variadic types (see CallbackOptions). */
export function variadicTypes(
  type: string, options: CallbackOptions, parseType: (name: string) => CType, readCString: (address: number, max: number) => string,
): VariadicTypes | undefined {
  const { varargs, format } = options;
  if (varargs && format !== undefined) throw new ArgumentError(`callback ${type}: give either varargs or format, not both`);
  if (varargs) {
    const parsed = new Map<string, CType>();
    const parse = (name: string) => {
      let t = parsed.get(name);
      if (!t) parsed.set(name, (t = parseType(name)));
      return t;
    };
    return (fixed) => varargs(...fixed).map(parse);
  }
  if (format === undefined) return undefined;
  return (fixed) => {
    const pointer = fixed[format];
    if (typeof pointer !== 'number') throw new ArgumentError(`callback ${type}: argument ${format} is not a format string pointer (got ${String(pointer)})`);
    const text = readCString(pointer, PRINTF_FORMAT_MAX);
    const types = printfVariadicTypes(text);
    if (!types) throw new ArgumentError(`callback ${type}: the format ${JSON.stringify(text)} uses positional arguments (%1$d), which cannot be followed; pass { varargs } instead`);
    return types;
  };
}
