/**
 * The pieces a declaration is parsed into (specifiers, declarators and their suffixes) and how a declarator builds
 * the declared type from its base type. Pure functions; the parser supplies `fail`.
 */
import type { Arch } from '../../emu/arch.ts';
import { addConventionPart, conventionArchProblem, conventionOf, type ConventionParts } from '../conventions.ts';
import type { CParam, CType } from '../types.ts';
import type { Fail } from './cursor.ts';

/** A type together with the qualifier that matters for explanations. */
export interface QualType {
  type: CType;
  const: boolean;
}

/** Declaration specifiers: the base type and the storage class. */
export interface Specifiers {
  base: QualType;
  typedef: boolean;
  /** Position of the first specifier token. */
  pos: number;
  /** True when the specifiers defined a struct/union/enum body (so `struct X {...};` alone is meaningful). */
  definesTag: boolean;
  /** Calling-convention attributes among the specifiers (`__stdcall`, `__attribute__((stdcall)) int`). */
  convention?: ConventionParts;
  conventionAt?: number;
  /** `__attribute__((vector_size(N)))` among the specifiers: the base type becomes a vector. */
  vectorSize?: number;
  vectorAt?: number;
}

/** What `skipDecorations` found: a calling convention and a `vector_size`, with where they were written. */
export interface Decorations {
  convention?: ConventionParts;
  at?: number;
  vectorSize?: number;
  vectorAt?: number;
}

/** One suffix of a direct declarator: `[N]` or `(params)`. */
export type Suffix =
  | { kind: 'array'; length: number; flexible: boolean }
  | { kind: 'function'; params: CParam[]; variadic: boolean };

/**
 * A parsed declarator, kept as a recipe: applying it to the base type builds the declared type inside-out
 * (pointers bind looser than suffixes; a parenthesised inner declarator applies last).
 */
export interface Declarator {
  name?: string;
  namePos: number;
  /** One entry per `*`: whether that pointer itself is const (`* const`). */
  pointers: boolean[];
  inner?: Declarator;
  suffixes: Suffix[];
  /** Position just past the declarator. */
  end: number;
  /** Calling-convention attributes written at this level (`(__stdcall *p)`, `int __stdcall f(int)`). */
  convention?: ConventionParts;
  conventionAt?: number;
}

/**
 * Builds the declared type. A calling convention written at a level applies to that level's function suffix
 * (`int __stdcall f(int)`), or else to the function type the level's pointers point to (`int (__stdcall *p)(int)`).
 */
export function applyDeclarator(d: Declarator, base: QualType, fail: Fail, arch?: Arch): QualType {
  let q = base;
  const withConvention = (type: CType): CType => {
    if (!d.convention) return type;
    if (type.kind !== 'function') fail(d.conventionAt!, 'a calling-convention attribute applies to a function or a pointer to one');
    const convention = conventionOf(d.convention);
    if (typeof convention === 'string') fail(d.conventionAt!, convention);
    const problem = arch && conventionArchProblem(convention, arch);
    if (problem) fail(d.conventionAt!, problem);
    return { ...type, convention };
  };
  const ownFunction = d.suffixes[0]?.kind === 'function';
  if (!ownFunction && d.convention) q = { ...q, type: withConvention(q.type) };
  for (const pointerIsConst of d.pointers) {
    const pointer: CType = { kind: 'pointer', to: q.type };
    if (q.const) pointer.const = true;
    q = { type: pointer, const: pointerIsConst };
  }
  for (const suffix of [...d.suffixes].reverse()) {
    if (suffix.kind === 'array') {
      const array: CType = { kind: 'array', of: q.type, length: suffix.length };
      if (suffix.flexible) array.flexible = true;
      q = { type: array, const: q.const };
    } else {
      const fn: CType = { kind: 'function', ret: q.type, params: suffix.params, variadic: suffix.variadic };
      q = { type: suffix === d.suffixes[0] ? withConvention(fn) : fn, const: false };
    }
  }
  return d.inner ? applyDeclarator(d.inner, q, fail, arch) : q;
}

/** Attributes written outside a declarator (in the specifiers, after it) belong to its innermost level, the name's. */
export function addConventionToName(d: Declarator, parts: ConventionParts | undefined, at: number | undefined, fail: Fail): void {
  if (!parts || (parts.name === undefined && parts.regparm === undefined)) return;
  let level = d;
  while (level.inner) level = level.inner;
  const combined = addConventionPart(level.convention ?? {}, parts);
  if (typeof combined === 'string') fail(at!, combined);
  level.convention = combined;
  level.conventionAt ??= at;
}

/** The declared name, wherever it sits in nested declarators (`(*signal(int))(int)` declares `signal`). */
export function declaredName(d: Declarator): string | undefined {
  return d.inner ? declaredName(d.inner) : d.name;
}

/** Parameters of array and function type are adjusted to pointers (C11 §6.7.6.3p7–8). */
export function adjustParameterType(q: QualType): CType {
  if (q.type.kind === 'array') {
    const pointer: CType = { kind: 'pointer', to: q.type.of };
    if (q.const) pointer.const = true;
    return pointer;
  }
  if (q.type.kind === 'function') return { kind: 'pointer', to: q.type };
  return q.type;
}

/**
 * Whether the name's nearest derivation is a function: `f(...)` and `*f(...)` (suffixes bind tighter than `*`)
 * declare functions, `(*f)(...)` declares a pointer. Walks from the innermost declarator (the one with the name)
 * outwards until a suffix or a pointer is found.
 */
export function isFunctionDeclarator(d: Declarator): boolean {
  const chain: Declarator[] = [];
  for (let level: Declarator | undefined = d; level; level = level.inner) chain.unshift(level);
  for (const level of chain) {
    if (level.suffixes.length) return level.suffixes[0].kind === 'function';
    if (level.pointers.length) return false;
  }
  return false;
}
