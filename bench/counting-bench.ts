/**
 * `npm run bench`, instruction counting: warm calls (abs, strlen, snprintf, both architectures) with the native
 * block counter beside the JavaScript fallback, and the bare uc_emu_start round trip of this machine (the floor
 * of any call), all measured in this run. The instruction counts must agree; the bench says so when they do not.
 */
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import type { CountingMode } from '../src/emu/block-counter.ts';
import { PROT_EXEC, PROT_READ } from '../src/emu/engine.ts';
import { out, vararg } from '../src/callspec/values.ts';
import { UnicornEngine } from '../src/emu/unicorn.ts';
import { Machine } from '../src/machine.ts';

const ROUNDS = 11;
const CALLS_PER_ROUND = 200;
const WARM_UP = 200;
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

/** Per-call times of each mode, interleaved round by round (a shared machine's load hits both alike). */
function timeInterleaved(calls: Record<CountingMode, () => { instructions: number }>): Record<CountingMode, Timing> {
  const wall: Record<CountingMode, number[]> = { native: [], js: [] };
  const cpu: Record<CountingMode, number[]> = { native: [], js: [] };
  const instructions: Record<CountingMode, number> = { native: 0, js: 0 };
  for (const mode of MODES) for (let i = 0; i < WARM_UP; i++) calls[mode]();
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of MODES) {
      const started = performance.now();
      const cpuStarted = process.cpuUsage();
      for (let i = 0; i < CALLS_PER_ROUND; i++) instructions[mode] = calls[mode]().instructions;
      const used = process.cpuUsage(cpuStarted);
      wall[mode].push(((performance.now() - started) * 1000) / CALLS_PER_ROUND);
      cpu[mode].push((used.user + used.system) / CALLS_PER_ROUND);
    }
  }
  const result = (mode: CountingMode): Timing => ({ us: median(wall[mode]), cpu: median(cpu[mode]), instructions: instructions[mode] });
  return { native: result('native'), js: result('js') };
}

/** "12.3 µs (CPU 10.1)" */
function show(t: Timing, digits = 1): string {
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
      write(
        `${arch}: ${name.padEnd(18)} native ${show(r.native)}, JavaScript ${show(r.js)}: ` +
          `${(r.js.cpu / r.native.cpu).toFixed(2)}× the CPU, ${r.native.instructions} instructions${same}`,
      );
    }
    machines.native.close();
    machines.js.close();
    const bare = bareRoundTrips(arch);
    write(`${arch}: bare uc_emu_start round trip (engine.run of one jmp): native ${show(bare.native, 2)}, JavaScript ${show(bare.js, 2)}`);
  }
}
