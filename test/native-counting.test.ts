/**
 * Instruction counting in the native helper (native/shimcount.c) and in the JavaScript fallback: the same counts,
 * results, budget stops, thread schedules and traces, on both architectures; the helper is required wherever a C
 * compiler could build it; and a missing or unloadable helper falls back to JavaScript (or, when native counting
 * was insisted on, fails with one typed error).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import type { CountingMode } from '../src/emu/block-counter.ts';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../src/emu/engine.ts';
import { BudgetExceededError } from '../src/emu/errors.ts';
import { ensureHelperBuild, HELPER_SOURCE, helperBuildPath } from '../src/emu/native-build.ts';
import { BUILT_HELPER, createBlockCounter, helperPath, loadHelper, NATIVE_ENV, NativeCounterUnavailableError } from '../src/emu/native-counter.ts';
import { UnicornEngine } from '../src/emu/unicorn.ts';
import { out, vararg } from '../src/callspec/values.ts';
import { Machine } from '../src/machine.ts';
import { runProgram } from '../src/run/program.ts';
import { encodeTrace, type Trace } from '../src/trace/format.ts';
import { recordTrace } from '../src/trace/recorder.ts';

const ROOT = join(import.meta.dirname, '..');
const MODES: CountingMode[] = ['native', 'js'];
const CODE = 0x10000;
const STACK = 0x30000;
const PAGE = 0x1000;
/** Instructions a traced run records at most (ld.so and beyond; a longer run stops there, with its trace). */
const TRACE_STEPS = 50_000;
const NOWHERE = join(ROOT, 'build', 'native', 'no-such-dir', 'libshimcount.so');

const closeAfter: { close(): void }[] = [];
afterEach(() => {
  for (const thing of closeAfter.splice(0)) thing.close();
});

function engine(arch: Arch, counting: CountingMode | 'auto', nativeHelper?: string): UnicornEngine {
  const e = new UnicornEngine(arch, {}, { counting, nativeHelper });
  closeAfter.push(e);
  e.map(CODE, PAGE, PROT_READ | PROT_EXEC);
  e.map(STACK, PAGE, PROT_READ | PROT_WRITE);
  e.setReg(arch === 'amd64' ? 'rsp' : 'esp', STACK + PAGE - 0x10);
  return e;
}

/** The same blocks for both arches: `add eax, 1` (83 c0 01) is valid in both modes. */
function addBlocks(n: number): { code: Uint8Array; end: number } {
  const bytes: number[] = [];
  for (let i = 0; i < n; i++) bytes.push(0x83, 0xc0, 0x01, 0xeb, 0x00);
  return { code: Uint8Array.from(bytes), end: CODE + bytes.length };
}

describe('the native helper', () => {
  const hasCompiler = ['cc', 'gcc', 'clang'].some((cc) => spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0);

  it('is built and used wherever a C compiler is present (set-up builds it; nothing here may fall back quietly)', () => {
    // The tests run after `node scripts/setup.mjs --test`, which builds it with the compiler it finds.
    expect(hasCompiler).toBe(true); // `npm test` needs gcc anyway (the tests compile C)
    expect(typeof loadHelper(BUILT_HELPER)).toBe('object');
    if (process.env[NATIVE_ENV] !== '0') expect(engine('amd64', 'auto').counting).toEqual({ mode: 'native' });
  });

  it('is switched off by SHIMULATOR_NATIVE=0 and can be pointed elsewhere with SHIMULATOR_NATIVE=path', () => {
    expect(helperPath({ [NATIVE_ENV]: '0' })).toBeUndefined();
    expect(helperPath({ [NATIVE_ENV]: '/opt/x/libshimcount.so' })).toBe('/opt/x/libshimcount.so');
    expect(helperPath({})).toBe(BUILT_HELPER);
    const host = { firstSight: () => 1, observe: () => {}, stopEngine: () => {} };
    const off = createBlockCounter('auto', host, helperPath({ [NATIVE_ENV]: '0' }));
    expect(off.info).toEqual({ mode: 'js', fallback: `turned off by ${NATIVE_ENV}=0` });
    off.counter.close();
  });

  it('is built on first use into a cache directory when set-up did not build it (an installed package), once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shim-native-build-'));
    try {
      const first = ensureHelperBuild({ dir });
      expect(first).toMatchObject({ built: true, path: helperBuildPath(dir, HELPER_SOURCE) });
      const path = (first as { path: string }).path;
      expect(typeof loadHelper(path)).toBe('object'); // the same version and layout as this code expects
      expect(ensureHelperBuild({ dir })).toEqual({ path, built: false }); // later processes load it, no compiler run
      expect(readdirSync(dir)).toEqual([basename(path)]); // no temporary file left behind
      const counted = ARCHES.map((arch) => engine(arch, 'native', path));
      for (const e of counted) expect(e.counting).toEqual({ mode: 'native' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not built without a compiler or from broken source: a one-line reason, and a failed build is not retried', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shim-native-build-'));
    try {
      expect(ensureHelperBuild({ dir, compilers: [join(dir, 'no-such-cc')] })).toEqual({ reason: 'no C compiler (cc, gcc or clang) to build native/shimcount.c' });
      const source = join(dir, 'broken.c');
      writeFileSync(source, 'int broken(void) { return }\n');
      const failed = ensureHelperBuild({ dir, source });
      expect('reason' in failed && failed.reason).toMatch(/^building native\/shimcount\.c failed \(\S+ exited with 1: /);
      const again = ensureHelperBuild({ dir, source });
      expect('reason' in again && again.reason).toMatch(/^building it failed before \(.*delete .*\.failed to try again\)$/);
      expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      expect(ensureHelperBuild({ dir, source: join(dir, 'missing.c') })).toEqual({ reason: `its source ${join(dir, 'missing.c')} is missing` });
      // A cache directory that cannot be made (a file is in the way): a reason, no exception.
      writeFileSync(join(dir, 'file'), '');
      const blocked = ensureHelperBuild({ dir: join(dir, 'file', 'native') });
      expect('reason' in blocked && blocked.reason).toMatch(/^the cache directory .* is not writable \(/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('missing: an engine falls back to JavaScript counting, says why, and counts the same', () => {
    for (const arch of ARCHES) {
      const fallback = engine(arch, 'auto', NOWHERE);
      expect(fallback.counting.mode).toBe('js');
      expect(fallback.counting.fallback).toContain(`${NOWHERE} does not exist`);
      expect(fallback.counting.fallback).toContain('node scripts/setup.mjs');
      const native = engine(arch, 'native');
      const { code, end } = addBlocks(5);
      for (const e of [fallback, native]) {
        e.write(CODE, code);
        expect(e.run(CODE, { until: end, budget: Infinity })).toEqual({ reason: 'until', instructions: 10 });
      }
    }
  });

  it('missing or not a library: insisting on native counting is one typed error naming the file', () => {
    expect(() => new UnicornEngine('amd64', {}, { counting: 'native', nativeHelper: NOWHERE })).toThrow(NativeCounterUnavailableError);
    expect(() => new UnicornEngine('amd64', {}, { counting: 'native', nativeHelper: NOWHERE })).toThrow(/does not exist/);
    const notALibrary = join(ROOT, 'native', 'shimcount.c'); // a real file, but C source
    const e = engine('i386', 'auto', notALibrary);
    expect(e.counting.mode).toBe('js');
    expect(e.counting.fallback).toMatch(/could not be loaded/);
    expect(() => new UnicornEngine('i386', {}, { counting: 'native', nativeHelper: notALibrary })).toThrow(NativeCounterUnavailableError);
  });
  it('built from another version of native/shimcount.c (a stale build): not used, and the message says to rebuild', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shimcount-stale-'));
    try {
      const source = join(dir, 'old.c');
      writeFileSync(source, 'unsigned shim_count_version(void) { return 0; }\nunsigned shim_count_shared_size(void) { return 32; }\n');
      const library = join(dir, 'libshimcount.so');
      expect(spawnSync('cc', ['-shared', '-fPIC', '-o', library, source]).status).toBe(0);
      const e = engine('amd64', 'auto', library);
      expect(e.counting.mode).toBe('js');
      expect(e.counting.fallback).toMatch(/another version of native\/shimcount\.c .*node scripts\/setup\.mjs/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(ARCHES)('%s engine: native and JavaScript counting agree', (arch) => {
  const both = () => MODES.map((mode) => engine(arch, mode));

  it('counts, budget stops and quantum stops (the crossing block not run, and run first on resume)', () => {
    for (const e of both()) {
      const { code, end } = addBlocks(10);
      e.write(CODE, code);
      expect(e.run(CODE, { until: end, budget: Infinity })).toEqual({ reason: 'until', instructions: 20 });
      // Quantum 7: blocks of 2 → three blocks (6) run; the fourth would cross, so it waits.
      e.setReg('eax', 0);
      expect(e.run(CODE, { until: end, budget: Infinity, quantum: 7 })).toEqual({ reason: 'quantum', instructions: 6 });
      expect(Number(e.reg('eax'))).toBe(3);
      expect(e.pc()).toBe(CODE + 3 * 5);
      expect(e.run(e.pc(), { until: end, budget: Infinity })).toEqual({ reason: 'until', instructions: 14 });
      // Budget 9: the fifth block crosses it, is counted and stopped before it runs.
      let error: unknown;
      try {
        e.run(CODE, { until: end, budget: 9 });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(BudgetExceededError);
      expect((error as BudgetExceededError).pc).toBe(CODE + 4 * 5);
      expect(e.instructionsInRun).toBe(10);
    }
  });

  it('forgets a block when the host rewrites its code (the new block is counted afresh)', () => {
    for (const e of both()) {
      const { code, end } = addBlocks(2);
      e.write(CODE, code);
      expect(e.run(CODE, { until: end, budget: Infinity }).instructions).toBe(4);
      // The first block becomes nop; nop; nop; jmp (4 instructions), same length.
      e.write(CODE, Uint8Array.from([0x90, 0x90, 0x90, 0xeb, 0x00]));
      expect(e.run(CODE, { until: end, budget: Infinity }).instructions).toBe(6);
    }
  });

  it('a run whose last block is the one known to jump to `until` ends there without reading the pc; other ends are checked', () => {
    for (const e of both()) {
      const { code, end } = addBlocks(3);
      e.write(CODE, code);
      const native = (e as unknown as { n: { uc_reg_read: (...args: unknown[]) => unknown } }).n;
      const readPc = native.uc_reg_read;
      let pcReads = 0;
      native.uc_reg_read = (...args: unknown[]) => {
        pcReads++;
        return readPc(...args);
      };
      try {
        expect(e.run(CODE, { until: end, budget: Infinity, lastBlock: CODE + 10 })).toEqual({ reason: 'until', instructions: 6 });
        expect(pcReads).toBe(0);
        expect(e.run(CODE, { until: end, budget: Infinity })).toEqual({ reason: 'until', instructions: 6 });
        expect(pcReads).toBe(1);
        // The last block now halts: a block that ran earlier is not the last one, so the pc is read and checked.
        e.write(CODE + 10, Uint8Array.from([0xf4, 0x90, 0x90, 0x90, 0x90]));
        expect(() => e.run(CODE, { until: end, budget: Infinity, lastBlock: CODE + 5 })).toThrow('the guest halted (hlt) before returning');
      } finally {
        native.uc_reg_read = readPc;
      }
    }
  });

  it('observers see every block that runs, in the same order, and stop the run when they throw', () => {
    const seen = both().map((e) => {
      const { code, end } = addBlocks(4);
      e.write(CODE, code);
      const starts: number[] = [];
      const watch = e.addBlockObserver((address) => starts.push(address));
      const result = e.run(CODE, { until: end, budget: Infinity, quantum: 5 });
      watch.remove();
      e.run(e.pc(), { until: end, budget: Infinity });
      const thrower = e.addBlockObserver(() => {
        throw new Error('observer says no');
      });
      expect(() => e.run(CODE, { until: end, budget: Infinity })).toThrow('observer says no');
      thrower.remove();
      return { starts, result };
    });
    expect(seen[0]).toEqual(seen[1]);
    // Blocks 0 and 1 run; block 2 is seen (and counted, then uncounted) as it crosses the quantum.
    expect(seen[0]!.starts).toEqual([CODE, CODE + 5, CODE + 10]);
    expect(seen[0]!.result).toEqual({ reason: 'quantum', instructions: 4 });
  });

  it('filtered observers fire only at the blocks in their address set (counted), in C and in JavaScript alike', () => {
    const seen = both().map((e) => {
      const { code, end } = addBlocks(6);
      e.write(CODE, code);
      const run = () => e.run(CODE, { until: end, budget: Infinity });
      const all: number[] = [];
      const filtered: number[] = [];
      const set = e.createAddressSet();
      set.add(CODE + 5);
      set.add(CODE + 20);
      set.add(CODE + 20); // twice: stays after one remove
      set.add(0x999999); // never runs
      const watch = e.addBlockObserver((address) => filtered.push(address), { at: set });
      const instructions = [run().instructions];
      set.remove(CODE + 20);
      instructions.push(run().instructions);
      set.remove(CODE + 20);
      instructions.push(run().instructions);
      const rounds = [...filtered];
      // everyBlock: the filtered observer sees every block, like an unfiltered one beside it.
      filtered.length = 0;
      set.everyBlock = true;
      const unfiltered = e.addBlockObserver((address) => all.push(address));
      instructions.push(run().instructions);
      unfiltered.remove();
      set.everyBlock = false;
      const every = [...filtered];
      filtered.length = 0;
      instructions.push(run().instructions);
      watch.remove();
      set.add(CODE);
      instructions.push(run().instructions);
      return { rounds, every, all, after: [...filtered], instructions, size: set.size };
    });
    expect(seen[0]).toEqual(seen[1]);
    const blocks = [0, 5, 10, 15, 20, 25].map((offset) => CODE + offset);
    expect(seen[0]!.rounds).toEqual([CODE + 5, CODE + 20, CODE + 5, CODE + 20, CODE + 5]);
    expect(seen[0]!.every).toEqual(blocks);
    expect(seen[0]!.all).toEqual(blocks);
    expect(seen[0]!.after).toEqual([CODE + 5]); // everyBlock off again; then removed: nothing more
    expect(seen[0]!.instructions).toEqual([12, 12, 12, 12, 12, 12]);
    expect(seen[0]!.size).toBe(3);
  });

  it('an address set works only with the engine that made it', () => {
    const [a, b] = both();
    expect(() => a!.addBlockObserver(() => {}, { at: b!.createAddressSet() })).toThrow(/same engine/);
  });

  it('a block whose first sight defers it (rdtsc gets patched) is neither counted nor remembered until it runs', () => {
    const results = MODES.map((mode) => {
      const e = new UnicornEngine(arch, { rdtsc: () => 1000n, interrupt: () => {} }, { counting: mode });
      closeAfter.push(e);
      e.map(CODE, PAGE, PROT_READ | PROT_EXEC);
      const code = Uint8Array.from([0x83, 0xc0, 0x01, 0x0f, 0x31, 0xeb, 0x00]); // add eax,1; rdtsc; jmp next
      e.write(CODE, code);
      const first = e.run(CODE, { until: CODE + code.length, budget: Infinity });
      const second = e.run(CODE, { until: CODE + code.length, budget: Infinity });
      return { first, second, eax: Number(e.reg('eax')) };
    });
    expect(results[0]).toEqual(results[1]);
    expect(results[0]!.first).toEqual({ reason: 'until', instructions: 3 });
    expect(results[0]!.eax).toBe(1000);
  });
});

describe.each(ARCHES)('%s machine: native and JavaScript counting agree', (arch) => {
  it('boot, warm calls (abs, strlen, snprintf), a budget stop, checked calls and a trace', async () => {
    const runs = [];
    for (const mode of MODES) {
      const m = await Machine.boot({ arch, counting: mode });
      closeAfter.push(m);
      expect(m.counting.mode).toBe(mode);
      const abs = m.fn('libc.so.6', 'int abs(int j)');
      const strlen = m.fn('libc.so.6', 'unsigned long strlen(const char *s)');
      const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
      const call = () => snprintf(out(64), 64, '%f %d', vararg.double(1.5), 7);
      const calls = [abs(-5), strlen('hello'), call(), call()].map((r) => ({ value: r.value, instructions: r.instructions, out: r.out }));
      let stopped: BudgetExceededError | undefined;
      try {
        m.call(snprintf.address, snprintf.prototype, [out(64), 64, '%f %d', vararg.double(1.5), 7], 500);
      } catch (caught) {
        stopped = caught as BudgetExceededError;
      }
      // Four threads calling snprintf at once: the scheduler's quanta decide the interleaving.
      const threads = Array.from({ length: 4 }, () => m.startThread());
      const concurrent = m.concurrently(threads.map((thread, i) => ({
        thread, address: snprintf.address, proto: snprintf.prototype, args: [out(64), 64, '%e %d', vararg.double(i * 3.5), vararg.int(i)],
      })));
      // Captured before checking is first turned on: that precomputes IFUNC targets once per process (guest calls
      // in whichever machine comes first), which would show in the schedule of the first mode only.
      const schedule = m.schedule;
      const perThread = m.process.threads.threads.map((t) => t.instructions);
      m.checking = true;
      const checked = call();
      m.checking = false;
      const { trace } = recordTrace(m, 'snprintf', call);
      runs.push({
        boot: m.bootInstructions,
        calls,
        stopped: stopped && { name: stopped.name, pc: stopped.pc, message: stopped.message },
        concurrent: concurrent.map((r) => ({ value: r.value, instructions: r.instructions, out: r.out })),
        schedule,
        perThread,
        checked: { instructions: checked.instructions, abi: checked.abi },
        trace: Buffer.from(encodeTrace(trace)).toString('base64'),
        after: call().instructions,
      });
    }
    expect(runs[0]!.stopped?.name).toBe('BudgetExceededError');
    expect(runs[0]!.calls[2]!.instructions).toBeGreaterThan(1000);
    expect(runs[1]).toEqual(runs[0]);
  }, 120_000);
});

describe.each(ARCHES)('%s whole programs under run: native and JavaScript counting agree', (arch) => {
  const report = async (name: string, counting: CountingMode, extra: { budget?: number; check?: boolean; traced?: boolean } = {}) => {
    let trace: string | undefined;
    const saveTrace = extra.traced ? (t: Trace) => void (trace = Buffer.from(encodeTrace(t)).toString('base64')) : undefined;
    const r = await runProgram({
      program: join(ROOT, 'fixtures/programs', arch, name), args: ['alpha', 'beta'], counting, budget: extra.budget, check: extra.check,
      trace: saveTrace, traceLimit: TRACE_STEPS,
    });
    return { ...r, trace };
  };
  const essentials = (r: Awaited<ReturnType<typeof report>>) => ({
    exit: r.exit, error: r.error, instructions: r.instructions, schedule: r.schedule, threads: r.threads,
    syscalls: r.syscalls, stdout: r.stdout, stderr: r.stderr, abi: r.abi, calls: r.calls, trace: r.trace,
  });

  it('go-nocgo (threads, quanta, signals) and c-basic (pthreads, checked): instructions, schedule, output', async () => {
    for (const [name, extra] of [['go-nocgo', {}], ['c-basic', { check: true }]] as const) {
      const [native, js] = [await report(name, 'native', extra), await report(name, 'js', extra)];
      expect(native.error).toBeNull();
      expect(native.exit).toBe(Number(readFileSync(join(ROOT, 'fixtures/programs/expected', arch, `${name}.status`), 'utf8')));
      expect(native.stdout).toBe(readFileSync(join(ROOT, 'fixtures/programs/expected', arch, `${name}.stdout`), 'utf8'));
      expect(native.threads.length).toBeGreaterThan(1);
      expect(essentials(js)).toEqual(essentials(native));
    }
  }, 240_000);

  it('a traced run (instruction by instruction, until the trace limit) records the same trace', async () => {
    const [native, js] = [await report('c-basic', 'native', { traced: true }), await report('c-basic', 'js', { traced: true })];
    expect(native.trace!.length).toBeGreaterThan(1000);
    expect(essentials(js)).toEqual(essentials(native));
  }, 240_000);

  it('a budget stop in the middle of a multithreaded program stops at the same instruction', async () => {
    const [native, js] = [await report('go-nocgo', 'native', { budget: 3_000_000 }), await report('go-nocgo', 'js', { budget: 3_000_000 })];
    expect(native.error?.kind).toBe('BudgetExceededError');
    expect(essentials(js)).toEqual(essentials(native));
  }, 240_000);
});
