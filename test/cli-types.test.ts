/**
 * The new types through `shimulator call`, as a user runs it: _Complex tokens `{re, im}` into Debian's libm, exact
 * __float128 text and f128: tokens into a gcc-compiled library (the types corpus's), and JSON results that show
 * long double and __float128 values exactly, with the nearest doubles beside them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ARCHES } from '../src/emu/arch.ts';
import { Float128 } from '../src/callspec/float128.ts';
import type { ConventionsCorpus } from './conformance/conventions.ts';
import { DIR } from './conformance/runner.ts';
import { type Run, shimulatorCli } from './support/spawn.ts';

function json(run: Run): Record<string, unknown> {
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout);
}

describe.each(ARCHES)('shimulator call --arch %s with the new types', (arch) => {
  it('complex tokens into libm: conjl exactly (x87: parts), cexp as {re, im}', async () => {
    const conj = json(await shimulatorCli('call', '--arch', arch, '--json', '--lib', 'libm.so.6', 'long double _Complex conjl(long double _Complex z)', '{1.5, -0.3}'));
    expect(conj).toMatchObject({ return: { re: 'x87:3fffc000000000000000', im: 'x87:3ffd999999999999999a' }, returnApprox: { re: 1.5, im: 0.3 } });
    const exp = json(await shimulatorCli('call', '--arch', arch, '--json', '--lib', 'libm.so.6', 'double _Complex cexp(double _Complex z)', '{0, 0}'));
    expect(exp.return).toEqual({ re: 1, im: 0 });
  }, 60_000);

  it('__float128 text in, the gcc-compiled literal out, exactly', async () => {
    const corpus = JSON.parse(readFileSync(`${DIR}types-${arch}.json`, 'utf8')) as ConventionsCorpus;
    const sig = corpus.signatures.find((s) => s.ret === '__float128' && s.params.join() === '__float128,int,int,int' && !s.spelling)!;
    const r = json(await shimulatorCli('call', '--arch', arch, '--json', '--lib', `${DIR}libtypes-${arch}.so`, sig.proto, ...sig.args.map(String)));
    const expected = Float128.parse(sig.retValue as string);
    expect(r).toMatchObject({ return: expected.toString(), returnApprox: expected.toNumber() });
  }, 60_000);

  it('a bad __float128 token is one clear error', async () => {
    const run = await shimulatorCli('call', '--arch', arch, '--json', '--lib', 'libm.so.6', '__float128 f(__float128 x)', 'pi');
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/argument 1 \("pi"\): "pi" is not a number: expected a decimal \(2\.5, 1e-300\), a hex float \(0x1\.8p\+1\), inf or nan, or f128:<32 hex digits>/);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
