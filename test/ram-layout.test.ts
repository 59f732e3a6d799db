/**
 * Where guest memory lies in Unicorn's RAM-offset space (src/emu/ram-layout.ts) and the engine's re-layout
 * (`UnicornEngine.relayout`, `mapHostRegions`): the plan keeps every store target out of the page-descriptor
 * leaves of anything else, and re-laying out a live engine changes nothing the guest or the host can observe —
 * bytes, protections, results, instruction counts, patched timestamp reads. (What it is for, the speed of guest
 * stores, is measured by `npm run bench`, not here.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import { PROT_EXEC, PROT_READ, PROT_WRITE, type RegName } from '../src/emu/engine.ts';
import { GuestFault } from '../src/emu/errors.ts';
import type { HostRegion } from '../src/emu/host-regions.ts';
import {
  isStoreTarget, type LayoutRegion, PAGE_DESC_LEAF_BYTES, padAddress, RAM_BLOCK_ALIGN, segregatedSteps, sequentialOffsets,
} from '../src/emu/ram-layout.ts';
import { UnicornEngine } from '../src/emu/unicorn.ts';

const PAGE = 0x1000;
const RW = PROT_READ | PROT_WRITE;
const RX = PROT_READ | PROT_EXEC;

/** A deterministic pseudo-random generator (xorshift32): the same regions on every run. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

/** Regions of random sizes and protections, back to back from 0x1000_0000 with random holes. */
function randomRegions(next: () => number, count: number): LayoutRegion[] {
  const prots = [PROT_READ, RW, RX, RW | PROT_EXEC, RW];
  const regions: LayoutRegion[] = [];
  let at = 0x1000_0000;
  for (let i = 0; i < count; i++) {
    const size = (1 + Math.floor(next() ** 3 * 2048)) * PAGE;
    regions.push({ address: at, size, prot: prots[Math.floor(next() * prots.length)]! });
    at += size + Math.floor(next() * 4) * PAGE;
  }
  return regions;
}

/** The leaves (4 MiB windows of RAM offsets) that each mapped thing of `steps` occupies, mapped into an empty engine. */
function leavesOf(steps: ReturnType<typeof segregatedSteps<LayoutRegion>>): { what: LayoutRegion | number; leaves: number[]; offset: number }[] {
  const sizes = steps.map((s) => ('region' in s ? s.region.size : s.pad));
  const offsets = sequentialOffsets(sizes);
  return steps.map((s, i) => {
    const first = Math.floor(offsets[i]! / PAGE_DESC_LEAF_BYTES);
    const last = Math.floor((offsets[i]! + sizes[i]! - 1) / PAGE_DESC_LEAF_BYTES);
    return { what: 'region' in s ? s.region : s.pad, leaves: Array.from({ length: last - first + 1 }, (_, k) => first + k), offset: offsets[i]! };
  });
}

describe('ram-layout: the mapping plan', () => {
  it('lays regions mapped one after another into an empty engine back to back, each on a 256 KiB boundary', () => {
    expect(sequentialOffsets([PAGE, 3 * PAGE, RAM_BLOCK_ALIGN, RAM_BLOCK_ALIGN + 1])).toEqual([0, RAM_BLOCK_ALIGN, 2 * RAM_BLOCK_ALIGN, 3 * RAM_BLOCK_ALIGN]);
  });

  it('keeps every store target out of the leaves of everything else, and out of the offsets used before', () => {
    const next = random(0x5eed);
    for (let round = 0; round < 300; round++) {
      const regions = randomRegions(next, 1 + Math.floor(next() * 40));
      const usedBelow = round % 3 === 0 ? 0 : Math.floor(next() * 64) * RAM_BLOCK_ALIGN;
      const steps = segregatedSteps(regions, usedBelow);
      // Every region is mapped exactly once.
      const mapped = steps.flatMap((s) => ('region' in s ? [s.region] : []));
      expect(new Set(mapped)).toEqual(new Set(regions));
      expect(mapped.length).toBe(regions.length);
      const placed = leavesOf(steps);
      const dataLeaves = new Set(placed.filter((p) => typeof p.what !== 'number' && isStoreTarget(p.what.prot)).flatMap((p) => p.leaves));
      const otherLeaves = new Set(placed.filter((p) => typeof p.what !== 'number' && !isStoreTarget(p.what.prot)).flatMap((p) => p.leaves));
      for (const leaf of dataLeaves) {
        expect(otherLeaves.has(leaf)).toBe(false);
        expect(leaf * PAGE_DESC_LEAF_BYTES).toBeGreaterThanOrEqual(usedBelow);
      }
    }
  });

  it('needs no padding when there is nothing to keep apart, and keeps the given order within each group', () => {
    const code = [{ address: 0x1000, size: PAGE, prot: RX }, { address: 0x3000, size: PAGE, prot: PROT_READ }];
    const data = [{ address: 0x2000, size: PAGE, prot: RW }, { address: 0x5000, size: PAGE, prot: RW }];
    expect(segregatedSteps(code, 0)).toEqual(code.map((region) => ({ region })));
    expect(segregatedSteps(data, 0)).toEqual(data.map((region) => ({ region })));
    expect(segregatedSteps([code[0]!, data[0]!, code[1]!, data[1]!], 0)).toEqual([
      { region: data[0] }, { region: data[1] }, { pad: PAGE_DESC_LEAF_BYTES - 2 * RAM_BLOCK_ALIGN }, { region: code[0] }, { region: code[1] },
    ]);
    // An engine that used offsets before skips their leaves first.
    expect(segregatedSteps(data, 5 * RAM_BLOCK_ALIGN)[0]).toEqual({ pad: PAGE_DESC_LEAF_BYTES });
  });

  it('finds paddings the lowest free guest range, or none', () => {
    const regions = [{ address: 0x2000, size: 0x2000, prot: RW }, { address: 0x6000, size: 0x1000, prot: RW }];
    expect(padAddress(regions, 0x2000, 0, 2 ** 32)).toBe(0);
    expect(padAddress(regions, 0x3000, 0, 2 ** 32)).toBe(0x7000);
    expect(padAddress(regions, 0x2000, 0x1000, 2 ** 32)).toBe(0x4000);
    expect(padAddress(regions, 0x2000, 0x1000, 0x8000)).toBe(0x4000);
    expect(padAddress(regions, 0x3000, 0x1000, 0x9000)).toBeUndefined();
  });
});

const CODE = 0x10000;
const DATA = 0x20000;
const RODATA = 0x40000;
const STACK = 0x50000;

const reg = (arch: Arch, name: string): RegName => `${arch === 'amd64' ? 'r' : 'e'}${name}` as RegName;

/**
 * At CODE: stores eax to [DATA], loads it back into ebx, reads the time-stamp counter (a patched trap), pushes
 * and pops through the stack, then `jmp $+2` so that the stop address starts a block.
 *   a3 00 00 02 00 (i386: mov [0x20000], eax)  /  89 04 25 00 00 02 00 (amd64: mov [0x20000], eax)
 *   8b 1c 25 … / 8b 1d …  mov ebx, [0x20000]
 *   0f 31 rdtsc; 50 push; 5a pop edx/rdx (edx = eax); eb 00 jmp next
 */
function program(arch: Arch): number[] {
  const address = [0x00, 0x00, 0x02, 0x00];
  const store = arch === 'amd64' ? [0x89, 0x04, 0x25, ...address] : [0xa3, ...address];
  const load = arch === 'amd64' ? [0x8b, 0x1c, 0x25, ...address] : [0x8b, 0x1d, ...address];
  return [...store, ...load, 0x0f, 0x31, 0x50, 0x5a, 0xeb, 0x00];
}

describe.each(ARCHES)('UnicornEngine.relayout (%s)', (arch) => {
  const engines: UnicornEngine[] = [];
  afterEach(() => {
    for (const e of engines.splice(0)) e.close();
  });

  function hostEngine(): { e: UnicornEngine; regions: HostRegion[] } {
    let ticks = 1000n;
    const e = new UnicornEngine(arch, { rdtsc: () => (ticks += 7n) });
    engines.push(e);
    const memory = e.reserveHostMemory(0x100000);
    const regions: HostRegion[] = [
      { address: CODE, size: PAGE, prot: RX, memory, offset: CODE },
      { address: DATA, size: 2 * PAGE, prot: RW, memory, offset: DATA },
      { address: RODATA, size: PAGE, prot: PROT_READ, memory, offset: RODATA },
      { address: STACK, size: PAGE, prot: RW, memory, offset: STACK },
    ];
    return { e, regions };
  }

  function runProgram(e: UnicornEngine, value: number) {
    const code = program(arch);
    e.setReg(reg(arch, 'ax'), value);
    e.setReg(reg(arch, 'sp'), STACK + PAGE - 0x10);
    const result = e.run(CODE, { until: CODE + code.length, budget: 1000 });
    return { instructions: result.instructions, stored: e.reg(reg(arch, 'bx')) & 0xffffffffn, tsc: e.reg(reg(arch, 'dx')) & 0xffffffffn };
  }

  it('re-maps live regions without changing bytes, protections, results, counts or patched timestamp reads', () => {
    const { e, regions } = hostEngine();
    for (const r of regions) e.mapHost(r.address, r.size, r.prot, r.memory, r.offset);
    const code = Uint8Array.from(program(arch));
    e.write(CODE, code);
    e.write(RODATA, Uint8Array.from([1, 2, 3, 4]));
    const before = runProgram(e, 0x1234);
    expect(before.stored).toBe(0x1234n);
    const patched = e.read(CODE, code.length);
    expect(patched).not.toEqual(code); // rdtsc became a trap

    e.relayout();

    expect(e.read(DATA, 4)).toEqual(Uint8Array.from([0x34, 0x12, 0, 0]));
    expect(e.read(RODATA, 4)).toEqual(Uint8Array.from([1, 2, 3, 4]));
    expect(e.read(CODE, code.length)).toEqual(patched);
    expect(e.readOriginal(CODE, code.length)).toEqual(code);
    expect(e.timestampPatchList()).toHaveLength(1);
    const after = runProgram(e, 0x5678);
    expect(after.instructions).toBe(before.instructions);
    expect(after.stored).toBe(0x5678n);
    expect(after.tsc).toBeGreaterThan(before.tsc);
    // Protections hold: the guest cannot store into code or read-only data.
    for (const target of [CODE, RODATA]) {
      const store = arch === 'amd64' ? [0x89, 0x04, 0x25] : [0xa3];
      const le = [target & 0xff, (target >> 8) & 0xff, (target >> 16) & 0xff, 0];
      e.write(CODE + 0x800, Uint8Array.from([...store, ...le, 0xeb, 0x00]));
      expect(() => e.run(CODE + 0x800, { until: CODE + 0x800 + store.length + 6, budget: 10 })).toThrow(GuestFault);
    }
    // Host writes to code after the re-layout are still seen as code rewrites (their translations are dropped).
    e.write(CODE, Uint8Array.from([0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0xeb, 0x00]));
    expect(e.run(CODE, { until: CODE + 9, budget: 100 }).instructions).toBe(8);
  });

  it('mapHostRegions into a new engine gives the same machine as mapping one by one', () => {
    const results = [false, true].map((batch) => {
      const { e, regions } = hostEngine();
      if (batch) e.mapHostRegions(regions);
      else for (const r of regions) e.mapHost(r.address, r.size, r.prot, r.memory, r.offset);
      e.write(CODE, Uint8Array.from(program(arch)));
      return [runProgram(e, 42), runProgram(e, 43)];
    });
    expect(results[1]).toEqual(results[0]);
  });

  it('leaves an engine with engine-owned memory as it is', () => {
    const { e, regions } = hostEngine();
    e.map(0x80000, PAGE, RW);
    e.write(0x80000, Uint8Array.from([9, 9]));
    for (const r of regions) e.mapHost(r.address, r.size, r.prot, r.memory, r.offset);
    e.write(CODE, Uint8Array.from(program(arch)));
    const before = runProgram(e, 7);
    e.relayout();
    expect(e.read(0x80000, 2)).toEqual(Uint8Array.from([9, 9]));
    expect(runProgram(e, 7).instructions).toBe(before.instructions);
  });
});
