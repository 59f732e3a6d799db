/**
 * Runs the calling-conventions corpus (conventions.ts) on an emulated machine: each signature called from the host
 * through its convention's reference trampoline, and each invoker (`cb_…`) handed a TypeScript callback of that
 * convention; the lines are compared with what the natively compiled caller printed on real x86.
 */
import { readFileSync } from 'node:fs';
import { encodeValue, type HostValue, TypedValue } from '../../src/callspec/values.ts';
import { Machine } from '../../src/machine.ts';
import type { ConventionsCorpus, ConventionSignature } from './conventions.ts';
import { hasCallback, pointerType } from './conventions.ts';
import { type Arch, hexOf } from './generate.ts';
import { DIR, hostValue, meaningful } from './runner.ts';

export const CONVENTIONS_LIB = 'libconventions.so';

export const conventionsCorpus = (arch: Arch) => JSON.parse(readFileSync(`${DIR}conventions-${arch}.json`, 'utf8')) as ConventionsCorpus;
export const conventionsExpected = (arch: Arch) => readFileSync(`${DIR}conventions-expected-${arch}.txt`, 'utf8').trimEnd().split('\n');

export function bootConventionsMachine(arch: Arch, corpus: ConventionsCorpus): Promise<Machine> {
  return Machine.boot({ arch, libs: [`${DIR}libconventions-${arch}.so`], decls: corpus.decls });
}

/** Calls one signature and, when it has one, its invoker with a callback: the lines in the native caller's format. */
export function runConventionSignature(m: Machine, arch: Arch, sig: ConventionSignature): string[] {
  const lib = CONVENTIONS_LIB;
  const read = () => {
    const length = new DataView(m.read(m.address('conformance_len', lib), 4).buffer).getUint32(0, true);
    const split = new DataView(m.read(m.address('conformance_split', lib), 4).buffer).getUint32(0, true);
    const out = length ? m.read(m.address('conformance_out', lib), length) : new Uint8Array(0);
    return { out, split };
  };
  const reset = m.fn(lib, 'void conformance_reset(void)');
  const proto = m.declarations.parsePrototype(sig.proto);
  const args: HostValue[] = proto.params.map((p, i) => hostValue(p.type, sig.args[i]!, arch));
  sig.variadic.forEach((t, j) => {
    const type = m.declarations.parseType(t);
    args.push(new TypedValue(type, hostValue(type, sig.args[proto.params.length + j]!, arch)));
  });
  reset();
  const result = m.fnAt(m.address(sig.name, lib), proto)(...args);
  const lines = [`${sig.name} ${hexOf(read().out)} ${hexOf(meaningful(proto.ret, result.returnBytes, arch))}`];
  if (!hasCallback(sig)) return lines;

  // The callback records the meaningful bytes of what it received, re-encoded from the decoded values.
  let received: number[] = [];
  const ret = sig.ret === 'void' ? undefined : hostValue(proto.ret, sig.retValue!, arch);
  const callback = m.callback(pointerType(sig), (...values) => {
    received = proto.params.flatMap((p, i) => {
      const image = encodeValue(p.type, values[i] as HostValue, arch, { place: () => 0 }, `cb arg ${i}`).bytes;
      return meaningful(p.type, image, arch);
    });
    return ret;
  });
  try {
    reset();
    m.fn(lib, `void cb_${sig.name}(${pointerType(sig, 'fp')})`)(callback);
    const { out, split } = read();
    lines.push(`cb_${sig.name} ${hexOf(received)} ${hexOf(out.subarray(split))}`);
  } finally {
    callback.free();
  }
  return lines;
}

export interface ConventionsRun {
  total: number;
  passed: number;
  mismatches: string[];
}

export function runConventions(m: Machine, arch: Arch, corpus: ConventionsCorpus): ConventionsRun {
  const expected = conventionsExpected(arch);
  const actual: string[] = [];
  const notes = new Map<number, string>();
  for (const sig of corpus.signatures) {
    try {
      actual.push(...runConventionSignature(m, arch, sig));
    } catch (error) {
      notes.set(actual.length, `${sig.name}: ${sig.proto}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      actual.push(`${sig.name} threw`);
      if (hasCallback(sig)) actual.push(`cb_${sig.name} skipped`);
    }
  }
  const mismatches: string[] = [];
  expected.forEach((line, i) => {
    if (actual[i] === line) return;
    const name = line.split(' ')[0]!.replace(/^cb_/, '');
    const sig = corpus.signatures.find((s) => s.name === name);
    mismatches.push(notes.get(i) ?? `${sig?.proto ?? name}${sig?.isVariadic ? ` with (${sig.variadic.join(', ')})` : ''}\n  expected ${line}\n  actual   ${actual[i]}`);
  });
  if (actual.length !== expected.length) mismatches.push(`${actual.length} lines, expected ${expected.length}`);
  return { total: expected.length, passed: expected.length - mismatches.length, mismatches };
}
