/**
 * The calling-conventions corpus (issue 12): stdcall, fastcall, thiscall, regparm(N), MS cdecl (i386), ms_abi and
 * sysv_abi (amd64), each called from the host and each as a TypeScript callback called by gcc-compiled code,
 * against what the natively compiled caller recorded on this x86 machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../src/machine.ts';
import { CONVENTIONS, predictConventionLines } from './conformance/conventions.ts';
import {
  bootConventionsMachine, ConventionRunner, conventionsCorpus, conventionsExpected, expectedByName, runConventions,
} from './conformance/conventions-runner.ts';
import { ARCHES } from './conformance/generate.ts';

for (const arch of ARCHES) {
  describe(`calling-conventions corpus on ${arch}`, () => {
    const corpus = conventionsCorpus(arch);
    let m: Machine;
    beforeAll(async () => {
      m = await bootConventionsMachine(arch, corpus);
    });
    afterAll(() => m?.close());

    it('covers every convention with calls and callbacks, and the native answers are what the values predict', () => {
      for (const def of CONVENTIONS[arch]) {
        const mine = corpus.signatures.filter((s) => s.convention === def.id);
        expect(mine.length, def.id).toBeGreaterThan(100);
        expect(mine.some((s) => s.isVariadic), def.id).toBe(def.native === undefined);
      }
      expect(conventionsExpected(arch)).toEqual(predictConventionLines(corpus));
    });

    // One test per convention: each runs a few hundred calls and callbacks (and yields to vitest in between).
    for (const def of CONVENTIONS[arch]) {
      it(`${def.id}: every call and every callback matches native x86`, async () => {
        const run = await runConventions(new ConventionRunner(m, arch), corpus.signatures.filter((s) => s.convention === def.id), expectedByName(arch));
        console.log(`conventions ${arch} ${def.id}: ${run.passed}/${run.total} match`);
        expect(run.mismatches.slice(0, 20).join('\n'), `${run.mismatches.length} of ${run.total} lines differ`).toBe('');
      }, 120_000);
    }
  });
}
