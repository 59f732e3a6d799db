/**
 * The declaration parser's lexer: comments and `#` lines blanked in place, then identifiers, integer and character
 * constants, strings and punctuators, each with its source offsets; and the error every stage of the parser raises.
 */

/** A declaration that cannot be parsed; `position` is a 0-based offset into `source`. */
export class DeclarationError extends Error {
  readonly position: number;
  readonly source: string;
  /** 1-based line and column of `position`. */
  readonly line: number;
  readonly column: number;

  constructor(source: string, position: number, problem: string) {
    const { line, column } = lineAndColumn(source, position);
    const where = source.includes('\n') ? `at line ${line}, column ${column}` : `at column ${column}`;
    super(`${where}: ${problem}`);
    this.name = 'DeclarationError';
    this.source = source;
    this.position = position;
    this.line = line;
    this.column = column;
  }

  /** The offending source line with a caret under the error position. */
  get excerpt(): string {
    const lines = this.source.split('\n');
    const text = lines[this.line - 1] ?? '';
    return `${text}\n${' '.repeat(this.column - 1)}^`;
  }
}

function lineAndColumn(source: string, position: number): { line: number; column: number } {
  const before = source.slice(0, position);
  const line = before.split('\n').length;
  const column = position - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

export type TokenKind = 'ident' | 'number' | 'punct' | 'string' | 'eof';

export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of the first character in the source. */
  pos: number;
  /** Offset just past the last character. */
  end: number;
  /** Numeric value of number and character-literal tokens. */
  value?: bigint;
}

/** Punctuators, longest first so that `...` wins over `.` and `<<` over `<`. */
const PUNCTUATORS = [
  '...', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||',
  '(', ')', '[', ']', '{', '}', ';', ',', '*', '=', ':', '+', '-', '/', '%', '&', '|', '^', '~', '!', '?', '<', '>', '.',
];

const CHAR_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11 };

/**
 * Blank out comments and preprocessor lines, keeping every other character at its offset (so token positions
 * still index the caller's text, and slices of the cleaned text read like the source without comments).
 */
export function blankComments(source: string): string {
  let out = '';
  let i = 0;
  let lineStart = true;
  const blank = (text: string) => text.replace(/[^\n]/g, ' ');
  while (i < source.length) {
    const c = source[i];
    if (source.startsWith('//', i)) {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '#' && lineStart) {
      // A preprocessor line, with backslash continuations.
      let stop = i;
      while (stop < source.length && source[stop] !== '\n') stop += source[stop] === '\\' ? 2 : 1;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '"' || c === "'") {
      let stop = i + 1;
      while (stop < source.length && source[stop] !== c && source[stop] !== '\n') stop += source[stop] === '\\' ? 2 : 1;
      out += source.slice(i, stop + 1);
      i = stop + 1;
      lineStart = false;
    } else {
      out += c;
      if (c === '\n') lineStart = true;
      else if (c !== ' ' && c !== '\t' && c !== '\r') lineStart = false;
      i++;
    }
  }
  return out;
}

export function tokenize(source: string, clean: string): Token[] {
  const tokens: Token[] = [];
  const fail = (pos: number, problem: string): never => {
    throw new DeclarationError(source, pos, problem);
  };
  let i = 0;
  while (i < clean.length) {
    const c = clean[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_$]/.test(c)) {
      while (i < clean.length && /[A-Za-z0-9_$]/.test(clean[i])) i++;
      tokens.push({ kind: 'ident', text: clean.slice(start, i), pos: start, end: i });
    } else if (/[0-9]/.test(c)) {
      const match = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)([uUlL]*)/.exec(clean.slice(i))!;
      i += match[0].length;
      if (/[A-Za-z0-9_.]/.test(clean[i] ?? '')) fail(start, `unsupported number "${clean.slice(start, i + 1)}": only integer constants are allowed`);
      const digits = match[1];
      const value = /^0[0-7]+$/.test(digits) ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
      tokens.push({ kind: 'number', text: match[0], pos: start, end: i, value });
    } else if (c === "'") {
      const match = /^'(\\.|[^\\'])'/.exec(clean.slice(i));
      if (!match) fail(start, 'unsupported character constant');
      const body = match![1];
      const code = body.length === 1 ? body.charCodeAt(0) : CHAR_ESCAPES[body[1]];
      if (code === undefined) fail(start, `unsupported escape "${body}"`);
      i += match![0].length;
      tokens.push({ kind: 'number', text: match![0], pos: start, end: i, value: BigInt(code) });
    } else if (c === '"') {
      let stop = i + 1;
      while (stop < clean.length && clean[stop] !== '"') stop += clean[stop] === '\\' ? 2 : 1;
      i = stop + 1;
      tokens.push({ kind: 'string', text: clean.slice(start, i), pos: start, end: i });
    } else {
      const punct = PUNCTUATORS.find((p) => clean.startsWith(p, i));
      if (!punct) fail(start, `unexpected character "${c}"`);
      i += punct!.length;
      tokens.push({ kind: 'punct', text: punct!, pos: start, end: i });
    }
  }
  tokens.push({ kind: 'eof', text: '', pos: clean.length, end: clean.length });
  return tokens;
}
