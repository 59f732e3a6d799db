/**
 * Runs the calling-conventions corpus (conventions.ts) on an emulated machine: each signature called from the host
 * through its convention's reference trampoline, and each invoker (`cb_…`) handed a TypeScript callback of that
 * convention; the lines are compared with what the natively compiled caller printed on real x86.
 */
import { readFileSync } from 'node:fs';
import { encodeValue, type HostValue } from '../../src/callspec/values.ts';
import { Machine } from '../../src/machine.ts';
import type { ConventionsCorpus, ConventionSignature } from './conventions.ts';
import { hasCallback, pointerType } from './conventions.ts';
import { type Arch, hexOf } from './generate.ts';
import { DIR, hostValue, meaningful, Runner } from './runner.ts';

export const CONVENTIONS_LIB = 'libconventions.so';

export const conventionsCorpus = (arch: Arch) => JSON.parse(readFileSync(`${DIR}conventions-${arch}.json`, 'utf8')) as ConventionsCorpus;
export const conventionsExpected = (arch: Arch) => readFileSync(`${DIR}conventions-expected-${arch}.txt`, 'utf8').trimEnd().split('\n');

export function bootConventionsMachine(arch: Arch, corpus: ConventionsCorpus): Promise<Machine> {
  return Machine.boot({ arch, libs: [`${DIR}libconventions-${arch}.so`], decls: corpus.decls });
}

/** Calls signatures of the conventions corpus, and their invokers with callbacks. */
export class ConventionRunner extends Runner {
  private readonly splitAddress: number;

  constructor(m: Machine, arch: Arch, lib = CONVENTIONS_LIB) {
    super(m, arch, lib);
    this.splitAddress = m.address('conformance_split', lib);
  }

  /** Calls one signature and, when it has one, its invoker with a callback: the lines in the native caller's format. */
  override run(sig: ConventionSignature): string[] {
    const { m, arch } = this;
    const { proto, result } = this.callSignature(sig);
    const lines = [`${sig.name} ${hexOf(this.recorded())} ${hexOf(meaningful(proto.ret, result.returnBytes, arch))}`];
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
      m.fnAt(m.address(`cb_${sig.name}`, this.lib), INVOKER)(callback);
      // The invoker recorded the callee's arguments (none: the callback records its own) and then the return value.
      const split = new DataView(m.read(this.splitAddress, 4).buffer).getUint32(0, true);
      lines.push(`cb_${sig.name} ${hexOf(received)} ${hexOf(this.recorded().subarray(split))}`);
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
