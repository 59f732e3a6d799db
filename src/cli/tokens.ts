/**
 * CLI argument tokens → host values, by the parameter's C type:
 *   integers (`42`, `-1`, `0x1f`) for integer and pointer parameters; float literals for floating types;
 *   a plain string for `char *`; `out:N` for an N-byte zeroed out-buffer; `{a, b, …}` for a struct by value;
 *   `ret:ID` (batch) for an earlier call's return value; `TYPE:VALUE` for variadic arguments
 *   (int, uint, long, ulong, longlong, ulonglong, double, longdouble, float128, complexfloat, complexdouble,
 *   complexlongdouble, ptr, str).
 *   long double and __float128 take exact text (decimal, hex float) or raw `x87:` / `f128:` tokens; a `_Complex`
 *   parameter `{re, im}` (or one real number); a vector `{e0, e1, …}` (its elements, missing ones 0).
 */
import { MAX_DECLARATION_NESTING } from '../callspec/parse.ts';
import type { CType } from '../callspec/types.ts';
import { Float128 } from '../callspec/float128.ts';
import { BINARY64, numberOfBits, parseBinary } from '../callspec/ieee-binary.ts';
import { LongDouble } from '../callspec/long-double.ts';
import { ArgumentError, type HostValue, isCharPointer, OutBuffer, vararg, VARARG_PREFIXES } from '../callspec/values.ts';

export interface TokenContext {
  /** Return values of earlier batch calls, by id. */
  results?: Map<string, HostValue>;
}

const TYPED = new RegExp(`^(${VARARG_PREFIXES.join('|')}):(.*)$`, 's');
/** A struct or union through `...`: `struct pt:{1, 2.5}` (the tag is completed from the declarations). */
const TYPED_RECORD = /^(struct|union)\s+([A-Za-z_]\w*):(\{.*\})$/s;
const INTEGER = /^-?(0x[0-9a-f]+|\d+)$/i;
const HEX_FLOAT = /^[-+]?0x([0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(p[-+]?\d+)?$/i;

/** Parses the token for a fixed parameter of type `type`. */
export function parseToken(token: string, type: CType | undefined, position: number, context: TokenContext = {}): HostValue {
  const what = `argument ${position} ("${token}")`;
  const special = parseSpecial(token, what, context);
  if (special !== undefined) return special;
  if (type === undefined) {
    // A variadic argument: only explicitly typed tokens are accepted (C has no types for `...`).
    throw new ArgumentError(
      `${what} is variadic and needs a type prefix: ${VARARG_PREFIXES.map((p) => `${p}:`).join(' ')} (e.g. double:1.5), or struct TAG:{…} for a struct`,
    );
  }
  switch (type.kind) {
    case 'int':
    case 'enum':
      if (!INTEGER.test(token)) throw new ArgumentError(`${what}: expected an integer for ${describe(type)}`);
      return parseInteger(token);
    case 'float':
      // long double and __float128: exactly, from text or an x87: / f128: token (a double in between would round twice).
      if (type.name === 'long double' || type.name === '__float128') return exactFloat(type.name, token, what);
      // _Float16: the text itself (decimal or hex float), rounded once to binary16 when the value is encoded.
      if (type.name === '_Float16' && HEX_FLOAT.test(token)) return token;
      if (!/^[-+]?(\d+\.?\d*(e[-+]?\d+)?|\.\d+(e[-+]?\d+)?|inf(inity)?|nan)$/i.test(token)) {
        throw new ArgumentError(`${what}: expected a number for ${type.name}`);
      }
      if (type.name === '_Float16') return token;
      return Number(token.replace(/^([-+]?)inf(inity)?$/i, '$1Infinity'));
    case 'pointer':
      if (isCharPointer(type)) return token;
      if (INTEGER.test(token)) return parseInteger(token);
      throw new ArgumentError(`${what}: expected an address (integer), out:N, or ret:ID for a pointer parameter`);
    case 'struct':
    case 'union':
      if (!token.trim().startsWith('{')) throw new ArgumentError(`${what}: expected a struct value like {1, 2.5}`);
      return parseBraces(token, what);
    case 'complex':
      // {re, im}, or a real number (imaginary part 0); each part is text, converted exactly by the part's type.
      if (!token.trim().startsWith('{')) return token;
      return parseBraces(token, what);
    case 'vector':
      if (!token.trim().startsWith('{')) throw new ArgumentError(`${what}: expected the vector's elements like {1, 2, 3, 4}`);
      return parseBraces(token, what);
    default:
      throw new ArgumentError(`${what}: parameters of this type cannot be given on the command line`);
  }
}

function parseSpecial(token: string, what: string, context: TokenContext): HostValue | undefined {
  const outMatch = /^out:(.*)$/s.exec(token);
  if (outMatch) {
    // Not a string that happens to start with "out:": a size that is not a whole number is a mistake to report.
    if (!/^\d+$/.test(outMatch[1]!)) {
      throw new ArgumentError(`${what}: "out:${outMatch[1]}" is not an out-buffer size; write out:N with N a whole number of bytes, e.g. out:64`);
    }
    return new OutBuffer(Number(outMatch[1]));
  }
  const retMatch = /^ret:(.+)$/.exec(token);
  if (retMatch) {
    const value = context.results?.get(retMatch[1]!);
    if (value === undefined) {
      throw new ArgumentError(`${what}: no earlier call with id "${retMatch[1]}" in this batch (ret:ID refers to an earlier line's id)`);
    }
    return value;
  }
  const record = TYPED_RECORD.exec(token);
  if (record) return vararg[record[1] as 'struct' | 'union'](record[2]!, parseBraces(record[3]!, what));
  const typed = TYPED.exec(token);
  if (typed) {
    const [, prefix, text] = typed as unknown as [string, (typeof VARARG_PREFIXES)[number], string];
    if (prefix === 'str') return vararg.str(text);
    if (prefix === 'longdouble') return vararg.longdouble(exactFloat('long double', text, what) as LongDouble);
    if (prefix === 'float128') return vararg.float128(exactFloat('__float128', text, what) as Float128);
    // complexdouble:{1.5, -2} (or one real number): the parts are converted exactly by their type when encoded.
    if (prefix === 'complexfloat' || prefix === 'complexdouble' || prefix === 'complexlongdouble') {
      return vararg[prefix](text.trim().startsWith('{') ? parseBraces(text, what) : text);
    }
    if (prefix === 'double') {
      // A C hex float (double:0x1.8p+1) is exact too.
      const n = HEX_FLOAT.test(text.trim()) ? numberOfBits(parseBinary(BINARY64, text)) : Number(text);
      if (text.trim() === '' || Number.isNaN(n)) throw new ArgumentError(`${what}: "${text}" is not a number`);
      return vararg[prefix](n);
    }
    const nested = parseSpecial(text, what, context);
    if (nested !== undefined && prefix === 'ptr') return vararg.ptr(nested as number);
    if (!INTEGER.test(text)) throw new ArgumentError(`${what}: "${text}" is not an integer`);
    return (vararg[prefix] as (v: number | bigint) => HostValue)(parseInteger(text));
  }
  return undefined;
}

/** A long double or __float128 token, exactly (text correctly rounded, or raw x87: / f128: bytes). */
function exactFloat(name: 'long double' | '__float128', token: string, what: string): HostValue {
  try {
    return name === 'long double' ? LongDouble.parse(token) : Float128.parse(token);
  } catch (error) {
    throw new ArgumentError(`${what}: ${(error as Error).message}`);
  }
}

function parseInteger(token: string): number | bigint {
  const negative = token.startsWith('-');
  const big = BigInt(negative ? token.slice(1) : token) * (negative ? -1n : 1n);
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function describe(type: CType): string {
  return type.kind === 'int' ? type.name : type.kind;
}

/** Parses `{1, {2, 3}, "a, b"}` into nested arrays of strings (fields are converted by their types later). */
export function parseBraces(text: string, what = 'struct value'): HostValue[] {
  let i = 0;
  let depth = 0;
  const s = text.trim();
  const fail = (message: string): never => {
    throw new ArgumentError(`${what}: ${message} at character ${i + 1} of ${JSON.stringify(s)}`);
  };
  const skip = () => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  const value = (): HostValue => {
    skip();
    if (s[i] === '{') return group();
    if (s[i] === '"') {
      const end = s.indexOf('"', i + 1);
      if (end < 0) fail('unterminated string');
      const str = s.slice(i + 1, end);
      i = end + 1;
      return str;
    }
    const start = i;
    while (i < s.length && s[i] !== ',' && s[i] !== '}') i++;
    const atom = s.slice(start, i).trim();
    if (atom === '') fail('missing value');
    return atom;
  };
  const group = (): HostValue[] => {
    if (s[i] !== '{') fail('expected "{"');
    // No struct nests deeper than a declaration can (and the host's stack must not decide).
    if (++depth > MAX_DECLARATION_NESTING) fail(`braces nested more than ${MAX_DECLARATION_NESTING} levels deep`);
    i++;
    const items: HostValue[] = [];
    skip();
    if (s[i] === '}') {
      i++;
      depth--;
      return items;
    }
    for (;;) {
      items.push(value());
      skip();
      if (s[i] === ',') {
        i++;
        continue;
      }
      if (s[i] === '}') {
        i++;
        depth--;
        return items;
      }
      fail('expected "," or "}"');
    }
  };
  const result = group();
  skip();
  if (i !== s.length) fail('unexpected text after "}"');
  return result;
}
