/**
 * Structs through `...` (libffi's va_struct tests): `vararg.struct('tag', value)` in the API and `struct TAG:{…}`
 * on the command line, checked against the native answers of the conformance corpus's variadic-struct signatures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseToken } from '../src/cli/tokens.ts';
import { ArgumentError, type HostValue, TypedValue, vararg } from '../src/callspec/values.ts';
import type { Machine } from '../src/machine.ts';
import { ARCHES, hexOf } from './conformance/generate.ts';
import { bootCorpusMachine, corpus, expectedLines, hostValue, LIB, meaningful } from './conformance/runner.ts';

const cases = corpus.signatures.filter((s) => s.variadic.some((t) => t.startsWith('struct ')));

for (const arch of ARCHES) {
  describe(`vararg.struct on ${arch}`, () => {
    let m: Machine;
    beforeAll(async () => {
      m = await bootCorpusMachine(arch);
    });
    afterAll(() => m?.close());

    it('passes structs through ... exactly as gcc-compiled callers do', () => {
      expect(cases.length).toBeGreaterThanOrEqual(2);
      const reset = m.fn(LIB, 'void conformance_reset(void)');
      for (const sig of cases) {
        const proto = m.declarations.parsePrototype(sig.proto);
        const args: HostValue[] = proto.params.map((p, i) => hostValue(p.type, sig.args[i]!, arch));
        sig.variadic.forEach((t, j) => {
          const value = hostValue(m.declarations.parseType(t), sig.args[proto.params.length + j]!, arch);
          if (t.startsWith('struct ')) args.push(vararg.struct(t.slice('struct '.length), value));
          else args.push(new TypedValue(m.declarations.parseType(t), value));
        });
        reset();
        const r = m.fn(LIB, sig.proto)(...args);
        const length = new DataView(m.read(m.address('conformance_len', LIB), 4).buffer).getUint32(0, true);
        const line = `${sig.name} ${hexOf(m.read(m.address('conformance_out', LIB), length))} ${hexOf(meaningful(proto.ret, r.returnBytes, arch))}`;
        expect(line, sig.proto).toBe(expectedLines(arch)[corpus.signatures.indexOf(sig)]);
      }
    });

    it('an undeclared tag is an ArgumentError that says how to declare it', () => {
      const f = m.fn(LIB, cases[0]!.proto);
      expect(() => f(...cases[0]!.params.map(() => 0), vararg.struct('nowhere', [1]))).toThrow(ArgumentError);
      expect(() => f(...cases[0]!.params.map(() => 0), vararg.struct('nowhere', [1]))).toThrow(/struct nowhere is not defined; declare it/);
    });
  });
}

describe('struct TAG:{…} tokens', () => {
  it('parse to a struct reference with its field values', () => {
    const v = parseToken('struct k_dd:{1.5, -2}', undefined, 3) as TypedValue;
    expect(v).toBeInstanceOf(TypedValue);
    expect(v.type).toEqual({ kind: 'struct', tag: 'k_dd' });
    expect(v.value).toEqual(['1.5', '-2']);
    expect((parseToken('union u:{7}', undefined, 2) as TypedValue).type).toEqual({ kind: 'union', tag: 'u' });
    expect(() => parseToken('struct k_dd', undefined, 3)).toThrow(/or struct TAG:\{…\} for a struct/);
  });
});
