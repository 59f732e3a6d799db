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

/** Calls signatures of the corpus on one machine; addresses and the helper functions are looked up once. */
export class ConventionRunner {
  private readonly lenAddress: number;
  private readonly splitAddress: number;
  private readonly outAddress: number;
  private readonly reset: () => void;

  constructor(
    private readonly m: Machine,
    private readonly arch: Arch,
  ) {
    this.lenAddress = m.address('conformance_len', CONVENTIONS_LIB);
    this.splitAddress = m.address('conformance_split', CONVENTIONS_LIB);
    this.outAddress = m.address('conformance_out', CONVENTIONS_LIB);
    const reset = m.fn(CONVENTIONS_LIB, 'void conformance_reset(void)');
    this.reset = () => void reset();
  }

  private read(): { out: Uint8Array; split: number } {
    const { m } = this;
    const length = new DataView(m.read(this.lenAddress, 4).buffer).getUint32(0, true);
    const split = new DataView(m.read(this.splitAddress, 4).buffer).getUint32(0, true);
    return { out: length ? m.read(this.outAddress, length) : new Uint8Array(0), split };
  }

  /** Calls one signature and, when it has one, its invoker with a callback: the lines in the native caller's format. */
  run(sig: ConventionSignature): string[] {
    const { m, arch } = this;
    const proto = m.declarations.parsePrototype(sig.proto);
    const args: HostValue[] = proto.params.map((p, i) => hostValue(p.type, sig.args[i]!, arch));
    sig.variadic.forEach((t, j) => {
      const type = m.declarations.parseType(t);
      args.push(new TypedValue(type, hostValue(type, sig.args[proto.params.length + j]!, arch)));
    });
    this.reset();
    const result = m.fnAt(m.address(sig.name, CONVENTIONS_LIB), proto)(...args);
    const lines = [`${sig.name} ${hexOf(this.read().out)} ${hexOf(meaningful(proto.ret, result.returnBytes, arch))}`];
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
      this.reset();
      m.fnAt(m.address(`cb_${sig.name}`, CONVENTIONS_LIB), INVOKER)(callback);
      const { out, split } = this.read();
      lines.push(`cb_${sig.name} ${hexOf(received)} ${hexOf(out.subarray(split))}`);
    } finally {
      callback.free();
    }
    return lines;
  }
}

const INVOKER = 'void invoker(void *fp)';

export interface ConventionsRun {
  total: number;
  passed: number;
  mismatches: string[];
}

/** Signatures run between two yields to the event loop (vitest's worker must answer its RPC meanwhile). */
const YIELD_EVERY = 25;

/** Runs `signatures` (a run of the corpus, in order) against their lines of the native answers. */
export async function runConventions(runner: ConventionRunner, signatures: ConventionSignature[], expected: Map<string, string>): Promise<ConventionsRun> {
  const mismatches: string[] = [];
  let total = 0;
  for (const [index, sig] of signatures.entries()) {
    if (index % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
    let actual: string[];
    try {
      actual = runner.run(sig);
    } catch (error) {
      mismatches.push(`${sig.name}: ${sig.proto}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
      total += hasCallback(sig) ? 2 : 1;
      continue;
    }
    for (const line of actual) {
      total++;
      const name = line.slice(0, line.indexOf(' '));
      const want = expected.get(name);
      if (want !== line) mismatches.push(`${sig.proto}${sig.isVariadic ? ` with (${sig.variadic.join(', ')})` : ''}\n  expected ${want}\n  actual   ${line}`);
    }
  }
  return { total, passed: total - mismatches.length, mismatches };
}

/** The native answers by line name (`fastcall_012`, `cb_fastcall_012`). */
export function expectedByName(arch: Arch): Map<string, string> {
  return new Map(conventionsExpected(arch).map((line) => [line.slice(0, line.indexOf(' ')), line]));
}
