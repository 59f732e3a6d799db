/**
 * The calling-conventions corpus (issue 12): for each architecture, every convention shimulator knows that GCC
 * can compile (i386: cdecl, stdcall, fastcall, thiscall, regparm(1–3), stdcall+regparm, MS cdecl via
 * callee_pop_aggregate_return(0); amd64: ms_abi, sysv_abi) × every type class (narrow and wide integers, float,
 * double, long double, pointers, the known structs of every size, struct returns, variadic tails), as seeded random
 * signatures plus hand-picked families. Each signature is checked twice against natively compiled code:
 *  - a call: the host calls the gcc-compiled callee, which records the bytes it received (as in corpus 1);
 *  - a callback (`cb_` lines): a gcc-compiled invoker calls a function pointer of that convention with the same
 *    values. Natively the pointer is the callee itself; emulated it is a TypeScript callback, which must receive the
 *    same bytes and whose return value the invoker records.
 *
 * CLI: `npx tsx test/conformance/conventions.ts [--out DIR]` writes, per arch, conventions-<arch>.h / -callees.c /
 * -caller.c / .json and the predicted lines (scripts/conformance/build.sh compiles and runs them).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Arch, ARCHES, corpusJson, INT128_TYPES, KNOWN_STRUCTS, literal, makeSignature, makeStructs, predictLine, PROMOTED_TYPES, putStatement,
  renderSerialisers, Rng, SCALAR_TYPES, type Signature, type StructDef, structDecl, type TypeName,
} from './generate.ts';
import { isExtraType } from './types-values.ts';

export const CONVENTIONS_SEED = 20261202;

export interface ConventionDef {
  /** Short id used in function names. */
  id: string;
  /** The spellings used in prototypes, alternated (GCC attribute and MSVC keyword forms). */
  spellings: string[];
  random: number;
  /** Every known struct in the families (else a third of them). */
  structsEverywhere: boolean;
  /**
   * libffi's conventions that GCC cannot name are compiled as an equivalent GCC one with the parameters reordered:
   * pascal (pushed left to right, callee pops) is stdcall with the parameters reversed; register (eax, edx, ecx,
   * then pushed left to right, callee pops) is stdcall+regparm(3) with the three register arguments first and the
   * rest reversed. Such conventions take no variadic tails.
   */
  native?: 'reversed' | 'register-first';
}

export const CONVENTIONS: Record<Arch, ConventionDef[]> = {
  i386: [
    { id: 'cdecl', spellings: ['__attribute__((cdecl))', '__cdecl'], random: 30, structsEverywhere: false },
    { id: 'stdcall', spellings: ['__attribute__((stdcall))', '__stdcall', '__attribute__((__stdcall__))'], random: 60, structsEverywhere: true },
    { id: 'fastcall', spellings: ['__attribute__((fastcall))', '__fastcall'], random: 80, structsEverywhere: true },
    { id: 'thiscall', spellings: ['__attribute__((thiscall))', '__thiscall'], random: 60, structsEverywhere: true },
    { id: 'regparm1', spellings: ['__attribute__((regparm(1)))'], random: 50, structsEverywhere: true },
    { id: 'regparm2', spellings: ['__attribute__((regparm(2)))'], random: 50, structsEverywhere: true },
    { id: 'regparm3', spellings: ['__attribute__((regparm(3)))'], random: 80, structsEverywhere: true },
    { id: 'stdregparm', spellings: ['__attribute__((stdcall, regparm(3)))', '__attribute__((regparm(2))) __stdcall'], random: 50, structsEverywhere: true },
    { id: 'mscdecl', spellings: ['__attribute__((callee_pop_aggregate_return(0)))'], random: 20, structsEverywhere: false },
    { id: 'pascal', spellings: ['__attribute__((pascal))'], random: 60, structsEverywhere: true, native: 'reversed' },
    { id: 'register', spellings: ['__attribute__((register))'], random: 80, structsEverywhere: true, native: 'register-first' },
  ],
  amd64: [
    { id: 'msabi', spellings: ['__attribute__((ms_abi))', '__attribute__((__ms_abi__))'], random: 250, structsEverywhere: true },
    { id: 'sysv', spellings: ['__attribute__((sysv_abi))'], random: 40, structsEverywhere: false },
  ],
};

export interface ConventionSignature extends Signature {
  convention: string;
  /** The convention's attribute text as written in the prototype. */
  spelling: string;
  /** For `native` conventions: the GCC declaration the callee is compiled with, and its parameter order. */
  nativeProto?: string;
  nativeSpelling?: string;
  nativeOrder?: number[];
}

export const NATIVE_SPELLING = { reversed: '__attribute__((stdcall))', 'register-first': '__attribute__((stdcall, regparm(3)))' };

/**
 * libffi FFI_REGISTER: an argument that takes a register (an integer or pointer of up to 4 bytes, not a struct;
 * never a complex, __float128 or vector value: types-values.ts).
 */
const takesRegister = (t: TypeName) => !t.startsWith('struct ') && !isExtraType(t) && !['float', 'double', 'long double', 'long long', 'unsigned long long'].includes(t);

/** The native parameter order of a `native` convention's signature. */
export function nativeOrder(kind: 'reversed' | 'register-first', params: TypeName[]): number[] {
  const indices = params.map((_, i) => i);
  if (kind === 'reversed') return indices.reverse();
  const registers = indices.filter((i) => takesRegister(params[i]!)).slice(0, 3);
  return [...registers, ...indices.filter((i) => !registers.includes(i)).reverse()];
}

export interface ConventionsCorpus {
  arch: Arch;
  seed: number;
  decls: string;
  structs: StructDef[];
  signatures: ConventionSignature[];
}

/** `int <attr> name(int a0, …)`: the attribute after the return type, where GCC and MSVC both take it. */
function withConvention(sig: Signature, spelling: string): string {
  return sig.proto.replace(new RegExp(`^(.*?)\\b${sig.name}\\(`), (_, ret: string) => `${ret}${ret.endsWith(' ') || ret.endsWith('*') ? '' : ' '}${spelling} ${sig.name}(`);
}

export type Family = { ret: TypeName; params: TypeName[]; variadic?: TypeName[] };

/** register-first needs three register arguments for the GCC equivalent to hold: ints are added in front. */
export function fitFamily(def: Pick<ConventionDef, 'native'>, f: Family): Family | undefined {
  if (!def.native) return f;
  if (f.variadic || (def.native === 'register-first' && f.ret.startsWith('struct '))) return undefined;
  if (def.native === 'reversed') return f;
  const missing = Math.max(0, 3 - f.params.filter(takesRegister).length);
  return { ret: f.ret, params: [...Array(missing).fill('int'), ...f.params] };
}

function families(def: ConventionDef, arch: Arch, structTypes: TypeName[]): Family[] {
  const out: Family[] = [];
  // Every scalar in each of the first positions (which registers it takes, and what it uses up), and returned.
  for (const t of SCALAR_TYPES) {
    out.push({ ret: t, params: [t, 'int', 'int', 'int'] }, { ret: 'int', params: ['int', t, 'int', 'int'] }, { ret: 'int', params: ['char', 'short', t, 'int', 'int'] });
  }
  // Every known struct: alone and returned, between integers, and (register conventions) after one integer.
  const known = KNOWN_STRUCTS.map(([tag]) => `struct ${tag}`);
  for (const s of def.structsEverywhere ? known : known.filter((_, i) => i % 3 === 0)) {
    out.push({ ret: s, params: [s, 'int'] }, { ret: 'int', params: ['int', s, 'int', 'int'] }, { ret: 'int', params: ['int', 'int', s, 'int'] });
    if (arch === 'amd64') out.push({ ret: 'double', params: ['double', 'int', s, 'float', s, 'double'] });
  }
  out.push({ ret: 'long long', params: ['long long', 'int', 'long long', 'int'] }, { ret: 'void', params: [] }, { ret: 'int', params: ['void *', 'void *', 'void *', 'void *', 'void *'] });
  out.push({ ret: 'double', params: ['float', 'double', 'int', 'long double', 'int', 'char'] });
  if (arch === 'amd64') {
    // __int128: two INTEGER eightbytes (System V: a register pair or a 16-byte-aligned stack slot, never split);
    // Win64: by reference, returned in xmm0.
    for (const t of INT128_TYPES) {
      out.push({ ret: t, params: [t, 'int', t] }, { ret: t, params: ['long', 'long', 'long', 'long', 'long', t, 'int'] });
      out.push({ ret: 'int', params: ['char', t, 'double', t, 'long', t] }, { ret: 'double', params: ['double', t, 'float'] });
    }
  }
  // Variadic tails: all arguments on the stack (i386), doubles in both register files (Win64).
  const tails: TypeName[][] = [['int', 'int', 'int'], ['double', 'long long', 'int'], ['void *', 'double', 'unsigned int', 'double', 'long']];
  if (arch === 'i386') tails.push(['struct k_ii', 'struct k_c3', 'long double']);
  if (arch === 'amd64') tails.push(['double', 'double', 'double', 'double', 'double', 'double']);
  for (const tail of tails) {
    out.push({ ret: 'int', params: ['int'], variadic: tail }, { ret: 'double', params: ['double', 'int'], variadic: tail });
  }
  out.push({ ret: structTypes.includes('struct k_lll') ? 'struct k_lll' : 'int', params: ['int'], variadic: ['int', 'double'] });
  return out;
}

export function generateConventions(arch: Arch, seed = CONVENTIONS_SEED): ConventionsCorpus {
  const rng = new Rng(seed);
  const structs = makeStructs(rng);
  const structTypes = [...structs.keys()].map((tag) => `struct ${tag}`);
  const signatures: ConventionSignature[] = [];
  for (const def of CONVENTIONS[arch]) {
    let n = 0;
    const add = (ret: TypeName, params: TypeName[], variadic?: TypeName[]) => {
      const fitted = fitFamily(def, { ret, params, variadic });
      if (!fitted) return;
      const name = `${def.id}_${String(n++).padStart(3, '0')}`;
      const spelling = def.spellings[n % def.spellings.length]!;
      const sig = makeSignature(rng, structs, name, fitted.ret, fitted.params, fitted.variadic);
      const out: ConventionSignature = { ...sig, proto: withConvention(sig, spelling), convention: def.id, spelling };
      if (def.native) {
        out.nativeSpelling = NATIVE_SPELLING[def.native];
        out.nativeOrder = nativeOrder(def.native, fitted.params);
        const list = out.nativeOrder.map((i) => `${fitted.params[i]}${fitted.params[i]!.endsWith('*') ? '' : ' '}a${i}`);
        out.nativeProto = `${fitted.ret}${fitted.ret.endsWith('*') ? '' : ' '}${out.nativeSpelling} ${name}(${list.join(', ') || 'void'})`;
      }
      signatures.push(out);
    };
    for (const f of families(def, arch, structTypes)) add(f.ret, f.params, f.variadic);
    // GCC's Win64 va_arg reads a long double in place although its callers pass it by reference (both gcc 12):
    // native code disagrees with itself there, so the corpus leaves it out.
    const variadicTypes = def.id === 'msabi' ? PROMOTED_TYPES.filter((t) => t !== 'long double') : PROMOTED_TYPES;
    const randomType = (): TypeName => (rng.chance(0.35) ? rng.pick(structTypes) : rng.pick(SCALAR_TYPES));
    for (let i = 0; i < def.random; i++) {
      const params = Array.from({ length: rng.chance(0.15) ? rng.range(7, 12) : rng.range(0, 6) }, randomType);
      let variadic: TypeName[] | undefined;
      if (params.length && !def.native && rng.chance(0.15)) variadic = Array.from({ length: rng.range(1, 4) }, () => rng.pick(variadicTypes));
      const r = rng.int(100);
      const ret = r < 10 ? 'void' : r < 60 || def.native === 'register-first' ? rng.pick(SCALAR_TYPES) : rng.pick(structTypes);
      add(ret, params, variadic);
    }
  }
  const defs = [...structs.values()];
  return { arch, seed, decls: defs.map(structDecl).join('\n') + '\n', structs: defs, signatures };
}

// ---------------------------------------------------------------------------------------------------------------
// C sources

/** GCC on Linux has no MSVC keywords: the header defines them as the attributes they stand for. */
const KEYWORD_DEFINES = ['cdecl', 'stdcall', 'fastcall', 'thiscall']
  .map((k) => `#ifndef __${k}\n#define __${k} __attribute__((${k}))\n#endif`).join('\n');

const CB = 'cb_';
const isMsAbi = (sig: ConventionSignature) => sig.convention === 'msabi';

/** The function-pointer type of a signature, `int (__stdcall *NAME)(int, double)`: as declared, or GCC's equivalent. */
export function pointerType(sig: ConventionSignature, name = '', native = false): string {
  const order = native && sig.nativeOrder ? sig.nativeOrder : sig.params.map((_, i) => i);
  const spelling = native && sig.nativeSpelling ? sig.nativeSpelling : sig.spelling;
  return `${sig.ret} (${spelling} *${name})(${order.map((i) => sig.params[i]).join(', ') || 'void'}${sig.isVariadic ? ', ...' : ''})`;
}

export const hasCallback = (sig: ConventionSignature) => !sig.isVariadic;

export function renderConventionsHeader(c: ConventionsCorpus): string {
  return [
    '/* Generated by test/conformance/conventions.ts. */',
    '#ifndef CONVENTIONS_CORPUS_H', '#define CONVENTIONS_CORPUS_H',
    '#ifdef __x86_64__', '#define ARCH(amd64, i386) (amd64)', '#else', '#define ARCH(amd64, i386) (i386)', '#endif',
    KEYWORD_DEFINES,
    c.decls,
    'extern unsigned char conformance_out[];', 'extern unsigned int conformance_len;', 'extern unsigned int conformance_split;',
    'void conformance_reset(void);',
    ...c.signatures.map((s) => `${s.nativeProto ?? s.proto};`),
    ...c.signatures.filter(hasCallback).map((s) => `void ${CB}${s.name}(${pointerType(s, 'fp', true)});`),
    '#endif', '',
  ].join('\n');
}

/** A call with the signature's values, in the native parameter order. */
function callExpression(sig: ConventionSignature, callee: string, structs: Map<string, StructDef>): string {
  const types = [...sig.params, ...sig.variadic];
  const order = sig.nativeOrder ?? types.map((_, i) => i);
  return `${callee}(${order.map((i) => literal(types[i]!, sig.args[i]!, structs)).join(', ')})`;
}

export function renderConventionsCallees(c: ConventionsCorpus): string {
  const structs = new Map(c.structs.map((d) => [d.tag, d]));
  const lines = [
    '/* Generated by test/conformance/conventions.ts: callees that record what they received, and invokers. */',
    '#include <stdarg.h>', '#include <stdlib.h>', `#include "conventions-${c.arch}.h"`,
    '#define EXPORT __attribute__((visibility("default")))',
    'EXPORT unsigned char conformance_out[8192];', 'EXPORT unsigned int conformance_len;', 'EXPORT unsigned int conformance_split;',
    'EXPORT void conformance_reset(void) { conformance_len = 0; conformance_split = 0; }',
    '#define SINK conformance_out', '#define SINK_LEN conformance_len',
    renderSerialisers(c),
  ];
  for (const sig of c.signatures) {
    const body: string[] = sig.params.map((t, i) => `  ${putStatement(t, `a${i}`)}`);
    if (sig.isVariadic) {
      // Win64 functions keep their variadic arguments in the integer registers' home area: GCC's ms va_list.
      const [list, start, end] = isMsAbi(sig) ? ['__builtin_ms_va_list', '__builtin_ms_va_start', '__builtin_ms_va_end'] : ['va_list', 'va_start', 'va_end'];
      body.push(`  ${list} ap;`, `  ${start}(ap, a${sig.params.length - 1});`);
      sig.variadic.forEach((t) => body.push(`  { ${t}${t.endsWith('*') ? '' : ' '}v = __builtin_va_arg(ap, ${t}); ${putStatement(t, 'v')} }`));
      body.push(`  ${end}(ap);`);
    }
    if (sig.ret !== 'void') body.push(`  return ${literal(sig.ret, sig.retValue!, structs)};`);
    lines.push(`EXPORT ${sig.nativeProto ?? sig.proto} {`, ...body, '}');
    if (!hasCallback(sig)) continue;
    // The invoker: calls the pointer with the signature's values, then records the value it got back.
    const call = callExpression(sig, 'fp', structs);
    lines.push(`EXPORT void ${CB}${sig.name}(${pointerType(sig, 'fp', true)}) {`);
    if (sig.ret === 'void') lines.push(`  ${call};`, '  conformance_split = conformance_len;');
    else lines.push(`  ${sig.ret}${sig.ret.endsWith('*') ? '' : ' '}r = ${call};`, '  conformance_split = conformance_len;', `  ${putStatement(sig.ret, 'r')}`);
    lines.push('}');
  }
  return lines.join('\n') + '\n';
}

export function renderConventionsCaller(c: ConventionsCorpus): string {
  const structs = new Map(c.structs.map((d) => [d.tag, d]));
  const lines = [
    '/* Generated by test/conformance/conventions.ts: the native caller; its output is the expected answer. */',
    '#include <stdio.h>', '#include <stdlib.h>', `#include "conventions-${c.arch}.h"`,
    'static unsigned char ret_buf[1024];', 'static unsigned int ret_len;',
    '#define SINK ret_buf', '#define SINK_LEN ret_len',
    renderSerialisers(c),
    'static void hex(const unsigned char *b, unsigned n) { if (n == 0) fputs("-", stdout); for (unsigned i = 0; i < n; i++) printf("%02x", b[i]); }',
    'static void line(const char *name) { printf("%s ", name); hex(conformance_out, conformance_len); putchar(\' \'); hex(ret_buf, ret_len); putchar(\'\\n\'); }',
    'static void cb_line(const char *name) { printf("%s ", name); hex(conformance_out, conformance_split); putchar(\' \'); hex(conformance_out + conformance_split, conformance_len - conformance_split); putchar(\'\\n\'); }',
  ];
  const main: string[] = [];
  for (const sig of c.signatures) {
    const call = callExpression(sig, sig.name, structs);
    lines.push(`static void call_${sig.name}(void) {`, '  conformance_reset();', '  ret_len = 0;');
    if (sig.ret === 'void') lines.push(`  ${call};`);
    else lines.push(`  ${sig.ret}${sig.ret.endsWith('*') ? '' : ' '}r = ${call};`, `  ${putStatement(sig.ret, 'r')}`);
    lines.push(`  line("${sig.name}");`, '}');
    main.push(`  call_${sig.name}();`);
    if (hasCallback(sig)) main.push(`  conformance_reset(); ${CB}${sig.name}(${sig.name}); cb_line("${CB}${sig.name}");`);
  }
  lines.push('int main(void) {', ...main, '  return 0;', '}');
  return lines.join('\n') + '\n';
}

/** The lines a correct run prints: each call, then its callback line (same bytes, `cb_` name). */
export function predictConventionLines(c: ConventionsCorpus): string[] {
  const structs = new Map(c.structs.map((d) => [d.tag, d]));
  return c.signatures.flatMap((sig) => {
    const line = predictLine(sig, structs, c.arch);
    return hasCallback(sig) ? [line, `${CB}${line}`] : [line];
  });
}

function main(argv: string[]): void {
  const i = argv.indexOf('--out');
  const dir = i >= 0 ? argv[i + 1]! : 'build/conformance';
  mkdirSync(dir, { recursive: true });
  for (const arch of ARCHES) {
    const c = generateConventions(arch);
    writeFileSync(join(dir, `conventions-${arch}.h`), renderConventionsHeader(c));
    writeFileSync(join(dir, `conventions-${arch}-callees.c`), renderConventionsCallees(c));
    writeFileSync(join(dir, `conventions-${arch}-caller.c`), renderConventionsCaller(c));
    const { signatures, structs, ...head } = c;
    writeFileSync(join(dir, `conventions-${arch}.json`), corpusJson({ ...head, count: 0, decls: c.decls, structs, signatures } as never));
    writeFileSync(join(dir, `conventions-predicted-${arch}.txt`), predictConventionLines(c).join('\n') + '\n');
    console.log(`${arch}: ${c.signatures.length} convention signatures → ${dir}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
