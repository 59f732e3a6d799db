/**
 * A cursor over the tokens of one declaration text: the token helpers, the nesting limit, and errors at source
 * positions. The parser's layers (constant-expression.ts, declarator-parser.ts, parser.ts) extend it.
 */
import { blankComments, DeclarationError, type Token, tokenize } from './tokenize.ts';

/**
 * How deeply a declaration may nest: parentheses, brackets, struct bodies, pointer levels and operators of a
 * constant expression all count. Real headers stay far below it; without it, a pathological declaration would
 * exhaust the host's stack (here and in every recursive pass over the type afterwards).
 */
export const MAX_DECLARATION_NESTING = 256;

/** Reports a problem at a source position (the parser's `fail`). */
export type Fail = (pos: number, problem: string) => never;

export class TokenCursor {
  protected readonly tokens: Token[];
  private readonly clean: string;
  protected index = 0;
  /** Current nesting (see MAX_DECLARATION_NESTING). */
  private depth = 0;

  constructor(private readonly source: string) {
    this.clean = blankComments(source);
    this.tokens = tokenize(source, this.clean);
  }

  protected get token(): Token {
    return this.tokens[this.index];
  }

  protected peek(ahead = 1): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)];
  }

  protected next(): Token {
    const token = this.token;
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  protected is(text: string): boolean {
    return this.token.kind !== 'eof' && this.token.kind !== 'string' && this.token.text === text;
  }

  protected accept(text: string): boolean {
    if (!this.is(text)) return false;
    this.index++;
    return true;
  }

  protected fail(token: Token, problem: string): never {
    throw new DeclarationError(this.source, token.pos, problem);
  }

  protected readonly failAt: Fail = (pos, problem) => {
    throw new DeclarationError(this.source, pos, problem);
  };

  /** Runs `body` `levels` nesting levels deeper than now; beyond MAX_DECLARATION_NESTING the declaration is refused. */
  protected nested<T>(at: Token, body: () => T, levels = 1): T {
    this.depth += levels;
    try {
      if (this.depth > MAX_DECLARATION_NESTING) {
        this.fail(at, `the declaration nests deeper than the parser's limit of ${MAX_DECLARATION_NESTING} levels (parentheses, brackets, braces, pointers)`);
      }
      return body();
    } finally {
      this.depth -= levels;
    }
  }

  protected describe(token: Token): string {
    return token.kind === 'eof' ? 'the end of the text' : `"${token.text}"`;
  }

  protected expect(text: string, what = `"${text}"`): Token {
    if (!this.is(text)) this.fail(this.token, `expected ${what}, found ${this.describe(this.token)}`);
    return this.next();
  }

  protected atEnd(): boolean {
    return this.token.kind === 'eof';
  }

  expectEnd(): void {
    this.accept(';');
    if (this.token.kind !== 'eof') this.fail(this.token, `expected the end of the declaration, found ${this.describe(this.token)}`);
  }

  /** Source text between two offsets, without comments, whitespace collapsed. */
  protected textBetween(start: number, end: number): string {
    return this.clean.slice(start, end).replace(/\s+/g, ' ').trim();
  }

  /** Skip a parenthesised group, returning its tokens (without the outer parentheses). */
  protected skipBalanced(): Token[] {
    const open = this.expect('(');
    const inside: Token[] = [];
    let depth = 1;
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') this.fail(open, 'unbalanced "("');
      if (t.kind === 'punct' && t.text === '(') depth++;
      if (t.kind === 'punct' && t.text === ')' && --depth === 0) return inside;
      inside.push(t);
    }
  }
}
