/**
 * `npm run bench`, the stop address of host calls: a bare `uc_emu_start` round trip (one guest `jmp` to the stop
 * address, no hooks) with the page below the stop address unmapped — as the trap page's guard page keeps it — beside
 * the same round trip with that page mapped, measured in this run. Unicorn 2.0.1 drops the translations at the stop
 * address − 1 after every run; this shows what the guard page saves on every host call (warm calls themselves are
 * in counting-bench.ts).
 */
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import { UC_ARCH_X86, UC_MODE_32, UC_MODE_64, UC_PROT_ALL, UC_PROT_READ, UC_PROT_WRITE } from '../src/emu/unicorn-ids.ts';
import { loadUnicorn } from '../src/emu/unicorn-native.ts';

const ROUNDS = 11;
const ROUND_TRIPS = 2000;
const WARM_UP = 300;
const PAGE = 0x1000;
const CODE = 0x10000;
const STOP = 0x20000;
const JMP_REL32 = 0xe9;
const JMP_REL32_BYTES = 5;

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** A bare engine that runs one `jmp` to STOP; `pageBelowMapped`: whether STOP - PAGE is mapped (data, no code). */
function bareEngine(arch: Arch, pageBelowMapped: boolean): { run: () => void; close: () => void } {
  const n = loadUnicorn();
  const handle: unknown[] = [null];
  if (n.uc_open(UC_ARCH_X86, arch === 'amd64' ? UC_MODE_64 : UC_MODE_32, handle) !== 0) throw new Error('uc_open failed');
  const uc = handle[0];
  n.uc_mem_map(uc, CODE, PAGE, UC_PROT_ALL);
  n.uc_mem_map(uc, STOP, PAGE, UC_PROT_ALL);
  if (pageBelowMapped) n.uc_mem_map(uc, STOP - PAGE, PAGE, UC_PROT_READ | UC_PROT_WRITE);
  const jmp = Buffer.alloc(JMP_REL32_BYTES);
  jmp[0] = JMP_REL32;
  jmp.writeInt32LE(STOP - (CODE + JMP_REL32_BYTES), 1);
  n.uc_mem_write(uc, CODE, jmp, jmp.length);
  return {
    run: () => {
      if (n.uc_emu_start(uc, CODE, STOP, 0, 0) !== 0) throw new Error('uc_emu_start failed');
    },
    close: () => n.uc_close(uc),
  };
}

/** Median µs per round trip (wall, and CPU of this process), both layouts interleaved round by round. */
export function stopAddressRoundTrips(arch: Arch): { unmapped: { us: number; cpu: number }; mapped: { us: number; cpu: number } } {
  const engines = { unmapped: bareEngine(arch, false), mapped: bareEngine(arch, true) };
  const wall = { unmapped: [] as number[], mapped: [] as number[] };
  const cpu = { unmapped: [] as number[], mapped: [] as number[] };
  try {
    for (const e of Object.values(engines)) for (let i = 0; i < WARM_UP; i++) e.run();
    for (let round = 0; round < ROUNDS; round++) {
      for (const layout of ['unmapped', 'mapped'] as const) {
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        for (let i = 0; i < ROUND_TRIPS; i++) engines[layout].run();
        const used = process.cpuUsage(cpuStarted);
        wall[layout].push(((performance.now() - started) * 1000) / ROUND_TRIPS);
        cpu[layout].push((used.user + used.system) / ROUND_TRIPS);
      }
    }
  } finally {
    for (const e of Object.values(engines)) e.close();
  }
  return {
    unmapped: { us: median(wall.unmapped), cpu: median(cpu.unmapped) },
    mapped: { us: median(wall.mapped), cpu: median(cpu.mapped) },
  };
}

export function benchCalls(write: (line: string) => void): void {
  for (const arch of ARCHES) {
    const { unmapped, mapped } = stopAddressRoundTrips(arch);
    write(
      `${arch}: bare uc_emu_start round trip, page below the stop address unmapped (the trap page's guard page) ` +
        `${unmapped.us.toFixed(2)} µs (CPU ${unmapped.cpu.toFixed(2)}), mapped ${mapped.us.toFixed(2)} µs (CPU ${mapped.cpu.toFixed(2)}): ` +
        `the guard page saves ${(mapped.cpu - unmapped.cpu).toFixed(2)} µs of CPU per host call`,
    );
  }
}
