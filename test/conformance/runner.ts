/**
 * Runs the conformance corpus on an emulated machine and compares each signature's line with what the natively
 * compiled caller recorded on real x86 hardware. Shared by test/conformance.test.ts and `npm run bench`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { X87_EXTENDED_BYTES, sizeOf, structLayout } from '../../src/callspec/layout.ts';
import type { CType, Prototype } from '../../src/callspec/types.ts';
import { type HostValue, TypedValue } from '../../src/callspec/values.ts';
import { type CallResult, Machine } from '../../src/machine.ts';
import {
  ARCHES, type Arch, type Corpus, floatOf, forArch, hexOf, intOf, predictLine, type Signature, type StructDef, type Value, valueBytes,
} from './generate.ts';

export const DIR = fileURLToPath(new URL('../../fixtures/conformance/', import.meta.url));
export const LIB = 'libconformance.so'; // the soname both libconformance-<arch>.so files are linked with
export const MIN_SIGNATURES = 1000;

export const corpus = JSON.parse(readFileSync(`${DIR}corpus.json`, 'utf8')) as Corpus;
export const structs = new Map<string, StructDef>(corpus.structs.map((d) => [d.tag, d]));
export const expectedLines = (arch: Arch) => readFileSync(`${DIR}expected-${arch}.txt`, 'utf8').trimEnd().split('\n');

// ---------------------------------------------------------------------------------------------------------------
// Host values from the corpus's JSON values

export function hostValue(type: CType, value: Value, arch: Arch): HostValue {
  switch (type.kind) {
    case 'struct': {
      const values = value as Value[];
      return type.fields!.map((f, i) => hostValue(f.type, values[i]!, arch));
    }
    case 'array':
      return (value as Value[]).map((e) => hostValue(type.of, e, arch));
    case 'float':
      // __float128 values are text, parsed exactly (a number would be a double first).
      if (type.name === '__float128') return value as string;
      return floatOf(forArch(value, arch));
    case 'complex': {
      const [re, im] = value as Value[];
      const part: CType = { kind: 'float', name: type.of };
      return { re: hostValue(part, re!, arch), im: hostValue(part, im!, arch) };
    }
    case 'vector':
      return (value as Value[]).map((e) => hostValue(type.of, e, arch));
    case 'int':
    case 'pointer': {
      const v = intOf(forArch(value, arch));
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
    }
    default:
      throw new Error(`unexpected parameter type ${type.kind}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The emulated line

/** The meaningful bytes of a C value's memory image: field by field, long double as its 10 x87 bytes. */
export function meaningful(type: CType, bytes: Uint8Array, arch: Arch): number[] {
  switch (type.kind) {
    case 'void':
      return [];
    case 'struct':
      return structLayout(type, arch).fields.flatMap((f) => meaningful(f.type, bytes.subarray(f.offset, f.offset + f.size), arch));
    case 'array': {
      const size = sizeOf(type.of, arch);
      return Array.from({ length: type.length }, (_, i) => meaningful(type.of, bytes.subarray(i * size, (i + 1) * size), arch)).flat();
    }
    case 'float':
      return [...bytes.subarray(0, type.name === 'long double' ? X87_EXTENDED_BYTES : sizeOf(type, arch))];
    case 'complex': {
      // Each part's meaningful bytes (a long double part's 10 x87 bytes, not its padding).
      const part: CType = { kind: 'float', name: type.of };
      const size = sizeOf(part, arch);
      return [...meaningful(part, bytes.subarray(0, size), arch), ...meaningful(part, bytes.subarray(size, 2 * size), arch)];
    }
    default:
      return [...bytes.subarray(0, sizeOf(type, arch))];
  }
}

export class Runner {
  private readonly outAddress: number;
  private readonly lenAddress: number;
  /** Empties the callees' record (conformance_out). */
  protected readonly reset: () => void;

  constructor(
    protected readonly m: Machine,
    protected readonly arch: Arch,
    protected readonly lib: string = LIB,
  ) {
    this.outAddress = m.address('conformance_out', lib);
    this.lenAddress = m.address('conformance_len', lib);
    const reset = m.fn(lib, 'void conformance_reset(void)');
    this.reset = () => void reset();
  }

  /** The bytes the callees recorded since the last reset. */
  protected recorded(): Uint8Array {
    const length = new DataView(this.m.read(this.lenAddress, 4).buffer).getUint32(0, true);
    return length ? this.m.read(this.outAddress, length) : new Uint8Array(0);
  }

  /** Calls the signature's function with its values: the parsed prototype and the result. */
  protected callSignature(sig: Signature): { proto: Prototype; result: CallResult } {
    const { m, arch } = this;
    const proto = m.declarations.parsePrototype(sig.proto);
    const args: HostValue[] = proto.params.map((p, i) => hostValue(p.type, sig.args[i]!, arch));
    sig.variadic.forEach((t, j) => {
      const type = m.declarations.parseType(t);
      args.push(new TypedValue(type, hostValue(type, sig.args[proto.params.length + j]!, arch)));
    });
    const f = m.fnAt(m.address(sig.name, this.lib), proto);
    this.reset();
    return { proto, result: f(...args) };
  }

  /** Calls the signature's function with its values; returns the line in the native caller's format. */
  run(sig: Signature): string | string[] {
    const { proto, result } = this.callSignature(sig);
    return `${sig.name} ${hexOf(this.recorded())} ${hexOf(meaningful(proto.ret, result.returnBytes, this.arch))}`;
  }
}

/** Where two lines first differ, in terms of the signature's arguments. */
function explain(sig: Signature, expected: string, actual: string, arch: Arch): string {
  const [, expOut = '', expRet = ''] = expected.split(' ');
  const [, actOut = '', actRet = ''] = actual.split(' ');
  const types = [...sig.params, ...sig.variadic];
  const parts: string[] = [];
  if (expOut !== actOut) {
    let at = 0;
    const bad = types.findIndex((t, i) => {
      const n = valueBytes(t, sig.args[i]!, structs, arch).length * 2;
      const differs = expOut.slice(at, at + n) !== actOut.slice(at, at + n);
      at += n;
      return differs;
    });
    parts.push(bad < 0 ? 'received bytes differ in length' : `argument ${bad} (${types[bad]}${bad >= sig.params.length ? ', variadic' : ''}) differs first`);
  }
  if (expRet !== actRet) parts.push(`return value (${sig.ret}) differs`);
  return `${sig.name}: ${sig.proto}${sig.isVariadic ? ` with variadic (${sig.variadic.join(', ')})` : ''}\n` +
    `  ${parts.join('; ')}\n  expected ${expected}\n  actual   ${actual}`;
}


export interface CorpusRun {
  total: number;
  passed: number;
  /** Explanations of the first differences (signature, which argument differs, expected and actual lines). */
  mismatches: string[];
  milliseconds: number;
}

/** Boots a machine with the corpus library and declarations for `arch`. */
export function bootCorpusMachine(arch: Arch): Promise<Machine> {
  return Machine.boot({ arch, libs: [`${DIR}libconformance-${arch}.so`], decls: corpus.decls });
}

/** Calls every signature of the corpus on `m` and compares with the native answers. */
export function runCorpus(m: Machine, arch: Arch): CorpusRun {
  const expected = expectedLines(arch);
  const runner = new Runner(m, arch);
  const mismatches: string[] = [];
  const started = performance.now();
  corpus.signatures.forEach((sig, i) => {
    let line: string;
    try {
      line = runner.run(sig) as string;
    } catch (error) {
      line = `${sig.name} threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
    }
    if (line !== expected[i]) mismatches.push(explain(sig, expected[i]!, line, arch));
  });
  const total = corpus.signatures.length;
  return { total, passed: total - mismatches.length, mismatches, milliseconds: performance.now() - started };
}
