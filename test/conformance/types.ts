/**
 * The types corpus (issue 12): `_Complex float/double/long double`, `__float128`, `_Float16` (amd64; GCC 12 refuses
 * it for -m32) and vectors (`__m64`, `__m128`, `__m128d`, `__m128i`, `vector_size` typedefs of 8 and 16 bytes), and
 * structs holding them, × every calling convention GCC compiles on the arch (amd64: System V, ms_abi; i386: cdecl,
 * stdcall, fastcall, thiscall, regparm(3), stdcall+regparm(3), MS cdecl, and libffi's pascal and register through
 * the conventions corpus's reordered GCC equivalents) — as calls from the host and as TypeScript callbacks called by
 * gcc-compiled invokers, checked against the natively compiled caller's output on this machine. pascal and register
 * get no 16-byte-aligned arguments: reordering GCC's padded slots is not a left-to-right push, so shimulator refuses
 * those combinations.
 *
 * The corpus has the conventions corpus's shape and is rendered and run by the same code (conventions.ts,
 * conventions-runner.ts). CLI: `npx tsx test/conformance/types.ts [--out DIR]` writes types-<arch>.h / -callees.c /
 * -caller.c / .json and the predicted lines (scripts/conformance/build.sh compiles and runs them).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type ConventionDef, type ConventionsCorpus, type ConventionSignature, type Family, fitFamily, NATIVE_SPELLING, nativeOrder, predictConventionLines,
  renderConventionsCallees, renderConventionsCaller, renderConventionsHeader,
} from './conventions.ts';
import {
  type Arch, ARCHES, corpusJson, makeSignature, Rng, SCALAR_TYPES, type StructDef, structDecl, typeLayout, type TypeName,
} from './generate.ts';
import { COMPLEX_TYPES, extraTypes, FLOAT128, isExtraType, VECTOR_TYPEDEFS } from './types-values.ts';

export const TYPES_SEED = 20261203;

interface TypeConvention {
  id: string;
  /** The attribute as written in prototypes ('' for the platform's default). */
  spelling: string;
  random: number;
  /** Variadic tails (the platform's default convention only). */
  variadic: boolean;
  /** libffi's pascal / register: compiled as GCC's equivalent with the parameters reordered (conventions.ts). */
  native?: ConventionDef['native'];
}

export const TYPE_CONVENTIONS: Record<Arch, TypeConvention[]> = {
  amd64: [
    { id: 'tsysv', spelling: '', random: 120, variadic: true },
    { id: 'tmsabi', spelling: '__attribute__((ms_abi))', random: 120, variadic: false },
  ],
  i386: [
    { id: 'tcdecl', spelling: '', random: 80, variadic: true },
    { id: 'tstdcall', spelling: '__attribute__((stdcall))', random: 40, variadic: false },
    { id: 'tfastcall', spelling: '__attribute__((fastcall))', random: 40, variadic: false },
    { id: 'tthiscall', spelling: '__attribute__((thiscall))', random: 40, variadic: false },
    { id: 'tregparm3', spelling: '__attribute__((regparm(3)))', random: 40, variadic: false },
    { id: 'tstdregparm', spelling: '__attribute__((stdcall, regparm(3)))', random: 30, variadic: false },
    { id: 'tmscdecl', spelling: '__attribute__((callee_pop_aggregate_return(0)))', random: 30, variadic: false },
    { id: 'tpascal', spelling: '__attribute__((pascal))', random: 30, variadic: false, native: 'reversed' },
    { id: 'tregister', spelling: '__attribute__((register))', random: 30, variadic: false, native: 'register-first' },
  ],
};

/** Structs holding the new types: classification of their eightbytes, i386 16-byte alignment, padding. */
function typeStructs(arch: Arch): StructDef[] {
  const defs: StructDef[] = [
    { tag: 't_cf', fields: [{ name: 'a', type: 'char' }, { name: 'b', type: '_Complex float' }] },
    { tag: 't_fcf', fields: [{ name: 'a', type: 'float' }, { name: 'b', type: '_Complex float' }] },
    { tag: 't_cd', fields: [{ name: 'a', type: '_Complex double' }] },
    { tag: 't_q', fields: [{ name: 'a', type: FLOAT128 }] },
    { tag: 't_cq', fields: [{ name: 'a', type: 'char' }, { name: 'b', type: FLOAT128 }] },
    { tag: 't_m', fields: [{ name: 'a', type: '__m128' }] },
    { tag: 't_vi', fields: [{ name: 'a', type: '__m64' }, { name: 'b', type: 'int' }] },
    { tag: 't_v8', fields: [{ name: 'a', type: 'v8qi' }] },
  ];
  if (arch === 'amd64') defs.push({ tag: 't_hh', fields: [{ name: 'a', type: '_Float16' }, { name: 'b', type: '_Float16' }, { name: 'c', type: 'float' }] });
  return defs;
}

function families(def: TypeConvention, arch: Arch, types: TypeName[], structs: TypeName[]): Family[] {
  const out: Family[] = [];
  for (const t of [...types, ...structs]) {
    // Alone and returned; after register-taking integers; among narrow integers; twice among floating arguments.
    out.push({ ret: t, params: [t, 'int', 'int', 'int'] }, { ret: 'int', params: ['int', t, 'int', 'int'] });
    out.push({ ret: 'int', params: ['char', 'short', t, 'int', 'int'] }, { ret: t, params: ['double', t, 'float', t, 'long long'] });
    // Register exhaustion (amd64: the eight vector registers; Win64: the four positions), and a void return.
    out.push({ ret: 'double', params: [...Array(9).fill(t), 'double'] }, { ret: 'void', params: ['long', t, 'long double', t] });
  }
  if (def.variadic) {
    const tails: TypeName[][] = [['_Complex double', 'int', FLOAT128], [FLOAT128, 'double', '_Complex long double'], ['__m64', '_Complex float', 'long'], ['__m128', 'int', '__m128i']];
    for (const tail of tails) out.push({ ret: 'int', params: ['int'], variadic: tail }, { ret: FLOAT128, params: ['double', 'int'], variadic: tail });
  }
  return out;
}

/**
 * pascal and register have no rule for 16-byte-aligned stack arguments (shimulator refuses them: reversing GCC's
 * padded slots is not what a left-to-right push gives), and register cannot return in memory.
 */
function fitsNative(def: TypeConvention, f: Family, structs: Map<string, StructDef>, arch: Arch): boolean {
  if (!def.native) return true;
  if (f.params.some((t) => typeLayout(t, structs, arch).align >= SIXTEEN)) return false;
  const returnedInMemory = f.ret.startsWith('struct ') || (isExtraType(f.ret) && f.ret !== '_Complex float');
  return def.native !== 'register-first' || !returnedInMemory;
}

const SIXTEEN = 16;

/** `int <attr> name(int a0, …)`: the attribute after the return type, as the conventions corpus writes it. */
function withSpelling(proto: string, name: string, spelling: string): string {
  if (!spelling) return proto;
  return proto.replace(new RegExp(`^(.*?)\\b${name}\\(`), (_, ret: string) => `${ret}${ret.endsWith(' ') || ret.endsWith('*') ? '' : ' '}${spelling} ${name}(`);
}

export function generateTypes(arch: Arch, seed = TYPES_SEED): ConventionsCorpus {
  const rng = new Rng(seed);
  const defs = typeStructs(arch);
  const structs = new Map(defs.map((d) => [d.tag, d]));
  const structTypes = defs.map((d) => `struct ${d.tag}`);
  const types = extraTypes(arch);
  const signatures: ConventionSignature[] = [];
  for (const def of TYPE_CONVENTIONS[arch]) {
    let n = 0;
    const add = (ret: TypeName, params: TypeName[], variadic?: TypeName[]) => {
      const fitted = fitFamily(def, { ret, params, variadic });
      if (!fitted || !fitsNative(def, fitted, structs, arch)) return;
      const name = `${def.id}_${String(n++).padStart(3, '0')}`;
      const sig = makeSignature(rng, structs, name, fitted.ret, fitted.params, fitted.variadic);
      const out: ConventionSignature = { ...sig, proto: withSpelling(sig.proto, name, def.spelling), convention: def.id, spelling: def.spelling };
      if (def.native) {
        out.nativeSpelling = NATIVE_SPELLING[def.native];
        out.nativeOrder = nativeOrder(def.native, fitted.params);
        const list = out.nativeOrder.map((i) => `${fitted.params[i]}${fitted.params[i]!.endsWith('*') ? '' : ' '}a${i}`);
        out.nativeProto = `${fitted.ret}${fitted.ret.endsWith('*') ? '' : ' '}${out.nativeSpelling} ${name}(${list.join(', ') || 'void'})`;
      }
      signatures.push(out);
    };
    for (const f of families(def, arch, types, structTypes)) add(f.ret, f.params, f.variadic);
    const randomType = (): TypeName => (rng.chance(0.55) ? rng.pick(types) : rng.chance(0.2) ? rng.pick(structTypes) : rng.pick(SCALAR_TYPES));
    for (let i = 0; i < def.random; i++) {
      const params = Array.from({ length: rng.chance(0.15) ? rng.range(7, 12) : rng.range(0, 6) }, randomType);
      let variadic: TypeName[] | undefined;
      if (params.length && def.variadic && rng.chance(0.15)) {
        variadic = Array.from({ length: rng.range(1, 4) }, () => rng.pick(['int', 'double', FLOAT128, ...COMPLEX_TYPES, '__m128d', 'v4si']));
      }
      const r = rng.int(100);
      add(r < 8 ? 'void' : r < 70 ? rng.pick(types) : randomType(), params, variadic);
    }
  }
  return { arch, seed, decls: `${VECTOR_TYPEDEFS}\n${defs.map(structDecl).join('\n')}\n`, structs: defs, signatures };
}

/** The C sources: the conventions corpus's, with its file names. */
function renamed(text: string, arch: Arch): string {
  return text.replaceAll(`conventions-${arch}.h`, `types-${arch}.h`).replaceAll('CONVENTIONS_CORPUS_H', 'TYPES_CORPUS_H');
}

function main(argv: string[]): void {
  const i = argv.indexOf('--out');
  const dir = i >= 0 ? argv[i + 1]! : 'build/conformance';
  mkdirSync(dir, { recursive: true });
  for (const arch of ARCHES) {
    const c = generateTypes(arch);
    writeFileSync(join(dir, `types-${arch}.h`), renamed(renderConventionsHeader(c), arch));
    writeFileSync(join(dir, `types-${arch}-callees.c`), renamed(renderConventionsCallees(c), arch));
    writeFileSync(join(dir, `types-${arch}-caller.c`), renamed(renderConventionsCaller(c), arch));
    const { signatures, structs, ...head } = c;
    writeFileSync(join(dir, `types-${arch}.json`), corpusJson({ ...head, count: 0, decls: c.decls, structs, signatures } as never));
    writeFileSync(join(dir, `types-predicted-${arch}.txt`), predictConventionLines(c).join('\n') + '\n');
    console.log(`${arch}: ${c.signatures.length} types-corpus signatures → ${dir}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
