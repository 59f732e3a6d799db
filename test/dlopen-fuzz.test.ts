/**
 * Mutated libraries through the guest's own dlopen, in a live machine: whatever a damaged object does to ld.so,
 * the call ends in a result or a typed error, the host process lives on, and the rest of the machine still works
 * (`abs` in libc is found and called after every attempt). `npm run fuzz` runs more rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Arch } from '../src/emu/arch.ts';
import { BudgetExceededError, EngineError, GuestFault } from '../src/emu/errors.ts';
import { GuestExit } from '../src/kernel/kernel.ts';
import { AddressSpaceError } from '../src/kernel/memory-errors.ts';
import { GuestDeadlockError } from '../src/kernel/threads.ts';
import { DT_VERSYM } from '../src/loader/elf-constants.ts';
import { ElfError, parseElf } from '../src/loader/elf.ts';
import { findFixture } from '../src/loader/fixtures.ts';
import { TimeLimitError } from '../src/loader/limits.ts';
import { LoaderError } from '../src/loader/process.ts';
import { SymbolNotFoundError } from '../src/loader/symbols.ts';
import { DlopenError, Machine, MachineExitedError } from '../src/machine.ts';
import { Random, TARGETS, canCompile, compileSmallLibrary, fuzzRounds, fuzzSeed, mutate } from './fuzz/elf-mutations.ts';

/** Mutated copies of the small library per target in `npm test`. */
const QUICK_ROUNDS = 3;
/** Enough for ld.so to relocate a small library; a damaged constructor that loops ends here. */
const CALL_BUDGET = 50_000_000;
/** Growth of the host's resident memory over all attempts that still counts as bounded. */
const RSS_GROWTH_LIMIT = 200 * 1024 * 1024;
/** Where the mutated objects appear in the guest (not /tmp, which is the guest's own tmpfs). */
const GUEST_DIR = '/fuzz';

/** The errors a failed dlopen or call may end in: each says what went wrong in the guest or its files. */
const TYPED_ERRORS = [
  DlopenError, ElfError, GuestFault, BudgetExceededError, SymbolNotFoundError, LoaderError, EngineError,
  AddressSpaceError, GuestExit, GuestDeadlockError, TimeLimitError, MachineExitedError,
];

function expectTyped(error: unknown, context: string): void {
  const typed = TYPED_ERRORS.some((kind) => error instanceof kind);
  if (!typed) throw new Error(`${context}: untyped ${String(error)}`, { cause: error });
}

const dir = mkdtempSync(join(tmpdir(), 'shimulator-dlopen-fuzz-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Whether abs in libc still works; false (after checking the error is typed) if the machine says it cannot. */
function libcWorks(m: Machine, context: string): boolean {
  try {
    return m.fn('libc.so.6', 'int abs(int)')(-5).value === 5;
  } catch (error) {
    expectTyped(error, `abs after ${context}`);
    return false;
  }
}

function expectLibcWorks(m: Machine, context: string): void {
  expect(m.fn('libc.so.6', 'int abs(int)')(-5).value, context).toBe(5);
}

/** The library with the `.gnu.version` entry of `twice` set to a version index that does not exist. */
function withBadVersionIndex(library: Uint8Array): Uint8Array {
  const elf = parseElf(library, 'small.so');
  const index = elf.dynsym.findIndex((s) => s.name === 'twice');
  const versym = elf.vaddrToOffset(elf.dynamicValue(DT_VERSYM)!)!;
  const bytes = library.slice();
  new DataView(bytes.buffer).setUint16(versym + 2 * index, 0x7000, true);
  return bytes;
}

/** The library with e_shoff pointing past the end of the file. */
function withSectionHeadersPastEnd(library: Uint8Array, bits: 32 | 64): Uint8Array {
  const bytes = library.slice();
  const view = new DataView(bytes.buffer);
  if (bits === 64) view.setBigUint64(40, BigInt(bytes.length + 0x1000), true);
  else view.setUint32(32, bytes.length + 0x1000, true);
  return bytes;
}

const ARCHES = (['amd64', 'i386'] as Arch[]).filter((arch) => findFixture(arch, 'libc.so.6') && canCompile(arch));

describe.each(ARCHES)('dlopen of mutated libraries in an %s machine', (arch) => {
  const library = compileSmallLibrary(mkdtempSync(join(dir, `${arch}-`)), arch);
  const bits = arch === 'amd64' ? 64 : 32;

  it('loads a library whose section headers are past the end of the file, and everything still works', async () => {
    const path = `${GUEST_DIR}/shoff.so`;
    const m = await Machine.boot({ arch, files: { [path]: withSectionHeadersPastEnd(library, bits) } });
    m.dlopen(path);
    expect(m.fn('shoff.so', 'int twice(int)')(21).value).toBe(42);
    expect(m.fn('shoff.so', 'int count(void)')().value).toBe(1);
    expectLibcWorks(m, 'after loading shoff.so');
    m.close();
  });

  it('keeps lookups in other objects working when it loads an object our reader refuses', async () => {
    const path = `${GUEST_DIR}/versym.so`;
    expect(() => parseElf(withBadVersionIndex(library), path)).toThrow(ElfError);
    const m = await Machine.boot({ arch, files: { [path]: withBadVersionIndex(library) } });
    try {
      m.dlopen(path);
    } catch (error) {
      expectTyped(error, 'dlopen of versym.so');
    }
    expectLibcWorks(m, 'after loading versym.so');
    expect(() => m.fn('versym.so', 'int twice(int)')).toThrow(SymbolNotFoundError);
    m.close();
  });

  it('ends every dlopen of a mutated library in a result or a typed error, with libc still callable', async () => {
    const random = new Random(fuzzSeed() ^ bits);
    const mutations = TARGETS.flatMap((target) =>
      Array.from({ length: fuzzRounds(QUICK_ROUNDS) }, () => mutate(library, target, random)),
    );
    const files = Object.fromEntries(mutations.map((mutation, i) => [`${GUEST_DIR}/mutated-${i}.so`, mutation.bytes]));
    const boot = (): Promise<Machine> => Machine.boot({ arch, files, callBudget: CALL_BUDGET });
    let m = await boot();
    const rssBefore = process.memoryUsage().rss;
    const outcomes = { loaded: 0, failed: 0, exited: 0, corrupted: 0 };
    for (const [i, mutation] of mutations.entries()) {
      const context = `mutated-${i}.so (${mutation.description})`;
      let failure: unknown;
      try {
        m.dlopen(`${GUEST_DIR}/mutated-${i}.so`);
        outcomes.loaded++;
      } catch (error) {
        expectTyped(error, context);
        outcomes.failed++;
        failure = error;
      }
      if (!libcWorks(m, context)) {
        // The guest is gone: ld.so's own consistency checks ended it (exit 127, as natively), or a damaged
        // relocation wrote over ld.so's data, which no loader can prevent. Either way the machine said so with a
        // typed error, and the next mutation gets a fresh one.
        expect(failure, `${context}: loaded, then libc no longer works`).toBeDefined();
        outcomes[failure instanceof GuestExit ? 'exited' : 'corrupted']++;
        m.reset(); // a fresh machine (the old engine is closed: its memory is native)
        expectLibcWorks(m, 'the machine after reset()');
      }
    }
    m.close();
    console.log(`${arch}: ${JSON.stringify(outcomes)}`);
    expect(outcomes.loaded).toBeGreaterThan(0);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT);
  });
});
