/**
 * The recorder's `reads` and `include` options (what the playground's memory view relies on): every load the guest
 * makes is known to the trace, with the exact bytes guest memory held at that step; included ranges are known from
 * position 0; the include list is bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../src/machine.ts';
import { OutBuffer } from '../src/callspec/values.ts';
import { activeRecording, MAX_INCLUDED_BYTES, recordTrace } from '../src/trace/recorder.ts';
import { TracePlayer } from '../src/trace/player.ts';
import type { Arch } from '../src/emu/arch.ts';

const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';

describe.each(['amd64', 'i386'] as Arch[])('recording loads (%s)', (arch) => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ arch });
    m.fn('libc.so.6', SNPRINTF)(new OutBuffer(64), 64, 'warm-up %f', 1.5);
  }, 120_000);
  afterAll(() => m?.close());

  it('knows every byte the call loaded, as it was at the loading step', () => {
    const f = m.fn('libc.so.6', SNPRINTF);
    const loads: { step: number; address: number; bytes: Uint8Array }[] = [];
    const engine = m.process.engine;
    let hook: { remove(): void } | undefined;
    const { trace } = recordTrace(m, 'loads', () => {
      // Installed inside the recording, after the recorder's own hooks: sees the same loads, before they happen.
      hook = engine.addMemoryHook(['read'], (_a, address, size) => {
        loads.push({ step: activeRecording(m)!.step, address, bytes: engine.read(address, size) });
      });
      return f(new OutBuffer(64), 64, '%d %f', 42, 1.5);
    }, { reads: true });
    hook!.remove();
    expect(loads.length).toBeGreaterThan(100);
    const p = new TracePlayer(trace);
    for (const load of loads) {
      p.seek(load.step);
      expect(p.memory(load.address, load.bytes.length), `step ${load.step} 0x${load.address.toString(16)}`).toEqual(load.bytes);
    }
    // Without the option, some of those loads are unknown (what the code only reads).
    const { trace: plain } = recordTrace(m, 'plain', () => f(new OutBuffer(64), 64, '%d %f', 42, 1.5));
    const q = new TracePlayer(plain);
    expect(loads.some((l) => !q.hasMemory(l.address, l.bytes.length))).toBe(true);
  });

  it('includes requested ranges from position 0, within a bound', () => {
    const layout = m.tlsLayout();
    const { trace } = recordTrace(m, 'errno', () => m.fn('libc.so.6', 'size_t strlen(const char *s)')('abc'), { include: [{ address: layout.errno, size: 4 }] });
    const p = new TracePlayer(trace);
    expect(p.memory(layout.errno, 4)).toEqual(m.read(layout.errno, 4));
    expect(() => recordTrace(m, 'big', () => 0, { include: [{ address: layout.errno, size: MAX_INCLUDED_BYTES + 1 }] })).toThrow(/at most 65536 bytes/);
  });
});
