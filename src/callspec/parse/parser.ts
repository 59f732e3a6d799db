/**
 * The parser's top layer: translation units, prototypes and type names (the entry points `Declarations` calls),
 * declaration specifiers, and struct/union/enum bodies.
 */
import { CONVENTION_KEYWORDS, readAttributes } from '../attributes.ts';
import { addConventionPart, type ConventionParts } from '../conventions.ts';
import type { CField, CType, Prototype } from '../types.ts';
import { DeclaratorParser } from './declarator-parser.ts';
import { addConventionToName, declaredName, type Declarator, isFunctionDeclarator, type QualType, type Specifiers } from './declarator.ts';
import type { Token } from './tokenize.ts';
import {
  BASIC_TYPES, CONST_WORDS, ENUM_MAX, ENUM_MIN, IGNORED_MACROS, PAREN_SKIP_WORDS, QUALIFIER_WORDS, STORAGE_WORDS, TYPE_WORD_ORDER,
  TYPE_WORD_SPELLINGS, TYPE_WORDS, UNSUPPORTED_TYPE_WORDS, VECTOR_TYPEDEFS,
} from './vocabulary.ts';

export class Parser extends DeclaratorParser {
  // --- entry points ---

  translationUnit(): void {
    while (this.token.kind !== 'eof') {
      if (this.accept(';')) continue;
      // Bare macros (`__BEGIN_DECLS`); attributes stay for the declaration's specifiers.
      while (this.token.kind === 'ident' && IGNORED_MACROS.has(this.token.text)) {
        this.next();
        if (this.is('(')) this.skipBalanced();
      }
      if (this.atEnd()) break;
      this.externalDeclaration();
    }
  }

  prototype(): Prototype {
    const start = this.token.pos;
    const specs = this.specifiers();
    if (specs.typedef) this.fail(this.tokens[this.index - 1], 'expected a prototype, found a typedef');
    const d = this.declarator('named');
    const after = this.skipDecorations();
    addConventionToName(d, specs.convention, specs.conventionAt, this.failAt);
    addConventionToName(d, after.convention, after.at, this.failAt);
    this.applyVectorSize(specs, after);
    return this.toPrototype(specs, d, start);
  }

  typeName(): CType {
    const specs = this.specifiers();
    const d = this.declarator('abstract');
    addConventionToName(d, specs.convention, specs.conventionAt, this.failAt);
    this.applyVectorSize(specs, {});
    return this.apply(d, specs.base).type;
  }

  // --- declarations ---

  private externalDeclaration(): void {
    const start = this.token.pos;
    const specs = this.specifiers();
    if (this.accept(';')) return; // `struct X {...};`, `enum {A, B};`, or a useless `int;`
    const base = specs.base;
    for (;;) {
      const d = this.declarator('named');
      const after = this.skipDecorations();
      addConventionToName(d, specs.convention, specs.conventionAt, this.failAt);
      addConventionToName(d, after.convention, after.at, this.failAt);
      specs.base = base;
      this.applyVectorSize(specs, after);
      const q = this.apply(d, specs.base);
      if (specs.typedef) {
        this.scope.defineTypedef(declaredName(d)!, q);
      } else if (q.type.kind === 'function' && isFunctionDeclarator(d)) {
        this.scope.definePrototype(this.toPrototype(specs, d, start));
      }
      if (this.is('{')) this.fail(this.token, 'function bodies are not supported: declare the prototype only');
      if (this.accept('=')) this.fail(this.tokens[this.index - 1], 'initialisers are not supported');
      if (this.accept(';')) return;
      this.expect(',', '"," or ";"');
    }
  }

  private toPrototype(specs: Specifiers, d: Declarator, start: number): Prototype {
    const q = this.apply(d, specs.base);
    if (q.type.kind !== 'function' || !isFunctionDeclarator(d)) {
      this.fail(this.tokens[this.index - 1], `"${declaredName(d)}" is not declared as a function: expected "(" and its parameters`);
    }
    const fn = this.scope.materialize(q.type);
    if (fn.kind !== 'function') throw new Error('unreachable');
    const proto: Prototype = {
      name: declaredName(d)!,
      ret: fn.ret,
      params: fn.params,
      variadic: fn.variadic,
      text: this.textBetween(start, d.end),
    };
    if (fn.convention) proto.convention = fn.convention;
    return proto;
  }

  /** Declaration specifiers: storage class, qualifiers and exactly one type (C11 §6.7). */
  protected specifiers(): Specifiers {
    const pos = this.token.pos;
    const words: Token[] = [];
    let base: QualType | undefined;
    let isConst = false;
    let typedef = false;
    let definesTag = false;
    let convention: ConventionParts | undefined;
    let conventionAt: number | undefined;
    const vector: Pick<Specifiers, 'vectorSize' | 'vectorAt'> = {};
    for (;;) {
      const t = this.token;
      if (t.kind !== 'ident') break;
      const word = TYPE_WORD_SPELLINGS[t.text] ?? t.text;
      if (UNSUPPORTED_TYPE_WORDS.has(word)) {
        this.fail(t, `${t.text} types are not supported (shimulator models _Complex float/double/long double, _Float16, __float128 and the 8- and 16-byte vectors, not ${t.text})`);
      } else if (VECTOR_TYPEDEFS[word] && !base && !words.length && !this.scope.lookupTypedef(word)) {
        base = { type: VECTOR_TYPEDEFS[word], const: false };
        this.next();
      } else if (STORAGE_WORDS.has(word)) {
        typedef ||= word === 'typedef';
        this.next();
      } else if (QUALIFIER_WORDS.has(word)) {
        isConst ||= CONST_WORDS.has(word);
        this.next();
        if (word === '_Atomic' && this.is('(')) this.fail(t, '_Atomic(type) is not supported');
      } else if (PAREN_SKIP_WORDS.has(word) || IGNORED_MACROS.has(word) || CONVENTION_KEYWORDS[word]) {
        const found = this.skipDecorations();
        if (found.vectorSize !== undefined) Object.assign(vector, { vectorSize: found.vectorSize, vectorAt: found.vectorAt });
        if (found.convention) {
          const combined = addConventionPart(convention ?? {}, found.convention);
          if (typeof combined === 'string') this.failAt(found.at!, combined);
          convention = combined;
          conventionAt ??= found.at;
        }
      } else if (TYPE_WORDS.has(word)) {
        if (base) this.fail(t, `"${t.text}" cannot be combined with the type before it`);
        words.push({ ...t, text: word });
        this.next();
      } else if (word === 'struct' || word === 'union' || word === 'enum') {
        if (base || words.length) this.fail(t, `"${t.text}" cannot be combined with the type before it`);
        const spec = word === 'enum' ? this.enumSpecifier() : this.recordSpecifier(word);
        base = { type: spec.type, const: false };
        definesTag ||= spec.defines;
      } else if (!base && !words.length && this.scope.lookupTypedef(word)) {
        base = { ...this.scope.lookupTypedef(word)! };
        this.next();
      } else break;
    }
    if (!base) {
      if (!words.length) {
        const t = this.token;
        if (t.kind === 'ident') this.fail(t, `expected a type name, found "${t.text}" (declare it with --decls)`);
        this.fail(t, `expected a type name, found ${this.describe(t)}`);
      }
      base = { type: this.basicType(words), const: false };
    }
    if (isConst) base = { ...base, const: true };
    const specs: Specifiers = { base, typedef, pos, definesTag, ...vector };
    if (convention) {
      specs.convention = convention;
      specs.conventionAt = conventionAt;
    }
    return specs;
  }

  /** Resolve a combination of basic type keywords (`unsigned long int`) through BASIC_TYPES. */
  private basicType(words: Token[]): CType {
    const names = words.map((w) => w.text);
    const keep = names.includes('short') || names.includes('long') ? names.filter((n) => n !== 'int') : names;
    const canonical = [...keep].sort((a, b) => TYPE_WORD_ORDER.indexOf(a) - TYPE_WORD_ORDER.indexOf(b)).join(' ');
    const type = BASIC_TYPES[canonical];
    if (!type && names.includes('_Complex')) {
      this.fail(words[0], `"${names.join(' ')}" is not supported: _Complex takes float, double or long double (GCC's complex integers are not modelled)`);
    }
    if (!type) this.fail(words[0], `"${names.join(' ')}" is not a valid type`);
    if (type.kind === 'float' && type.name === '_Float16' && this.scope.arch === 'i386') {
      this.fail(words[0], '_Float16 is not supported on i386: GCC 12 refuses it without SSE2 ("\'_Float16\' is not supported on this target"), and Debian\'s i386 baseline has no SSE2; it exists on amd64');
    }
    return type;
  }

  /** `struct|union [tag] [{ members }]` (C11 §6.7.2.1), with `packed` / `aligned(N)` attributes. */
  private recordSpecifier(kind: 'struct' | 'union'): { type: CType; defines: boolean } {
    this.next();
    const attrs = this.attributes();
    let tagToken: Token | undefined;
    if (this.token.kind === 'ident' && !this.is('{')) tagToken = this.next();
    const tag = tagToken?.text;
    if (!this.is('{')) {
      if (!tag) this.fail(this.token, `expected a ${kind} tag or "{", found ${this.describe(this.token)}`);
      this.declareTag(tagToken!, kind);
      return { type: { kind, tag }, defines: false };
    }
    if (tag) this.declareTag(tagToken!, kind);
    const open = this.expect('{');
    const fields: CField[] = [];
    this.nested(open, () => {
      while (!this.accept('}')) fields.push(...this.memberDeclaration());
    });
    const after = this.attributes();
    const packed = attrs.packed || after.packed;
    const align = after.align ?? attrs.align;
    if (!tag) {
      const type: CType = { kind, fields };
      if (packed) type.packed = true;
      if (align !== undefined) type.align = align;
      return { type, defines: true };
    }
    const existing = this.scope.lookupTag(tag)!;
    if (existing.defined && JSON.stringify(existing.fields) !== JSON.stringify(fields)) {
      this.fail(tagToken!, `${kind} ${tag} is already defined differently`);
    }
    this.scope.defineTag(tag, { kind, fields, packed: packed || undefined, align, defined: true });
    return { type: { kind, tag }, defines: true };
  }

  /** Make sure `tag` is known as a `kind` tag, declaring it incomplete if new. */
  private declareTag(tagToken: Token, kind: 'struct' | 'union' | 'enum'): void {
    const existing = this.scope.lookupTag(tagToken.text);
    if (!existing) this.scope.defineTag(tagToken.text, { kind, defined: false });
    else if (existing.kind !== kind) this.fail(tagToken, `"${tagToken.text}" was declared as ${existing.kind} ${tagToken.text}, not ${kind}`);
  }

  /** `__attribute__((packed, aligned(8)))`, repeated: the two attributes that change a layout. */
  private attributes(): { packed: boolean; align?: number } {
    let packed = false;
    let align: number | undefined;
    while (this.token.kind === 'ident' && (this.token.text === '__attribute__' || this.token.text === '__attribute')) {
      this.next();
      const reading = readAttributes(this.skipBalanced(), this.failAt);
      if (reading.conventionAt !== undefined) this.failAt(reading.conventionAt, 'a calling-convention attribute applies to a function, not to a struct, union or enum');
      packed ||= reading.packed;
      align = reading.align ?? align;
    }
    return { packed, align };
  }

  /** One member declaration: `int a, *b;`, `unsigned flag : 1;`, `union { ... };` (anonymous member). */
  private memberDeclaration(): CField[] {
    const specs = this.specifiers();
    if (specs.typedef) this.fail(this.tokens[this.index - 1], 'typedef is not allowed inside a struct');
    if (this.accept(';')) {
      const t = specs.base.type;
      if ((t.kind === 'struct' || t.kind === 'union') && t.tag === undefined) return [{ type: t }];
      return []; // a declaration that declares nothing, e.g. `struct other;`
    }
    const fields: CField[] = [];
    for (;;) {
      const field: CField = { type: specs.base.type };
      if (!this.is(':')) {
        const d = this.declarator('named');
        field.name = declaredName(d)!;
        addConventionToName(d, specs.convention, specs.conventionAt, this.failAt);
        this.applyVectorSize(specs, {});
        field.type = this.apply(d, specs.base).type;
      }
      if (this.accept(':')) {
        const widthToken = this.token;
        const bits = this.constantExpression();
        if (bits < 0) this.fail(widthToken, 'a bit-field width cannot be negative');
        if (field.type.kind !== 'int' && field.type.kind !== 'enum') {
          this.fail(widthToken, 'bit-fields must have an integer or enum type');
        }
        if (bits === 0 && field.name !== undefined) this.fail(widthToken, `a zero-width bit-field cannot have a name ("${field.name}")`);
        field.bits = bits;
      }
      this.skipNeutralDecorations('after a struct member');
      fields.push(field);
      if (this.accept(';')) return fields;
      this.expect(',', '"," or ";"');
    }
  }

  /** `enum [tag] [{ A, B = 3 }]` (C11 §6.7.2.2). Constants are added to the scope. */
  private enumSpecifier(): { type: CType; defines: boolean } {
    this.next();
    this.attributes();
    let tagToken: Token | undefined;
    if (this.token.kind === 'ident' && !this.is('{')) tagToken = this.next();
    const tag = tagToken?.text;
    if (tagToken) this.declareTag(tagToken, 'enum');
    const type: CType = tag === undefined ? { kind: 'enum' } : { kind: 'enum', tag };
    if (!this.accept('{')) {
      if (!tag) this.fail(this.token, `expected an enum tag or "{", found ${this.describe(this.token)}`);
      return { type, defines: false };
    }
    let value = 0n;
    while (!this.accept('}')) {
      const name = this.token;
      if (name.kind !== 'ident') this.fail(name, `expected an enumerator name, found ${this.describe(name)}`);
      this.next();
      if (this.accept('=')) value = BigInt(this.constantExpression());
      if (value < ENUM_MIN || value > ENUM_MAX) this.fail(name, `enumerator ${name.text} = ${value} does not fit in 32 bits; enums wider than int are not supported`);
      this.scope.defineConstant(name.text, value);
      value++;
      if (!this.is('}')) this.expect(',', '"," or "}"');
    }
    this.attributes();
    if (tag) this.scope.defineTag(tag, { kind: 'enum', defined: true });
    return { type, defines: true };
  }
}
