/** Argument tokens (CLI and playground): out-buffer sizes are checked, not passed on as strings. */
import { describe, expect, it } from 'vitest';
import { parseToken } from '../src/cli/tokens.ts';
import { ArgumentError, HOST_ARENA_BYTES, OutBuffer } from '../src/callspec/values.ts';
import type { CType } from '../src/callspec/types.ts';

const charPtr: CType = { kind: 'pointer', to: { kind: 'int', name: 'char' } };

describe('out:N tokens', () => {
  it('out:64 is a 64-byte out buffer, for a char * as for any pointer', () => {
    const v = parseToken('out:64', charPtr, 1);
    expect(v).toBeInstanceOf(OutBuffer);
    expect((v as OutBuffer).size).toBe(64);
  });

  it.each(['out:abc', 'out:-5', 'out:', 'out:1.5', 'out: 8'])('%s is refused with what to write instead (not passed as a string)', (token) => {
    expect(() => parseToken(token, charPtr, 1)).toThrow(ArgumentError);
    expect(() => parseToken(token, charPtr, 1)).toThrow(/not an out-buffer size; write out:N/);
  });

  it('the size limit is the host arena the buffers live in, and the message says so', () => {
    expect((parseToken(`out:${HOST_ARENA_BYTES}`, charPtr, 1) as OutBuffer).size).toBe(HOST_ARENA_BYTES);
    expect(() => parseToken(`out:${HOST_ARENA_BYTES + 1}`, charPtr, 1)).toThrow(/up to 4 MiB \(the host arena/);
  });

  it('a string that merely contains "out:" later is still a string', () => {
    expect(parseToken('about:blank', charPtr, 1)).toBe('about:blank');
  });
});
