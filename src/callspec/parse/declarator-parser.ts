/**
 * The declarator layer of the parser: pointers, names, nested declarators, array and function suffixes, parameter
 * lists, and the decorations (attributes, MSVC keywords, glibc macros) that may stand among them.
 */
import { CONVENTION_KEYWORDS, readAttributes } from '../attributes.ts';
import { addConventionPart, type ConventionParts } from '../conventions.ts';
import type { CParam } from '../types.ts';
import { ConstantExpressionParser } from './constant-expression.ts';
import {
  addConventionToName, adjustParameterType, applyDeclarator, declaredName, type Declarator, type Decorations, type QualType,
  type Specifiers,
} from './declarator.ts';
import type { Token } from './tokenize.ts';
import {
  CONST_WORDS, IGNORED_MACROS, PAREN_SKIP_WORDS, QUALIFIER_WORDS, STORAGE_WORDS, TYPE_WORD_SPELLINGS, TYPE_WORDS, VECTOR_TYPEDEFS, vectorOf,
} from './vocabulary.ts';

export abstract class DeclaratorParser extends ConstantExpressionParser {
  /** Declaration specifiers (parser.ts); parameter lists begin with them. */
  protected abstract specifiers(): Specifiers;

  protected apply(d: Declarator, base: QualType): QualType {
    return applyDeclarator(d, base, this.failAt, this.scope.arch);
  }

  /**
   * Skip `word(...)` with balanced parentheses (asm labels), glibc decoration macros and attributes, returning the
   * calling convention the attributes and MSVC keywords (`__stdcall`) name. Unknown attributes are refused.
   */
  protected skipDecorations(): Decorations {
    let convention: ConventionParts | undefined;
    let at: number | undefined;
    const vector: Pick<Decorations, 'vectorSize' | 'vectorAt'> = {};
    const add = (part: ConventionParts, pos: number) => {
      const combined = addConventionPart(convention ?? {}, part);
      if (typeof combined === 'string') this.failAt(pos, combined);
      convention = combined;
      at ??= pos;
    };
    for (;;) {
      const t = this.token;
      if (t.kind !== 'ident') return { convention, at, ...vector };
      if (t.text === '__attribute__' || t.text === '__attribute') {
        this.next();
        const reading = readAttributes(this.skipBalanced(), this.failAt);
        if (reading.conventionAt !== undefined) add(reading.convention, reading.conventionAt);
        if (reading.vectorSize !== undefined) Object.assign(vector, { vectorSize: reading.vectorSize, vectorAt: reading.vectorAt });
      } else if (PAREN_SKIP_WORDS.has(t.text)) {
        this.next();
        this.skipBalanced();
      } else if (CONVENTION_KEYWORDS[t.text]) {
        this.next();
        add({ name: CONVENTION_KEYWORDS[t.text] }, t.pos);
      } else if (IGNORED_MACROS.has(t.text)) {
        this.next();
        if (this.is('(')) this.skipBalanced();
      } else return { convention, at, ...vector };
    }
  }

  /**
   * `vector_size` written among the specifiers or after the declarator applies to the base type (GCC builds the
   * vector from the type the declarator's pointers and arrays derive from: `int v __attribute__((vector_size(16)))`).
   */
  protected applyVectorSize(specs: Specifiers, after: Decorations): void {
    const size = after.vectorSize ?? specs.vectorSize;
    if (size === undefined) return;
    const vector = vectorOf(specs.base.type, size);
    if (typeof vector === 'string') this.failAt((after.vectorAt ?? specs.vectorAt)!, vector);
    specs.base = { ...specs.base, type: vector };
  }

  /** A `vector_size` where it cannot apply (inside a declarator, after a struct member). */
  private refuseVectorSize(found: Decorations, where: string): void {
    if (found.vectorAt !== undefined) this.failAt(found.vectorAt, `vector_size cannot stand ${where}; write it after the type or after the declared name`);
  }

  /** Decorations where no calling convention may stand (between declarations, inside a struct's attributes). */
  protected skipNeutralDecorations(what: string): void {
    const found = this.skipDecorations();
    this.refuseVectorSize(found, what);
    const { at } = found;
    if (at !== undefined) this.failAt(at, `a calling-convention attribute cannot stand ${what}; write it on a function declaration or a function pointer`);
  }

  /**
   * A declarator (C11 §6.7.6). `mode` says whether a name is required (`named`), forbidden (`abstract`), or
   * optional (`either`, in parameter lists).
   */
  /**
   * `parameter`: this is a parameter's outermost declarator, whose first array dimension only decays to a pointer
   * (C11 §6.7.6.3p7) — so it may hold qualifiers, `static` and any expression (`int pmatch[nmatch]`).
   */
  protected declarator(mode: 'named' | 'abstract' | 'either', parameter = false): Declarator {
    const pointers: boolean[] = [];
    const d: Declarator = { namePos: this.token.pos, pointers, suffixes: [], end: this.token.pos };
    const noteConvention = (found: Decorations) => {
      this.refuseVectorSize(found, 'inside a declarator');
      if (!found.convention) return;
      const combined = addConventionPart(d.convention ?? {}, found.convention);
      if (typeof combined === 'string') this.failAt(found.at!, combined);
      d.convention = combined;
      d.conventionAt ??= found.at;
    };
    noteConvention(this.skipDecorations());
    while (this.accept('*')) {
      let pointerIsConst = false;
      for (;;) {
        const word = this.token.text;
        if (this.token.kind === 'ident' && QUALIFIER_WORDS.has(word)) {
          pointerIsConst ||= CONST_WORDS.has(word);
          this.next();
        } else if (this.token.kind === 'ident' && (PAREN_SKIP_WORDS.has(word) || IGNORED_MACROS.has(word) || CONVENTION_KEYWORDS[word])) {
          noteConvention(this.skipDecorations());
        } else break;
      }
      pointers.push(pointerIsConst);
    }
    // Each pointer level is one more level of the type that every later pass walks recursively.
    return this.nested(this.token, () => this.directDeclarator(d, mode, parameter), pointers.length);
  }

  /** The part of a declarator after its pointers: the name or a nested declarator, then array and function suffixes. */
  private directDeclarator(d: Declarator, mode: 'named' | 'abstract' | 'either', parameter: boolean): Declarator {
    const t = this.token;
    if (t.kind === 'ident' && !this.isKeyword(t) && mode !== 'abstract') {
      // A typedef name is accepted here too: after the specifiers it can only be the declared name
      // (`typedef unsigned int u_int;` redeclaring a built-in).
      d.name = t.text;
      d.namePos = t.pos;
      this.next();
    } else if (this.is('(') && this.isNestedDeclarator()) {
      this.next();
      d.inner = this.nested(t, () => this.declarator(mode));
      this.expect(')');
    } else if (mode === 'named') {
      if (t.kind === 'ident') this.fail(t, `"${t.text}" is a type name, expected a name for the declaration`);
      this.fail(t, `expected a name, found ${this.describe(t)}`);
    }
    for (;;) {
      if (parameter && d.suffixes.length === 0 && this.is('[')) {
        this.next();
        this.skipToClosingBracket();
        d.suffixes.push({ kind: 'array', length: 0, flexible: true });
        continue;
      }
      if (this.accept('[')) {
        if (this.accept(']')) {
          d.suffixes.push({ kind: 'array', length: 0, flexible: true });
          continue;
        }
        const lengthToken = this.token;
        const length = this.nested(lengthToken, () => this.constantExpression());
        if (length < 0) this.fail(lengthToken, 'an array length cannot be negative');
        this.expect(']');
        d.suffixes.push({ kind: 'array', length, flexible: false });
      } else if (this.is('(')) {
        const open = this.next();
        d.suffixes.push({ kind: 'function', ...this.nested(open, () => this.parameterList()) });
      } else break;
    }
    d.end = this.tokens[this.index - 1]?.end ?? d.end;
    return d;
  }

  /** After a declarator's `(`: a nested declarator (`(*fp)`) rather than a parameter list (`(int)`, `()`)? */
  private isNestedDeclarator(): boolean {
    const after = this.peek();
    if (after.kind === 'punct') return after.text === '*' || after.text === '(' || after.text === '[';
    if (after.kind === 'ident') return !this.startsType(after) || PAREN_SKIP_WORDS.has(after.text);
    return false;
  }

  /** Whether an identifier is a keyword that can begin declaration specifiers. */
  private isKeyword(t: Token): boolean {
    const word = TYPE_WORD_SPELLINGS[t.text] ?? t.text;
    return TYPE_WORDS.has(word) || STORAGE_WORDS.has(word) || QUALIFIER_WORDS.has(word) ||
      word === 'struct' || word === 'union' || word === 'enum';
  }

  /** Whether an identifier begins declaration specifiers (keyword or typedef name). */
  private startsType(t: Token): boolean {
    const word = TYPE_WORD_SPELLINGS[t.text] ?? t.text;
    return this.isKeyword(t) || this.scope.lookupTypedef(word) !== undefined || VECTOR_TYPEDEFS[word] !== undefined;
  }

  /** Skips a parameter's decaying array dimension up to and including its `]` (nested brackets balanced). */
  private skipToClosingBracket(): void {
    let depth = 0;
    for (;;) {
      const t = this.token;
      if (t.kind === 'eof') this.fail(t, 'expected "]"');
      this.next();
      if (t.kind === 'punct' && t.text === '[') depth++;
      if (t.kind === 'punct' && t.text === ']') {
        if (depth === 0) return;
        depth--;
      }
    }
  }

  /** `(void)`, `()`, `(int a, ...)` — after the `(`; consumes the `)` (C11 §6.7.6.3). */
  private parameterList(): { params: CParam[]; variadic: boolean } {
    const params: CParam[] = [];
    let variadic = false;
    if (this.accept(')')) return { params, variadic }; // `f()`: treated as `f(void)`
    for (;;) {
      if (this.is('...')) {
        if (!params.length) this.fail(this.token, '"..." needs at least one named parameter before it');
        this.next();
        variadic = true;
        this.expect(')');
        return { params, variadic };
      }
      const startToken = this.token;
      const specs = this.specifiers();
      const d = this.declarator('either', true);
      const after = this.skipDecorations();
      addConventionToName(d, specs.convention, specs.conventionAt, this.failAt);
      addConventionToName(d, after.convention, after.at, this.failAt);
      this.applyVectorSize(specs, after);
      const q = this.apply(d, specs.base);
      const text = this.textBetween(startToken.pos, this.tokens[this.index - 1].end);
      if (q.type.kind === 'void') {
        if (declaredName(d) !== undefined || params.length || !this.is(')')) this.fail(startToken, 'a parameter cannot have type void');
        this.next();
        return { params, variadic };
      }
      const name = declaredName(d);
      const param: CParam = name === undefined ? { type: adjustParameterType(q), text } : { name, type: adjustParameterType(q), text };
      params.push(param);
      if (this.accept(')')) return { params, variadic };
      this.expect(',', '"," or ")"');
    }
  }
}
