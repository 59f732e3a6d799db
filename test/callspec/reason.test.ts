/** The short "why" the plan tables show, from real CallSpec reasons. */
import { describe, expect, it } from 'vitest';
import { callSpec } from '../../src/callspec/classify.ts';
import { Declarations } from '../../src/callspec/parse.ts';
import { shortReason } from '../../src/callspec/reason.ts';

function spec(arch: 'amd64' | 'i386', prototype: string) {
  const decls = new Declarations();
  return callSpec(decls.parsePrototype(prototype), arch);
}

describe('shortReason', () => {
  it('a double returned in xmm0 says SSE → xmm0, not the INTEGER rule inside the psABI citation', () => {
    const ret = spec('amd64', 'double strtod(const char *s, char **end)').ret;
    expect(ret.reason).toContain('INTEGER eightbytes use the next of %rax');
    expect(shortReason(ret.reason)).toBe('class SSE → xmm0');
  });

  it('an argument keeps the words after its location, without the citation', () => {
    const arg = spec('amd64', 'double strtod(const char *s, char **end)').args[1]!;
    expect(shortReason(arg.reason)).toBe('second general-purpose argument register');
    const slot = spec('i386', 'double strtod(const char *s, char **end)').args[0]!;
    expect(shortReason(slot.reason)).toBe('in a 4-byte slot');
  });

  it('a reason without an arrow is kept up to its citation', () => {
    expect(shortReason('double is returned in %st0, the top of the x87 stack (i386 psABI §2.2.3)')).toBe('double is returned in %st0, the top of the x87 stack');
  });
});
