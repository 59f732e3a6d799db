/**
 * `npm run bench`, instruction counting: warm calls (abs, strlen, snprintf, both architectures) with the native
 * block counter beside the JavaScript fallback, and the bare uc_emu_start round trip of this machine (the floor
 * of any call), and `--check` beside unchecked calls with each counter, all measured in this run. The instruction counts must agree; the bench says so when they do not.
 */
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import type { CountingMode } from '../src/emu/block-counter.ts';
import { PROT_EXEC, PROT_READ } from '../src/emu/engine.ts';
import { out, vararg } from '../src/callspec/values.ts';
import { UnicornEngine } from '../src/emu/unicorn.ts';
import { Machine } from '../src/machine.ts';

const ROUNDS = 11;
const CALLS_PER_ROUND = 200;
/**
 * Each variant runs this long before it is timed (and at least WARM_UP_CALLS times). 200 calls were not enough:
 * the first variant timed after a boot (abs) was still running unoptimized code while V8 compiled the call path
 * on its background threads (CPU time above wall time), and came out slower than strlen, timed next.
 */
const WARM_UP_MS = 50;
const WARM_UP_CALLS = 200;
/** Issue 11: a warm abs(-5) through m.fn, on either architecture. */
const WARM_ABS_GOAL_US = 3;
const MODES: CountingMode[] = ['native', 'js'];
const JMP_REL32 = 0xe9;
const JMP_BYTES = 5;
const HLT = 0xf4;
const CODE_ADDRESS = 0x10_0000;
const STOP_ADDRESS = 0x10_2000;
const PAGE = 0x1000;

interface Timing {
  /** Median wall-clock µs per call. */
  us: number;
  /** Median CPU µs per call (this process, all its threads): steadier than wall time on a shared machine. */
  cpu: number;
  instructions: number;
}

/** Per-call times of each variant, interleaved round by round (a shared machine's load hits all alike). */
export function timeInterleaved<K extends string>(calls: Record<K, () => { instructions: number }>): Record<K, Timing> {
  const keys = Object.keys(calls) as K[];
  const wall = new Map<K, number[]>(keys.map((k) => [k, []]));
  const cpu = new Map<K, number[]>(keys.map((k) => [k, []]));
  const instructions = new Map<K, number>();
  for (const key of keys) {
    const started = performance.now();
    for (let i = 0; i < WARM_UP_CALLS || performance.now() - started < WARM_UP_MS; i++) calls[key]();
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const key of keys) {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      for (let i = 0; i < CALLS_PER_ROUND; i++) instructions.set(key, calls[key]().instructions);
      const used = process.cpuUsage(cpuStarted);
      wall.get(key)!.push(((performance.now() - started) * 1000) / CALLS_PER_ROUND);
      cpu.get(key)!.push((used.user + used.system) / CALLS_PER_ROUND);
    }
  }
  return Object.fromEntries(keys.map((key) => [key, { us: median(wall.get(key)!), cpu: median(cpu.get(key)!), instructions: instructions.get(key)! }])) as Record<K, Timing>;
}

/** "12.3 µs (CPU 10.1)" */
export function show(t: Timing, digits = 1): string {
  return `${t.us.toFixed(digits).padStart(6)} µs (CPU ${t.cpu.toFixed(digits)})`;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/**
 * µs per engine.run that executes one `jmp` to the stop address, for each mode, interleaved. The stop address is
 * on its own page with an unmapped page below it: otherwise Unicorn 2.0.1 drops the translations around it on
 * every run (3–5 µs instead of ~0.5).
 */
export function bareRoundTrips(arch: Arch): Record<CountingMode, Timing> {
  const engines = MODES.map((mode) => {
    const engine = new UnicornEngine(arch, {}, { counting: mode });
    engine.map(CODE_ADDRESS, PAGE, PROT_READ | PROT_EXEC);
    engine.map(STOP_ADDRESS, PAGE, PROT_READ | PROT_EXEC);
    const rel = STOP_ADDRESS - (CODE_ADDRESS + JMP_BYTES);
    engine.write(CODE_ADDRESS, new Uint8Array([JMP_REL32, rel & 0xff, (rel >> 8) & 0xff, (rel >> 16) & 0xff, rel >>> 24]));
    engine.write(STOP_ADDRESS, new Uint8Array([HLT]));
    return engine;
  });
  const options = { until: STOP_ADDRESS, budget: Infinity };
  const result = timeInterleaved({
    native: () => engines[0]!.run(CODE_ADDRESS, options),
    js: () => engines[1]!.run(CODE_ADDRESS, options),
  });
  for (const engine of engines) engine.close();
  return result;
}

export async function benchCounting(write: (line: string) => void): Promise<void> {
  write('instruction counting: native block counter vs JavaScript fallback, interleaved (same counts required)');
  for (const arch of ARCHES) {
    const machines = { native: await Machine.boot({ arch, counting: 'native' }), js: await Machine.boot({ arch, counting: 'js' }) };
    const fns = (m: Machine) => {
      const abs = m.fn('libc.so.6', 'int abs(int j)');
      const strlen = m.fn('libc.so.6', 'unsigned long strlen(const char *s)');
      const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
      return {
        'abs(-5)': () => abs(-5),
        'strlen("hello")': () => strlen('hello'),
        'snprintf("%f %d")': () => snprintf(out(64), 64, '%f %d', vararg.double(1.5), 7),
      };
    };
    const native = fns(machines.native);
    const js = fns(machines.js);
    for (const name of Object.keys(native) as (keyof typeof native)[]) {
      const r = timeInterleaved({ native: native[name], js: js[name] });
      const same = r.native.instructions === r.js.instructions ? '' : ' — COUNTS DIFFER';
      const goal = name === 'abs(-5)' ? ` (goal ≤ ${WARM_ABS_GOAL_US} µs native)` : '';
      write(
        `${arch}: ${name.padEnd(18)} native ${show(r.native)}, JavaScript ${show(r.js)}: ` +
          `${(r.js.cpu / r.native.cpu).toFixed(2)}× the CPU, ${r.native.instructions} instructions${same}${goal}`,
      );
    }
    // --check beside an unchecked call, with each counter (goal: at most 2× the unchecked time).
    const checked = { native: await Machine.boot({ arch, counting: 'native', check: true }), js: await Machine.boot({ arch, counting: 'js', check: true }) };
    for (const mode of MODES) {
      const name = 'snprintf("%f %d")';
      const r = timeInterleaved({ unchecked: fns(machines[mode])[name], checked: fns(checked[mode])[name] });
      write(
        `${arch}: ${name} with --check, ${mode === 'native' ? 'native' : 'JavaScript'} counting: ${show(r.checked)} against ${show(r.unchecked)} ` +
          `unchecked: ${(r.checked.cpu / r.unchecked.cpu).toFixed(2)}× the CPU, ${(r.checked.us / r.unchecked.us).toFixed(2)}× the wall time (goal ≤ 2×)`,
      );
      checked[mode].close();
    }
    // A call on a thread started the fakecgo way (`m.onThread(t)`) beside the same call on the main thread.
    const m = machines.native;
    const thread = m.startThread({ detached: true });
    const onThread = {
      abs: m.onThread(thread).fn('libc.so.6', 'int abs(int j)'),
      snprintf: m.onThread(thread).fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)'),
    };
    const main = fns(m);
    const t = timeInterleaved({
      'abs main': main['abs(-5)'],
      'abs thread': () => onThread.abs(-5),
      'snprintf main': main['snprintf("%f %d")'],
      'snprintf thread': () => onThread.snprintf(out(64), 64, '%f %d', vararg.double(1.5), 7),
    });
    write(
      `${arch}: on a started thread (onThread): abs(-5) ${show(t['abs thread'])} against ${show(t['abs main'])} on the main thread; ` +
        `snprintf("%f %d") ${show(t['snprintf thread'])} against ${show(t['snprintf main'])}`,
    );
    machines.native.close();
    machines.js.close();
    const bare = bareRoundTrips(arch);
    write(`${arch}: bare uc_emu_start round trip (engine.run of one jmp): native ${show(bare.native, 2)}, JavaScript ${show(bare.js, 2)}`);
  }
}
