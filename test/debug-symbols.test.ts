/**
 * Names for glibc's internal functions (src/loader/debug-symbols.ts): traces of real calls on both architectures
 * name the functions nearly every step is in, from the bundled libc6-dbg tables; a library whose build id has no
 * table (a user's own build) falls back to its own symbols.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { out, vararg } from '../src/callspec/values.ts';
import { ARCHES } from '../src/emu/arch.ts';
import { bundledFunctions } from '../src/loader/debug-symbols.ts';
import { parseElf } from '../src/loader/elf.ts';
import { findFixture, loadFixture } from '../src/loader/fixtures.ts';
import { locate } from '../src/loader/symbols.ts';
import { Machine } from '../src/machine.ts';
import { loadDisassembler } from '../src/trace/disassemble.ts';
import { decodeTrace, encodeTrace, functionAt, type Trace } from '../src/trace/format.ts';
import { printTrace } from '../src/trace/print.ts';
import { recordTrace } from '../src/trace/recorder.ts';

const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
/** The goal: at most 1 step in 20 without a function name. */
const MIN_NAMED_PERCENT = 95;
/** glibc 2.36's printf path for "%f %d" (stdio-common/vfprintf-internal.c, printf_fp.c, stdlib/mpn): not exported. */
const INTERNAL_FUNCTIONS = ['__vfprintf_internal', '__printf_fp_l', '__mpn_extract_double', 'hack_digit', '_itoa_word'];

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
beforeAll(async () => {
  await loadDisassembler();
});

/** Steps in a function named by a symbol (not the host's trampoline, which is named by its mapping's label). */
function namedPercent(trace: Trace): number {
  let named = 0;
  for (let step = 0; step < trace.steps; step++) if (functionAt(trace, trace.pc[step]!)?.fn.object) named++;
  return (100 * named) / trace.steps;
}

/** A copy of a fixture with one byte of its NT_GNU_BUILD_ID changed: the same code, another build as far as ids go. */
function withOtherBuildId(bytes: Uint8Array): Uint8Array {
  const id = parseElf(bytes).notes.find((n) => n.name === 'GNU' && n.type === 3)!.desc;
  const copy = bytes.slice();
  copy[id.byteOffset - bytes.byteOffset] ^= 0xff;
  return copy;
}

for (const arch of ARCHES) {
  describe(`names of glibc's internal functions (${arch})`, () => {
    let m: Machine;
    let trace: Trace;
    beforeAll(async () => {
      m = await Machine.boot({ arch });
      const snprintf = m.fn('libc.so.6', SNPRINTF);
      const recorded = recordTrace(m, 'snprintf %f %d', () => snprintf(out(64), 64, '%f %d', vararg.double(3.25), vararg.int(7)));
      expect(new TextDecoder().decode(recorded.result.out[0]!).split('\0')[0]).toBe('3.250000 7');
      trace = recorded.trace;
    });

    it(`names the function of at least ${MIN_NAMED_PERCENT} % of snprintf("%f %d")'s steps`, () => {
      const percent = namedPercent(trace);
      console.log(`${arch}: snprintf("%f %d", 3.25, 7): ${trace.steps} steps, ${percent.toFixed(1)} % in a function named by a symbol (the rest: the host's trampoline)`);
      expect(percent).toBeGreaterThanOrEqual(MIN_NAMED_PERCENT);
      const names = new Set(trace.functions!.map((f) => f.name));
      for (const name of [...INTERNAL_FUNCTIONS, 'snprintf']) expect(names, name).toContain(name);
      // Each is libc's, at the address the loader maps libc's code at.
      const libc = m.symbols.object('libc.so.6')!;
      const vfprintf = trace.functions!.find((f) => f.name === '__vfprintf_internal')!;
      expect(vfprintf.object).toBe(libc.path);
      expect(vfprintf.size).toBeGreaterThan(0);
      expect(locate([libc], vfprintf.address + 1)?.name).toBe('__vfprintf_internal');
    });

    it('prints the function each stretch of steps is in, also after a file round trip', () => {
      const listing = printTrace(decodeTrace(encodeTrace(trace)));
      expect(listing).toContain('\n  in __printf_fp_l (libc.so.6)\n');
      expect(listing).toContain('\n  in snprintf (libc.so.6)\n');
      // Coming back from a callee names the caller with the offset it returns to.
      expect(listing).toMatch(/\n {2}in __vfprintf_internal\+0x[0-9a-f]+ \(libc\.so\.6\)\n/);
    });

    it('describes addresses inside internal functions by name (fault reports, checker messages)', () => {
      const printfFp = trace.functions!.find((f) => f.name === '__printf_fp_l')!;
      expect(m.process.describeAddress(printfFp.address + 0x10)).toBe(`__printf_fp_l+0x10 (${printfFp.object})`);
      // Data symbols still come from the object itself.
      const stdin = m.symbols.lookup('stdin', 'libc.so.6')!;
      expect(m.process.describeAddress(stdin.address + 1)).toBe(`stdin+0x1 (${stdin.object.path})`);
    });

    it('falls back to the object\'s own symbols when its build id has no bundled table', () => {
      const entry = findFixture(arch, 'libc.so.6')!;
      const original = parseElf(loadFixture(entry), entry.guestPath);
      const other = parseElf(withOtherBuildId(loadFixture(entry)), 'libc copy');
      expect(bundledFunctions(arch, original.buildId)?.functions.length).toBeGreaterThan(1000);
      expect(other.buildId).not.toBe(original.buildId);
      expect(bundledFunctions(arch, other.buildId)).toBeUndefined();
      const printfFp = bundledFunctions(arch, original.buildId)!.functions.find((f) => f.name === '__printf_fp_l')!;
      const snprintf = original.lookup('snprintf')!;
      const at = (elf: typeof original, vaddr: number) => locate([{ path: elf.name, base: 0, elf }], vaddr)?.name;
      expect(at(original, printfFp.start + 4)).toBe('__printf_fp_l');
      expect(at(other, printfFp.start + 4)).toBeUndefined(); // stripped: no symbol contains it
      expect(at(other, snprintf.value + 4)).toBe('snprintf'); // exported: .dynsym names it
    });

    it('a user\'s own build of a library (another build id) loads and is named from its own symbols', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'shimulator-dbgsym-'));
      tempDirs.push(dir);
      const libm = loadFixture(findFixture(arch, 'libm.so.6')!);
      const path = join(dir, 'libm.so.6');
      writeFileSync(path, withOtherBuildId(libm));
      const cosine = async (libs: string[]) => {
        const machine = await Machine.boot({ arch, libs });
        const cos = machine.fn('libm.so.6', 'double cos(double x)');
        const { result, trace: t } = recordTrace(machine, 'cos', () => cos(0.5));
        expect(result.value).toBeCloseTo(Math.cos(0.5), 12);
        return t.functions!.filter((f) => f.object.endsWith('libm.so.6')).map((f) => f.name);
      };
      const dynamic = new Set(parseElf(libm).dynsym.map((s) => s.name));
      const bundled = await cosine(['libm.so.6']);
      expect(bundled.some((name) => !dynamic.has(name)), bundled.join(' ')).toBe(true); // __cos_fma or the like
      const own = await cosine([path]);
      expect(own.every((name) => dynamic.has(name)), own.join(' ')).toBe(true);
    });
  });
}
