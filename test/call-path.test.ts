/**
 * The host call path (src/callspec/call.ts, plan.ts, guest-window.ts): arguments and results go through live host
 * windows onto guest memory when that is safe, and through the engine otherwise — with the same results, the same
 * instruction counts and the same guest memory either way; the trap page sits above an unmapped guard page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../src/emu/engine.ts';
import { out, vararg } from '../src/callspec/values.ts';
import { type CallResult, Machine } from '../src/machine.ts';
import { recordTrace } from '../src/trace/recorder.ts';

const PAGE = 0x1000;

/** A mix of calls: strings, out buffers, varargs, errno, char * and double returns, an IFUNC'd function. */
function calls(m: Machine): CallResult[] {
  const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
  return [
    snprintf(out(64), 64, '%f %d %s', vararg.double(1.5), vararg.int(7), 'xy'),
    m.fn('libc.so.6', 'double strtod(const char *s, void *end)')('2.5e3', out(8)),
    m.fn('libc.so.6', 'unsigned long strlen(const char *s)')('héllo'),
    m.fn('libc.so.6', 'long long llabs(long long x)')(-(2 ** 40)),
    m.fn('libc.so.6', 'char *strerror(int errnum)')(2),
    m.fn('libc.so.6', 'int open(const char *path, int flags)')('/nonexistent', 0),
    m.fn('libc.so.6', 'int abs(int x)')(-5),
  ];
}

/** Every accessible byte of guest memory, by region. */
function memory(m: Machine): Map<string, Uint8Array> {
  const regions = new Map<string, Uint8Array>();
  for (const r of m.process.space.list()) {
    if (r.prot !== 0) regions.set(`${r.start.toString(16)} ${r.label}`, m.read(r.start, r.end - r.start));
  }
  return regions;
}

const plain = (r: CallResult) => ({ ...r, out: Object.fromEntries(Object.entries(r.out).map(([k, v]) => [k, [...v]])), returnBytes: [...r.returnBytes] });

describe.each(ARCHES)('host calls on %s', (arch: Arch) => {
  let windows: Machine;
  let engineOnly: Machine;
  beforeAll(async () => {
    [windows, engineOnly] = [await Machine.boot({ arch }), await Machine.boot({ arch })];
  });
  afterAll(() => {
    windows.close();
    engineOnly.close();
  });

  it('give the same results, counts and guest memory through windows as through the engine', () => {
    const direct = calls(windows);
    // While a trace records, every host write goes through the engine (the recorder sees them there).
    const { result: viaEngine } = recordTrace(engineOnly, 'calls', () => calls(engineOnly));
    expect(direct.map(plain)).toEqual(viaEngine.map(plain));
    expect(direct[0]!.instructions).toBeGreaterThan(1000);
    expect(new TextDecoder().decode(direct[0]!.out[0]!).replace(/\0+$/, '')).toBe('1.500000 7 xy');
    expect(direct[5]!.errno).toBe(2);
    const [a, b] = [memory(windows), memory(engineOnly)];
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [region, bytes] of a) expect(Buffer.compare(bytes, b.get(region)!), region).toBe(0);
  });

  it('write arguments and read results without a native memory call (a warm call writes nothing through the engine)', () => {
    const snprintf = windows.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
    snprintf(out(16), 16, '%d', vararg.int(1)); // the first call makes the trampoline
    const engine = windows.process.engine;
    const write = engine.write.bind(engine);
    const read = engine.read.bind(engine);
    let native = 0;
    Object.assign(engine, {
      write: (address: number, bytes: Uint8Array) => (native++, write(address, bytes)),
      read: (address: number, size: number) => (native++, read(address, size)),
    });
    try {
      const r = snprintf(out(16), 16, '%d', vararg.int(42));
      expect(new TextDecoder().decode(r.out[0]!.subarray(0, 2))).toBe('42');
      expect(native).toBe(0);
    } finally {
      delete (engine as unknown as Record<string, unknown>).write;
      delete (engine as unknown as Record<string, unknown>).read;
    }
  });

  it('fall back to the engine when the guest makes the host arena executable, with the same results', () => {
    const before = calls(windows).map(plain);
    const arena = windows.process.space.list().find((r) => r.label === '[shimulator host arena]')!;
    const mprotect = windows.fn('libc.so.6', 'int mprotect(void *addr, unsigned long len, int prot)');
    expect(mprotect(arena.start, arena.end - arena.start, PROT_READ | PROT_WRITE | PROT_EXEC).value).toBe(0);
    expect(windows.process.space.dataWindow(arena.start, PAGE)).toBeUndefined();
    expect(calls(windows).map(plain)).toEqual(before);
    expect(mprotect(arena.start, arena.end - arena.start, PROT_READ | PROT_WRITE).value).toBe(0);
    expect(windows.process.space.dataWindow(arena.start, PAGE)).toBeInstanceOf(Uint8Array);
  });

  it('stop at a trap page whose page below is reserved and unmapped (the guard page)', () => {
    const trap = windows.process.layout.trapPage;
    const space = windows.process.space;
    expect(space.find(trap)?.label).toBe('[shimulator trap]');
    expect(space.find(trap - PAGE)).toMatchObject({ label: '[shimulator guard]', prot: 0 });
    expect(space.isAccessible(trap - PAGE, PAGE)).toBe(false);
    expect(() => windows.read(trap - PAGE, 1)).toThrow(/unmapped/i);
    // A hinted mmap there goes elsewhere: the guard stays.
    const mmap = windows.fn('libc.so.6', 'void *mmap(void *addr, unsigned long len, int prot, int flags, int fd, long off)');
    const MAP_PRIVATE_ANONYMOUS = 0x22;
    const placed = Number(mmap(trap - PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0).value);
    expect(placed).not.toBe(trap - PAGE);
    expect(space.find(trap - PAGE)?.label).toBe('[shimulator guard]');
  });
});
