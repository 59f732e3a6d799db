/**
 * The conformance corpus (test/conformance/generate.ts, built by scripts/conformance/build.sh): for every
 * signature, the bytes a C callee received and the value it returned, emulated vs recorded natively on x86.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../src/machine.ts';
import { ARCHES, predictLine } from './conformance/generate.ts';
import { bootCorpusMachine, corpus, expectedLines, MIN_SIGNATURES, runCorpus, structs } from './conformance/runner.ts';

describe('conformance corpus', () => {
  it(`has at least ${MIN_SIGNATURES} generated signatures plus the hand-picked families`, () => {
    expect(corpus.signatures.filter((s) => s.name.startsWith('f')).length).toBeGreaterThanOrEqual(MIN_SIGNATURES);
    expect(corpus.signatures.filter((s) => s.name.startsWith('h')).length).toBeGreaterThan(0);
  });

  for (const arch of ARCHES) {
    it(`${arch}: the native answers are what the corpus values predict`, () => {
      // Guards the committed files against each other: expected-<arch>.txt was produced from corpus.json.
      expect(expectedLines(arch)).toEqual(corpus.signatures.map((s) => predictLine(s, structs, arch)));
    });
  }
});

for (const arch of ARCHES) {
  describe(`conformance corpus on ${arch}: emulated calls vs native x86`, () => {
    let m: Machine;
    beforeAll(async () => {
      m = await bootCorpusMachine(arch);
    });
    afterAll(() => m?.close());

    it('every signature matches the native answer', () => {
      const run = runCorpus(m, arch);
      console.log(`conformance ${arch}: ${run.passed}/${run.total} match in ${run.milliseconds.toFixed(0)} ms`);
      expect(run.mismatches.slice(0, 25).join('\n'), `${run.mismatches.length} of ${run.total} signatures differ`).toBe('');
    });
  });
}
