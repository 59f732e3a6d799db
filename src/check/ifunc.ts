/**
 * IFUNC implementations without calling resolvers during a checked run.
 *
 * The checker watches an IFUNC'd function (strlen, memcpy, …) at the implementation its resolver picks. Calling a
 * resolver is a host call, impossible from inside a block hook while a whole program runs. But glibc's resolvers
 * depend only on the CPU features, and those are pinned (src/emu/cpuid.ts): for a given build of an object (its
 * GNU build id) on a given arch, each IFUNC symbol always resolves to the same offset inside that object. So the
 * offsets are computed once — from a stub-booted Machine, whose resolvers are called as host calls between calls —
 * and kept in memory for the life of the process, keyed by (arch, build id).
 *
 * (They would differ only if the guest changed glibc's choices itself, e.g. with GLIBC_TUNABLES=glibc.cpu.hwcaps.)
 */
import type { Arch } from '../emu/arch.ts';
import type { MappedObject } from '../loader/process.ts';

/** Per object build: IFUNC symbol value (its resolver's offset) → the implementation's offset, both from the load base. */
const tables = new Map<string, Map<number, number>>();

/** Boots already done by precomputeIfuncImplementations, by arch and libraries. */
const precomputed = new Map<string, Record<string, number>>();

/** Objects without a build id are keyed by path and size (the bundled ones all have one). */
function keyOf(arch: Arch, object: MappedObject): string {
  return `${arch}:${object.elf.buildId ?? `${object.path}:${object.elf.loadSpan.end}`}`;
}

/** The implementation address of the IFUNC symbol with this value in `object`, when known for its build. */
export function cachedIfuncImplementation(arch: Arch, object: MappedObject, symbolValue: number): number | undefined {
  const offset = tables.get(keyOf(arch, object))?.get(symbolValue);
  return offset === undefined ? undefined : object.base + offset;
}

/** Remembers a resolved IFUNC (implementations outside the object are not offsets of it: they are not kept). */
export function recordIfuncImplementation(arch: Arch, object: MappedObject, symbolValue: number, implementation: number): void {
  const offset = implementation - object.base;
  if (offset < object.elf.loadSpan.start || offset >= object.elf.loadSpan.end) return;
  const key = keyOf(arch, object);
  let table = tables.get(key);
  if (!table) tables.set(key, (table = new Map()));
  table.set(symbolValue, offset);
}

/** Every exported IFUNC symbol of an object: value and name (aliases share a value). */
export function ifuncSymbols(object: MappedObject): { value: number; name: string }[] {
  const seen = new Map<number, string>();
  for (const symbol of object.elf.dynsym) if (symbol.defined && symbol.type === 'GNU_IFUNC' && !seen.has(symbol.value)) seen.set(symbol.value, symbol.name);
  return [...seen].map(([value, name]) => ({ value, name }));
}

/**
 * Calls an IFUNC resolver (as ld.so does: `call` makes the host call) and remembers the implementation it picked for
 * the build of the object it is in (`objects`: the loaded objects, asked after the call).
 */
export function callIfuncResolver(arch: Arch, address: number, call: (address: number) => number, objects: () => MappedObject[]): number {
  const implementation = call(address);
  const object = objects().find((o) => address >= o.base + o.elf.loadSpan.start && address < o.base + o.elf.loadSpan.end);
  if (object) recordIfuncImplementation(arch, object, address - object.base, implementation);
  return implementation;
}

/** Resolves every IFUNC symbol of every object with `resolve`; returns the number of IFUNC symbols per object. */
export function resolveAllIfuncs(objects: MappedObject[], resolve: (address: number, name: string) => number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const object of objects) {
    const symbols = ifuncSymbols(object);
    if (symbols.length === 0) continue;
    for (const s of symbols) resolve(object.base + s.value, s.name);
    counts[object.elf.soname ?? object.path] = symbols.length;
  }
  return counts;
}

/** Whether every IFUNC symbol of `object` has a known implementation (nothing left to resolve). */
export function ifuncsKnown(arch: Arch, object: MappedObject): boolean {
  const table = tables.get(keyOf(arch, object));
  return ifuncSymbols(object).every((s) => table?.has(s.value));
}

/**
 * Resolves every IFUNC of the bundled libc (and of `libs`, as `Machine.boot` takes them) on `arch` once, in a
 * stub-booted Machine, and keeps the offsets for every later checker in this process. Call it before a whole-program
 * run; it costs one boot (~40 ms) plus one resolver call per IFUNC the first time, nothing afterwards. Returns the
 * number of IFUNC symbols known per object (soname or path).
 */
export async function precomputeIfuncImplementations(arch: Arch, libs: string[] = []): Promise<Record<string, number>> {
  const key = `${arch}:${libs.join('\0')}`;
  const done = precomputed.get(key);
  if (done) return done;
  const { Machine } = await import('../machine.ts'); // machine.ts imports the checker, which imports this file
  const machine = await Machine.boot({ arch, libs });
  try {
    const counts = machine.resolveAllIfuncs();
    precomputed.set(key, counts);
    return counts;
  } finally {
    machine.close();
  }
}
