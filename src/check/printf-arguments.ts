/**
 * The host-side printf check: a printf-family call made from the host (`snprintf(out(64), 64, '%f', vararg.int(1))`)
 * passes its variadic arguments with explicit types, and the format says the types the callee will `va_arg`. Each
 * conversion is matched with the argument it consumes (printf-format.ts); a missing argument, one of another kind
 * (an int for `%f`, a double for `%d`, an int for `%s`) or an integer of another size (an int for `%ld` on amd64)
 * is a `printf-format` warning naming the argument and the conversion. Pure.
 */
import type { Arch } from '../emu/arch.ts';
import { sizeOf, typeName } from '../callspec/layout.ts';
import type { CType } from '../callspec/types.ts';
import { PRINTF_FORMAT_INDEX, printfConversions } from './printf-format.ts';
import { RULES, type Violation } from './rules.ts';

/** A variadic argument as the host passed it. */
export interface PassedArgument {
  /** Its parameter index (0-based) in the call. */
  index: number;
  type: CType;
}

type Kind = 'integer' | 'double' | 'long double' | 'pointer' | 'struct or union';

function kindOf(type: CType): Kind | undefined {
  switch (type.kind) {
    case 'int': case 'enum': return 'integer';
    case 'float': return type.name === 'long double' ? 'long double' : 'double';
    case 'pointer': case 'array': case 'function': return 'pointer';
    case 'struct': case 'union': return 'struct or union';
    default: return undefined;
  }
}

/** What `passed` is, when it cannot be read as `expected` (same kind, and for integers the same size, can). */
function mismatch(expected: CType, passed: CType, arch: Arch): string | undefined {
  const want = kindOf(expected);
  if (want !== kindOf(passed)) return article(typeName(passed));
  if (want === 'integer' && sizeOf(expected, arch) !== sizeOf(passed, arch)) {
    return `${article(typeName(passed))} (${sizeOf(passed, arch)} bytes on ${arch}, the conversion reads ${sizeOf(expected, arch)})`;
  }
  return undefined;
}

/** The format parameter's index for a printf-family function (undefined for others). */
export function printfFormatIndex(name: string): number | undefined {
  return Object.hasOwn(PRINTF_FORMAT_INDEX, name) ? PRINTF_FORMAT_INDEX[name] : undefined;
}

/**
 * The printf-format warnings for a host call of `fn` with `format` and the variadic arguments `passed` (in order).
 * Empty when they agree, or when the format uses positional arguments (`%1$d`), which this does not follow.
 */
export function checkPrintfArguments(fn: string, format: string, passed: readonly PassedArgument[], arch: Arch): Violation[] {
  const conversions = printfConversions(format);
  if (!conversions) return [];
  const found: Violation[] = [];
  const warn = (expected: string, actual: string, what: string) => {
    found.push({
      rule: 'printf-format', severity: 'warning', function: fn, caller: 'the host', arch, at: 'entry', expected, actual,
      message: `printf-format: ${what}. Rule: ${RULES['printf-format'].statement[arch]}. In the call to ${fn} from the host (${arch}).`,
    });
  };
  conversions.forEach((conversion, i) => {
    const argument = passed[i];
    const expected = typeName(conversion.type);
    if (!argument) {
      warn(expected, 'no argument', `the format's conversion ${conversion.text} (its ${ordinal(i + 1)}) reads ${article(expected)}, but no argument was passed for it: the callee reads whatever is in the next register or stack slot`);
      return;
    }
    const why = mismatch(conversion.type, argument.type, arch);
    if (why) {
      warn(expected, typeName(argument.type), `argument ${argument.index + 1} (variadic #${i + 1}) is ${why}, but the format's conversion ${conversion.text} reads ${article(expected)}`);
    }
  });
  for (const extra of passed.slice(conversions.length)) {
    warn('no argument', typeName(extra.type), `argument ${extra.index + 1} (${article(typeName(extra.type))}) is not used by the format ${JSON.stringify(format)}`);
  }
  return found;
}

/** "an int", "a double". */
function article(name: string): string {
  return `${/^[aeiou]/.test(name) ? 'an' : 'a'} ${name}`;
}

function ordinal(n: number): string {
  const suffix = n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th';
  return `${n}${suffix}`;
}
