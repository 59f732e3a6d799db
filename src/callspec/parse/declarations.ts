/** The `Declarations` scope: what a text of C declarations has declared, and the public parsing entry points. */
import type { Arch } from '../../emu/arch.ts';
import type { CField, CType, Prototype } from '../types.ts';
import type { QualType } from './declarator.ts';
import { Parser } from './parser.ts';
import { BUILTIN_TYPEDEFS } from './vocabulary.ts';

/** The tags the built-in typedefs declare (`FILE` → `struct _IO_FILE`): tag → typedef name. */
const BUILTIN_TAGS = new Map(
  Object.entries(BUILTIN_TYPEDEFS).flatMap(([name, type]) => {
    const tag = /^(?:struct|union|enum) (\w+)$/.exec(type)?.[1];
    return tag === undefined ? [] : [[tag, name] as const];
  }),
);

export interface TagDefinition {
  kind: 'struct' | 'union' | 'enum';
  /** Undefined while incomplete (declared but not defined). */
  fields?: CField[];
  packed?: boolean;
  align?: number;
  defined: boolean;
}

/**
 * A scope of C declarations: typedef names, struct/union/enum tags, enum constants and function prototypes.
 * Starts with the built-in typedefs (`size_t`, `uint32_t`, `FILE`, `pcap_t`, ...).
 */
export class Declarations {
  private readonly typedefs = new Map<string, QualType>();
  private readonly tags = new Map<string, TagDefinition>();
  private readonly constants = new Map<string, bigint>();
  private readonly prototypes = new Map<string, Prototype>();
  /**
   * Built-in typedef names not parsed yet: each is parsed on its first lookup, as if declared at the start. Parsing
   * all ~70 up front cost ~1.5 ms per scope, ~2.5 ms of a one-call CLI process that uses two or three of them.
   */
  private readonly unparsedBuiltins: Set<string>;

  /** When set, calling conventions of the other architecture are refused while parsing (with their position). */
  readonly arch: Arch | undefined;

  constructor(options: { builtins?: boolean; arch?: Arch } = {}) {
    this.arch = options.arch;
    this.unparsedBuiltins = new Set(options.builtins === false ? [] : Object.keys(BUILTIN_TYPEDEFS));
  }

  /** Parse a prototype: `int snprintf(char *buf, unsigned long n, const char *fmt, ...)` (a trailing `;` is allowed). */
  parsePrototype(text: string): Prototype {
    const parser = new Parser(this, text);
    const proto = parser.prototype();
    parser.expectEnd();
    return proto;
  }

  /** Parse a type name: `double`, `struct pt`, `int (*)(const void *, const void *)`. */
  parseType(text: string): CType {
    const parser = new Parser(this, text);
    const type = parser.typeName();
    parser.expectEnd();
    return this.materialize(type);
  }

  /**
   * Add the declarations of a header-like text: typedefs, struct/union/enum definitions, function prototypes
   * (retrievable with `prototype(name)`). Comments and `#` lines are ignored; variables are ignored.
   */
  addDeclarations(source: string): void {
    new Parser(this, source).translationUnit();
  }

  /** A prototype declared by `addDeclarations`, or undefined. */
  prototype(name: string): Prototype | undefined {
    return this.prototypes.get(name);
  }

  /** Names of the prototypes declared by `addDeclarations`. */
  prototypeNames(): string[] {
    return [...this.prototypes.keys()];
  }

  /** The type a typedef name stands for, or undefined. */
  typedef(name: string): CType | undefined {
    const entry = this.lookupTypedef(name);
    return entry && this.materialize(entry.type);
  }

  /** The current definition of `struct tag` / `union tag` / `enum tag` (incomplete when only declared). */
  tag(kind: 'struct' | 'union' | 'enum', tag: string): CType | undefined {
    const def = this.lookupTag(tag);
    if (!def || def.kind !== kind) return undefined;
    return this.materialize({ kind, tag } as CType);
  }

  /** The value of an enum constant, or undefined. */
  enumConstant(name: string): number | undefined {
    const value = this.constants.get(name);
    return value === undefined ? undefined : Number(value);
  }

  // --- used by the parser ---

  /** @internal */
  lookupTypedef(name: string): QualType | undefined {
    if (this.unparsedBuiltins.delete(name)) this.addDeclarations(`typedef ${BUILTIN_TYPEDEFS[name]} ${name};`);
    return this.typedefs.get(name);
  }

  /** @internal */
  lookupConstant(name: string): bigint | undefined {
    return this.constants.get(name);
  }

  /** @internal */
  lookupTag(tag: string): TagDefinition | undefined {
    const builtin = BUILTIN_TAGS.get(tag); // `struct pcap` is declared by pcap_t's typedef
    if (builtin !== undefined) this.lookupTypedef(builtin);
    return this.tags.get(tag);
  }

  /** @internal */
  defineTypedef(name: string, type: QualType): void {
    this.unparsedBuiltins.delete(name);
    this.typedefs.set(name, type);
  }

  /** @internal */
  defineConstant(name: string, value: bigint): void {
    this.constants.set(name, value);
  }

  /** @internal */
  defineTag(tag: string, def: TagDefinition): void {
    this.lookupTag(tag); // a built-in's tag is declared before it is defined, as when the built-ins came first
    this.tags.set(tag, def);
  }

  /** @internal */
  definePrototype(proto: Prototype): void {
    this.prototypes.set(proto.name, proto);
  }

  /**
   * Expand tagged struct/union references into full definitions. Each tag is expanded once per call and the
   * expansion shared; a tag reached again inside its own expansion (through a pointer) stays a bare reference.
   */
  materialize(type: CType, cache = new Map<string, CType>(), expanding = new Set<string>()): CType {
    const again = (t: CType) => this.materialize(t, cache, expanding);
    switch (type.kind) {
      case 'pointer':
        return { ...type, to: again(type.to) };
      case 'array':
        return { ...type, of: again(type.of) };
      case 'function':
        return {
          ...type,
          ret: again(type.ret),
          params: type.params.map((p) => ({ ...p, type: again(p.type) })),
        };
      case 'struct':
      case 'union': {
        if (type.tag === undefined) return { ...type, fields: type.fields?.map((f) => ({ ...f, type: again(f.type) })) };
        const def = this.tags.get(type.tag);
        if (!def?.fields || expanding.has(type.tag)) return { kind: type.kind, tag: type.tag };
        const cached = cache.get(type.tag);
        if (cached) return cached;
        expanding.add(type.tag);
        const fields = def.fields.map((f) => ({ ...f, type: again(f.type) }));
        expanding.delete(type.tag);
        const full: CType = { kind: type.kind, tag: type.tag, fields };
        if (def.packed) full.packed = true;
        if (def.align !== undefined) full.align = def.align;
        cache.set(type.tag, full);
        return full;
      }
      default:
        return type;
    }
  }
}
