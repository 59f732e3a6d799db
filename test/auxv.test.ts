/**
 * The initial process stack (argc, argv, envp, auxv, strings, AT_RANDOM): the pure layout from buildInitialStack,
 * and what the real glibc in a booted machine reads from it (getauxval, the stack protector canary).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Arch } from '../src/emu/arch.ts';
import { virtualCpuid } from '../src/emu/cpuid.ts';
import { SeededRandom } from '../src/kernel/clock.ts';
import { AT, AT_RANDOM_BYTES, buildInitialStack, type ExecImage } from '../src/loader/auxv.ts';
import { Machine } from '../src/machine.ts';
import { LAYOUTS, STUB_PATH } from '../src/loader/process.ts';

const ARCHES: Arch[] = ['amd64', 'i386'];

function image(arch: Arch, overrides: Partial<ExecImage> = {}): ExecImage {
  return {
    arch,
    argv: ['/usr/bin/prog', 'first arg', ''],
    envp: ['HOME=/root', 'LANG=C.UTF-8'],
    execfn: '/usr/bin/prog',
    platform: arch === 'amd64' ? 'x86_64' : 'i686',
    phdr: 0x400040,
    phent: arch === 'amd64' ? 56 : 32,
    phnum: 11,
    interpBase: arch === 'amd64' ? 0x7ffff7fc3000 : 0xf7fc3000,
    entry: 0x401000,
    hwcap: 0x178bfbff,
    random: Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i),
    pageSize: 4096,
    ...overrides,
  };
}

/** Decodes the initial stack the way a process's _start does. */
function decode(arch: Arch, top: number, stack: { sp: number; bytes: Uint8Array }) {
  const ptr = arch === 'amd64' ? 8 : 4;
  const view = new DataView(stack.bytes.buffer, stack.bytes.byteOffset, stack.bytes.byteLength);
  let at = 0;
  const word = () => {
    const w = ptr === 8 ? Number(view.getBigUint64(at, true)) : view.getUint32(at, true);
    at += ptr;
    return w;
  };
  const memory = (address: number, size: number) => {
    expect(address).toBeGreaterThanOrEqual(stack.sp);
    expect(address + size).toBeLessThanOrEqual(top);
    return stack.bytes.subarray(address - stack.sp, address - stack.sp + size);
  };
  const cString = (address: number) => {
    expect(address).toBeGreaterThanOrEqual(stack.sp);
    expect(address).toBeLessThan(top);
    const rest = stack.bytes.subarray(address - stack.sp);
    const nul = rest.indexOf(0);
    expect(nul).toBeGreaterThanOrEqual(0); // NUL-terminated inside the block
    return new TextDecoder().decode(rest.subarray(0, nul));
  };
  const argc = word();
  const argv: number[] = [];
  for (let i = 0; i < argc; i++) argv.push(word());
  const argvNull = word();
  const envp: number[] = [];
  for (let w = word(); w !== 0; w = word()) envp.push(w);
  const auxv: [number, number][] = [];
  for (;;) {
    const key = word();
    const value = word();
    auxv.push([key, value]);
    if (key === AT.NULL) break;
  }
  return { argc, argv, argvNull, envp, auxv, vectorEnd: stack.sp + at, cString, memory };
}

describe.each(ARCHES)('buildInitialStack (%s)', (arch) => {
  const top = arch === 'amd64' ? 0x7ffffffff000 : 0xffffd000;

  it('lays out argc, argv, NULL, envp, NULL and the auxv pairs from sp upwards', () => {
    const img = image(arch);
    const stack = buildInitialStack(img, top);
    const d = decode(arch, top, stack);
    expect(d.argc).toBe(3);
    expect(d.argvNull).toBe(0);
    expect(d.argv.map(d.cString)).toEqual(['/usr/bin/prog', 'first arg', '']);
    expect(d.envp.map(d.cString)).toEqual(['HOME=/root', 'LANG=C.UTF-8']);
    expect(d.auxv).toEqual(stack.auxv);
    expect(d.auxv.at(-1)).toEqual([AT.NULL, 0]);
    expect(stack.bytes.length).toBe(top - stack.sp);
    // The vector area ends before the first string or random byte.
    const pointers = [...d.argv, ...d.envp, ...d.auxv.filter(([k]) => k === AT.RANDOM || k === AT.PLATFORM || k === AT.EXECFN).map(([, v]) => v)];
    expect(Math.min(...pointers)).toBeGreaterThanOrEqual(d.vectorEnd);
  });

  it('has the auxv entries glibc needs, each once, with the image values', () => {
    const img = image(arch);
    const { auxv } = buildInitialStack(img, top);
    const keys = auxv.map(([k]) => k);
    expect(new Set(keys).size).toBe(keys.length);
    const get = (k: number) => auxv.find(([key]) => key === k)?.[1];
    expect(get(AT.PHDR)).toBe(img.phdr);
    expect(get(AT.PHENT)).toBe(img.phent);
    expect(get(AT.PHNUM)).toBe(11);
    expect(get(AT.PAGESZ)).toBe(4096);
    expect(get(AT.BASE)).toBe(img.interpBase);
    expect(get(AT.ENTRY)).toBe(0x401000);
    expect(get(AT.HWCAP)).toBe(0x178bfbff);
    expect(get(AT.SECURE)).toBe(0);
    expect(get(AT.UID)).toBe(0);
    expect(get(AT.EUID)).toBe(0);
    expect(get(AT.GID)).toBe(0);
    expect(get(AT.EGID)).toBe(0);
    expect(get(AT.CLKTCK)).toBe(100);
    expect(get(AT.FLAGS)).toBe(0);
  });

  it('points AT_RANDOM at the 16 random bytes, AT_PLATFORM and AT_EXECFN at NUL-terminated strings', () => {
    const img = image(arch);
    const stack = buildInitialStack(img, top);
    const d = decode(arch, top, stack);
    const get = (k: number) => d.auxv.find(([key]) => key === k)![1];
    expect([...d.memory(get(AT.RANDOM), AT_RANDOM_BYTES)]).toEqual([...img.random]);
    expect(d.cString(get(AT.PLATFORM))).toBe(img.platform);
    expect(d.cString(get(AT.EXECFN))).toBe('/usr/bin/prog');
    // Strings and random bytes do not overlap each other.
    const spans = [
      ...d.argv.map((p) => [p, p + new TextEncoder().encode(d.cString(p)).length + 1]),
      ...d.envp.map((p) => [p, p + new TextEncoder().encode(d.cString(p)).length + 1]),
      [get(AT.PLATFORM), get(AT.PLATFORM) + img.platform.length + 1],
      [get(AT.EXECFN), get(AT.EXECFN) + img.execfn.length + 1],
      [get(AT.RANDOM), get(AT.RANDOM) + 16],
    ].sort((a, b) => a[0]! - b[0]!);
    for (let i = 1; i < spans.length; i++) expect(spans[i]![0]!).toBeGreaterThanOrEqual(spans[i - 1]![1]!);
    expect(spans.at(-1)![1]).toBeLessThanOrEqual(top);
  });

  it('aligns sp to 16 bytes for any amount of string data', () => {
    for (let extra = 0; extra < 40; extra++) {
      const img = image(arch, { argv: ['x'.repeat(extra)], envp: extra % 3 ? ['A=1'] : [] });
      const stack = buildInitialStack(img, top);
      expect(stack.sp % 16).toBe(0);
      const d = decode(arch, top, stack);
      expect(d.argc).toBe(1);
      expect(d.cString(d.argv[0]!)).toBe('x'.repeat(extra));
    }
  });

  it('encodes UTF-8 strings and uses only the first 16 random bytes', () => {
    const img = image(arch, { argv: ['prog', 'héllo ✓'], random: Uint8Array.from({ length: 32 }, (_, i) => i) });
    const stack = buildInitialStack(img, top);
    const d = decode(arch, top, stack);
    expect(d.cString(d.argv[1]!)).toBe('héllo ✓');
    const random = d.auxv.find(([k]) => k === AT.RANDOM)![1];
    expect([...d.memory(random, 16)]).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it('is pure: the same image gives the same bytes', () => {
    const a = buildInitialStack(image(arch), top);
    const b = buildInitialStack(image(arch), top);
    expect(a.sp).toBe(b.sp);
    expect(Buffer.from(a.bytes).equals(Buffer.from(b.bytes))).toBe(true);
  });
});

describe.each(ARCHES)('the guest reads its auxv (%s)', (arch) => {
  const machines: Machine[] = [];
  afterAll(() => {
    for (const m of machines) m.close();
  });
  const boot = async (seed?: number) => {
    const m = await Machine.boot({ arch, seed });
    machines.push(m);
    return m;
  };
  const getauxval = (m: Machine, type: number) => {
    const r = m.fn('libc.so.6', 'unsigned long getauxval(unsigned long type)')(type);
    return { value: Number(r.value), errno: r.errno };
  };

  /** The auxv as it is in guest memory: after the envp array that glibc's `environ` points at. */
  const guestAuxv = (m: Machine): Map<number, number> => {
    const ptr = arch === 'amd64' ? 8 : 4;
    const word = (address: number) => {
      const bytes = m.read(address, ptr);
      const view = new DataView(bytes.buffer, bytes.byteOffset, ptr);
      return ptr === 8 ? Number(view.getBigUint64(0, true)) : view.getUint32(0, true);
    };
    const environ = m.symbols.require('environ');
    let at = word(environ.address);
    while (word(at) !== 0) at += ptr;
    at += ptr;
    const auxv = new Map<number, number>();
    for (let key = word(at); key !== AT.NULL; at += 2 * ptr, key = word(at)) auxv.set(key, word(at + ptr));
    return auxv;
  };

  it('the auxv in guest memory carries AT_HWCAP = CPUID.1:EDX of the virtual CPU', async () => {
    const m = await boot();
    const auxv = guestAuxv(m);
    expect(auxv.get(AT.HWCAP)).toBe(virtualCpuid(1, 0).edx >>> 0);
    expect(auxv.get(AT.PAGESZ)).toBe(4096);
    expect(auxv.get(AT.RANDOM)).toBe(getauxval(m, AT.RANDOM).value);
    expect(auxv.get(AT.PLATFORM)).toBe(getauxval(m, AT.PLATFORM).value);
  });

  it('getauxval(AT_HWCAP) is the x86 summary glibc derives from the CPU (HWCAP_X86_64 / HWCAP_X86_SSE2)', async () => {
    // On x86 glibc replaces dl_hwcap during CPU feature initialisation, and getauxval(AT_HWCAP) returns that:
    // amd64 → HWCAP_X86_64 (2; no AVX-512), i386 → HWCAP_X86_SSE2 (1, because SSE2 is usable).
    const m = await boot();
    expect(getauxval(m, AT.HWCAP).value).toBe(arch === 'amd64' ? 2 : 1);
  });

  it('AT_PAGESZ, AT_SECURE, AT_UID, AT_CLKTCK, AT_ENTRY, AT_BASE, AT_PHNUM', async () => {
    const m = await boot();
    expect(getauxval(m, AT.PAGESZ).value).toBe(4096);
    expect(getauxval(m, AT.SECURE)).toEqual({ value: 0, errno: 0 });
    expect(getauxval(m, AT.UID)).toEqual({ value: 0, errno: 0 });
    expect(getauxval(m, AT.CLKTCK).value).toBe(100);
    const p = m.process;
    expect(getauxval(m, AT.ENTRY).value).toBe(p.exe.base + p.exe.elf.entry);
    expect(getauxval(m, AT.BASE).value).toBe(p.interp!.base);
    expect(getauxval(m, AT.PHNUM).value).toBe(p.exe.elf.phnum);
    // A key that is not in the vector: 0 and ENOENT.
    expect(getauxval(m, 51 /* AT_MINSIGSTKSZ */)).toEqual({ value: 0, errno: 2 });
  });

  it('AT_PLATFORM and AT_EXECFN point at strings in guest memory', async () => {
    const m = await boot();
    const platform = getauxval(m, AT.PLATFORM).value;
    expect(m.readCString(platform)).toBe(arch === 'amd64' ? 'x86_64' : 'i686');
    expect(m.readCString(getauxval(m, AT.EXECFN).value)).toBe(STUB_PATH);
    // They live at the top of the initial stack.
    expect(platform).toBeLessThan(LAYOUTS[arch].stackTop);
    expect(platform).toBeGreaterThan(LAYOUTS[arch].stackTop - 4096);
  });

  it('AT_RANDOM holds 16 bytes from the seeded generator, and glibc built its stack canary from them', async () => {
    const a = await boot(1234);
    const b = await boot(1234);
    const c = await boot(99);
    const random = (m: Machine) => [...m.read(getauxval(m, AT.RANDOM).value, 16)];
    expect(random(a)).toEqual([...new SeededRandom(1234).bytes(16)]);
    expect(random(b)).toEqual(random(a));
    expect(random(c)).toEqual([...new SeededRandom(99).bytes(16)]);
    expect(random(c)).not.toEqual(random(a));

    // _dl_setup_stack_chk_guard: the canary is the first word of AT_RANDOM with its low byte zeroed, stored in
    // the TCB at fs:0x28 (amd64) / gs:0x14 (i386).
    const ptr = arch === 'amd64' ? 8 : 4;
    const tcb = Number(a.fn('libc.so.6', 'unsigned long pthread_self(void)')().value);
    const canary = [...a.read(tcb + (arch === 'amd64' ? 0x28 : 0x14), ptr)];
    expect(canary).toEqual([0, ...random(a).slice(1, ptr)]);
  });

  it('the default seed is 0', async () => {
    const m = await boot();
    expect([...m.read(getauxval(m, AT.RANDOM).value, 16)]).toEqual([...new SeededRandom(0).bytes(16)]);
  });
});
