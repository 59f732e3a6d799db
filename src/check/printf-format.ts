/**
 * For variadic calls made by guest code, the callee cannot be told the variadic types — but for the printf family
 * the format string says them. This reads a format and counts the arguments that travel in vector registers on
 * amd64 (double conversions without `L`), which is what %al must cover.
 */
import type { CType, IntKind } from '../callspec/types.ts';

/** printf-family functions and the index of their format parameter (fortified `__*_chk` variants included). */
export const PRINTF_FORMAT_INDEX: Readonly<Record<string, number>> = {
  printf: 0, fprintf: 1, dprintf: 1, sprintf: 1, snprintf: 2, asprintf: 1, syslog: 1,
  __printf_chk: 1, __fprintf_chk: 2, __dprintf_chk: 2, __sprintf_chk: 3, __snprintf_chk: 4, __asprintf_chk: 2,
};

/** Vector registers available for arguments on amd64 (xmm0–xmm7). */
export const SSE_ARGUMENT_REGISTERS = 8;

const FLOATING_CONVERSIONS = new Set(['f', 'F', 'e', 'E', 'g', 'G', 'a', 'A']);
const CONVERSION = /%(?:(\d+)\$)?[-+ #0']*(\*(?:\d+\$)?|\d+)?(?:\.(\*(?:\d+\$)?|\d*))?(hh|h|ll|l|L|q|j|z|Z|t)?([diouxXeEfFgGaAcspnCSm%])/g;

export interface FormatAnalysis {
  /** Doubles passed in vector registers (at most 8: the rest go on the stack). */
  vectorArguments: number;
  /** Human-readable reason, for messages. */
  reason: string;
}

/** Counts the double arguments a printf format consumes (long doubles go in memory and do not count). */
export function analysePrintfFormat(format: string): FormatAnalysis {
  let doubles = 0;
  for (const match of format.matchAll(CONVERSION)) {
    const [, , , , length, conversion] = match;
    if (conversion && FLOATING_CONVERSIONS.has(conversion) && length !== 'L') doubles++;
  }
  const vectorArguments = Math.min(doubles, SSE_ARGUMENT_REGISTERS);
  const shown = format.length > 40 ? `${format.slice(0, 37)}...` : format;
  return { vectorArguments, reason: `the format ${JSON.stringify(shown)} passes ${doubles} double${doubles === 1 ? '' : 's'}` };
}

const INT = (name: IntKind): CType => ({ kind: 'int', name });
const SIGNED_BY_LENGTH: Record<string, IntKind> = { hh: 'int', h: 'int', '': 'int', l: 'long', ll: 'long long', q: 'long long', j: 'long long', z: 'long', Z: 'long', t: 'long' };
const UNSIGNED_BY_LENGTH: Record<string, IntKind> = {
  hh: 'unsigned int', h: 'unsigned int', '': 'unsigned int', l: 'unsigned long', ll: 'unsigned long long', q: 'unsigned long long',
  j: 'unsigned long long', z: 'unsigned long', Z: 'unsigned long', t: 'unsigned long',
};
const VOID_POINTER: CType = { kind: 'pointer', to: { kind: 'void' } };

/** One argument a printf format consumes: the conversion that takes it (`%ld`, or `%*d` for a `*` width) and its type. */
export interface PrintfConversion {
  text: string;
  type: CType;
}

/**
 * The variadic arguments a printf format consumes, in order, with their C types after the default argument
 * promotions (`%hhd` → int, `%f` → double, `%Lf` → long double, `*` width → int). Undefined for formats it cannot
 * follow (positional `%1$d` arguments).
 */
export function printfConversions(format: string): PrintfConversion[] | undefined {
  const conversions: PrintfConversion[] = [];
  for (const match of format.matchAll(CONVERSION)) {
    const [text, position, width, precision, length = '', conversion] = match;
    if (position !== undefined || width?.includes('$') || precision?.includes('$')) return undefined;
    if (conversion === '%' || conversion === 'm') continue;
    if (width === '*') conversions.push({ text: `${text} (its * width)`, type: INT('int') });
    if (precision === '*') conversions.push({ text: `${text} (its * precision)`, type: INT('int') });
    conversions.push({ text, type: conversionType(conversion!, length) });
  }
  return conversions;
}

function conversionType(conversion: string, length: string): CType {
  switch (conversion) {
    case 'd': case 'i': return INT(SIGNED_BY_LENGTH[length] ?? 'int');
    case 'o': case 'u': case 'x': case 'X': return INT(UNSIGNED_BY_LENGTH[length] ?? 'unsigned int');
    case 'c': return INT(length === 'l' ? 'unsigned int' : 'int');
    case 'C': return INT('unsigned int');
    case 's': return length === 'l' ? VOID_POINTER : { kind: 'pointer', to: INT('char') };
    case 'S': case 'p': case 'n': return VOID_POINTER;
    default: return { kind: 'float', name: length === 'L' ? 'long double' : 'double' };
  }
}

/**
 * The C types of the variadic arguments a printf format consumes (see `printfConversions`), so that a caller's
 * variadic arguments can be decoded (the `--calls` view). Undefined for positional formats.
 */
export function printfVariadicTypes(format: string): CType[] | undefined {
  return printfConversions(format)?.map((c) => c.type);
}
