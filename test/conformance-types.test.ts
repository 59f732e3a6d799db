/**
 * The types corpus (issue 12): _Complex float/double/long double, __float128, _Float16 (amd64) and the 8- and
 * 16-byte vectors, alone and inside structs, under every calling convention GCC compiles on each arch — each called
 * from the host and each as a TypeScript callback called by gcc-compiled code, against what the natively compiled
 * caller recorded on this x86 machine (scripts/conformance/build.sh).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../src/machine.ts';
import type { ConventionsCorpus } from './conformance/conventions.ts';
import { predictConventionLines } from './conformance/conventions.ts';
import { ConventionRunner, runConventions } from './conformance/conventions-runner.ts';
import { ARCHES, type Arch, floatOf, hexFloat, type Value } from './conformance/generate.ts';
import { DIR, hostValue } from './conformance/runner.ts';
import { TypedValue, type HostValue, vararg } from '../src/callspec/values.ts';
import { parseToken } from '../src/cli/tokens.ts';
import { generateTypes, TYPE_CONVENTIONS } from './conformance/types.ts';
import { extraTypes } from './conformance/types-values.ts';

const corpusOf = (arch: Arch) => JSON.parse(readFileSync(`${DIR}types-${arch}.json`, 'utf8')) as ConventionsCorpus;
const expectedOf = (arch: Arch) => readFileSync(`${DIR}types-expected-${arch}.txt`, 'utf8').trimEnd().split('\n');

for (const arch of ARCHES) {
  describe(`types corpus on ${arch}`, () => {
    const corpus = corpusOf(arch);
    const expected = expectedOf(arch);
    const byName = new Map(expected.map((line) => [line.slice(0, line.indexOf(' ')), line]));
    let m: Machine;
    beforeAll(async () => {
      m = await Machine.boot({ arch, libs: [`${DIR}libtypes-${arch}.so`], decls: corpus.decls });
    });
    afterAll(() => m?.close());

    it('is what the generator makes, covers every new type under every convention, and the native answers are what the values predict', () => {
      const generated = JSON.parse(JSON.stringify(generateTypes(arch))) as ConventionsCorpus;
      expect(generated.signatures).toEqual(corpus.signatures);
      expect(generated.decls).toEqual(corpus.decls);
      for (const def of TYPE_CONVENTIONS[arch]) {
        const mine = corpus.signatures.filter((s) => s.convention === def.id);
        // pascal and register (compiled as reordered stdcall) take no 16-byte-aligned argument; register returns none in memory.
        const types = def.native ? extraTypes(arch).filter((t) => !['__float128', '__m128', '__m128d', '__m128i', 'v4si', 'v8hu'].includes(t)) : extraTypes(arch);
        for (const t of types) {
          if (def.native !== 'register-first' || t === '_Complex float') expect(mine.some((s) => s.ret === t && !s.isVariadic), `${def.id} returns ${t}`).toBe(true);
          expect(mine.some((s) => s.params.includes(t) && !s.isVariadic), `${def.id} takes ${t}`).toBe(true);
        }
      }
      expect(expected).toEqual(predictConventionLines(corpus));
    });

    it('--check: every type family under every convention is called clean (x87 depth 2 for complex long double, pops, alignment)', async () => {
      const checked = await Machine.boot({ arch, check: true, libs: [`${DIR}libtypes-${arch}.so`], decls: corpus.decls });
      try {
        const reset = checked.fn('libtypes.so', 'void conformance_reset(void)');
        // The hand-picked families come first in each convention's run: every type alone, returned, among others.
        for (const def of TYPE_CONVENTIONS[arch]) {
          for (const sig of corpus.signatures.filter((s) => s.convention === def.id).slice(0, 60)) {
            const proto = checked.declarations.parsePrototype(sig.proto);
            const args: HostValue[] = proto.params.map((p, i) => hostValue(p.type, sig.args[i]!, arch));
            sig.variadic.forEach((t, j) => {
              const type = checked.declarations.parseType(t);
              args.push(new TypedValue(type, hostValue(type, sig.args[proto.params.length + j]!, arch)));
            });
            reset();
            const r = checked.fn('libtypes.so', proto)(...args);
            expect(r.abi, sig.proto).toEqual({ ok: true, violations: [] });
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      } finally {
        checked.close();
      }
    }, 180_000);

    it('complex and __float128 values through ... from vararg.* helpers and CLI tokens arrive as native callers pass them', () => {
      const helpers: Record<string, (v: HostValue) => HostValue> = {
        '_Complex float': vararg.complexfloat, '_Complex double': vararg.complexdouble, '_Complex long double': vararg.complexlongdouble,
        __float128: (v) => vararg.float128(v as string),
      };
      const prefixes: Record<string, string> = { '_Complex float': 'complexfloat', '_Complex double': 'complexdouble', '_Complex long double': 'complexlongdouble', __float128: 'float128' };
      const cases = corpus.signatures.filter((s) => s.isVariadic && s.variadic.some((t) => t in helpers) && s.variadic.every((t) => t in helpers || t === 'int' || t === 'double'));
      expect(cases.length).toBeGreaterThan(5);
      const reset = m.fn('libtypes.so', 'void conformance_reset(void)');
      const out = m.address('conformance_out', 'libtypes.so');
      const len = m.address('conformance_len', 'libtypes.so');
      for (const viaTokens of [false, true]) {
        for (const sig of cases) {
          const proto = m.declarations.parsePrototype(sig.proto);
          const args: HostValue[] = proto.params.map((p, i) => hostValue(p.type, sig.args[i]!, arch));
          sig.variadic.forEach((t, j) => {
            const value = sig.args[proto.params.length + j]!;
            if (viaTokens) {
              // Parts as exact hex floats: a long double part's decimal text would be rounded to 64 bits, not read as the double it is.
              const part = (v: unknown) => {
                const n = floatOf(v as Value);
                return Number.isFinite(n) ? hexFloat(n) : n > 0 ? 'inf' : '-inf';
              };
              const text = Array.isArray(value) ? `{${value.map(part).join(', ')}}` : t === 'double' ? part(value) : String(value);
              args.push(parseToken(`${prefixes[t] ?? t}:${text}`, undefined, j + 1));
            } else if (helpers[t]) {
              args.push(helpers[t]!(hostValue(m.declarations.parseType(t), value, arch)));
            } else {
              args.push(new TypedValue(m.declarations.parseType(t), hostValue(m.declarations.parseType(t), value, arch)));
            }
          });
          reset();
          m.fn('libtypes.so', proto)(...args);
          const n = new DataView(m.read(len, 4).buffer).getUint32(0, true);
          const received = Buffer.from(m.read(out, n)).toString('hex');
          expect(received, `${sig.proto} ${viaTokens ? 'tokens' : 'vararg.*'}`).toBe(byName.get(sig.name)!.split(' ')[1]);
        }
      }
    });

    for (const def of TYPE_CONVENTIONS[arch]) {
      it(`${def.id}: every call and every callback matches native x86`, async () => {
        const run = await runConventions(new ConventionRunner(m, arch, 'libtypes.so'), corpus.signatures.filter((s) => s.convention === def.id), byName);
        console.log(`types ${arch} ${def.id}: ${run.passed}/${run.total} match`);
        expect(run.mismatches.slice(0, 20).join('\n'), `${run.mismatches.length} of ${run.total} lines differ`).toBe('');
      }, 180_000);
    }
  });
}
