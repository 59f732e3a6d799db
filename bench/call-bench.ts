/**
 * `npm run bench`, warm calls: abs, strlen and snprintf("%f %d") through `m.fn` on a booted machine, per
 * architecture, beside the bare `uc_emu_start` round trip of this machine measured in the same run — the floor no
 * host call can go below (one native run of one guest jump, no hooks, no JavaScript per block).
 */
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import { UC_ARCH_X86, UC_MODE_32, UC_MODE_64, UC_PROT_ALL, UC_PROT_READ, UC_PROT_WRITE } from '../src/emu/unicorn-ids.ts';
import { loadUnicorn } from '../src/emu/unicorn-native.ts';
import { out, vararg } from '../src/callspec/values.ts';
import { Machine } from '../src/machine.ts';

const CALLS = 5000;
const WARM_UP = 300;
const ROUND_TRIPS = 20000;
/** Goals from issue 11, µs per warm call. */
const GOALS: Record<string, number> = { abs: 3, snprintf: 40 };

const PAGE = 0x1000;
const CODE = 0x10000;
const STOP = 0x20000;
const JMP_REL32 = 0xe9;
const JMP_REL32_BYTES = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** µs per call of `fn`, the median of a few rounds (the machine is shared: single rounds are noisy). */
function microseconds(fn: () => void, count: number, rounds = 5): number {
  const each: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < count; i++) fn();
    each.push(((performance.now() - started) * 1000) / count);
  }
  return median(each);
}

/**
 * µs per `uc_emu_start` of one guest `jmp` to the stop address, on a bare engine. `pageBelowMapped`: whether the
 * page just below the stop address is mapped (Unicorn then drops translations there after every run).
 */
export function bareRoundTrip(arch: Arch, pageBelowMapped: boolean): number {
  const n = loadUnicorn();
  const handle: unknown[] = [null];
  if (n.uc_open(UC_ARCH_X86, arch === 'amd64' ? UC_MODE_64 : UC_MODE_32, handle) !== 0) throw new Error('uc_open failed');
  const uc = handle[0];
  try {
    n.uc_mem_map(uc, CODE, PAGE, UC_PROT_ALL);
    n.uc_mem_map(uc, STOP, PAGE, UC_PROT_ALL);
    if (pageBelowMapped) n.uc_mem_map(uc, STOP - PAGE, PAGE, UC_PROT_READ | UC_PROT_WRITE);
    const jmp = Buffer.alloc(JMP_REL32_BYTES);
    jmp[0] = JMP_REL32;
    jmp.writeInt32LE(STOP - (CODE + JMP_REL32_BYTES), 1);
    n.uc_mem_write(uc, CODE, jmp, jmp.length);
    const run = () => {
      if (n.uc_emu_start(uc, CODE, STOP, 0, 0) !== 0) throw new Error('uc_emu_start failed');
    };
    for (let i = 0; i < WARM_UP; i++) run();
    return microseconds(run, ROUND_TRIPS);
  } finally {
    n.uc_close(uc);
  }
}

export async function benchCalls(write: (line: string) => void): Promise<void> {
  for (const arch of ARCHES) {
    const bare = bareRoundTrip(arch, false);
    const mappedBelow = bareRoundTrip(arch, true);
    write(
      `${arch}: bare uc_emu_start round trip ${bare.toFixed(2)} µs (${mappedBelow.toFixed(2)} µs when the page below the stop ` +
        'address is mapped)',
    );
    const m = await Machine.boot({ arch });
    const abs = m.fn('libc.so.6', 'int abs(int x)');
    const strlen = m.fn('libc.so.6', 'unsigned long strlen(const char *s)');
    const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
    const cases: [string, string, () => { instructions: number }][] = [
      ['abs', 'abs(-5)', () => abs(-5)],
      ['strlen', 'strlen("hello")', () => strlen('hello')],
      ['snprintf', 'snprintf("%f %d", 1.5, 7)', () => snprintf(out(64), 64, '%f %d', vararg.double(1.5), vararg.int(7))],
    ];
    for (const [name, label, call] of cases) {
      for (let i = 0; i < WARM_UP; i++) call();
      const instructions = call().instructions;
      const perCall = microseconds(call, CALLS);
      const goal = GOALS[name] === undefined ? '' : `; goal ≤ ${GOALS[name]} µs`;
      write(
        `${arch}: ${label} ${perCall.toFixed(2)} µs per warm call (${instructions} guest instructions; ` +
          `${(perCall / bare).toFixed(1)}× the bare round trip${goal})`,
      );
    }
    m.close();
  }
}
