/**
 * recycle.ts: a playground machine is replaced once its recordings have run RECYCLE_AFTER_CODE distinct
 * instructions (each recording grows Unicorn's code buffer by what it translates). The policy alone, on a real
 * machine and real recordings; the memory it saves is measured by `npm run bench`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Machine } from '../src/machine.ts';
import { recordTrace } from '../src/trace/recorder.ts';
import { CODE_PER_RECORDING, noteRecording, RECYCLE_AFTER_CODE, wornOut } from '../src/playground/recycle.ts';

let machine: Machine | undefined;
afterAll(() => machine?.close());

describe('recycling playground machines', () => {
  it('counts each recording\'s distinct instructions against its machine until the limit', async () => {
    machine = await Machine.boot({ arch: 'amd64', cache: false });
    const other = await Machine.boot({ arch: 'amd64', cache: false });
    try {
      const strlen = machine.fn('libc.so.6', 'unsigned long strlen(const char *s)');
      const { trace } = recordTrace(machine, 'strlen', () => strlen('hello'));
      expect(trace.code.length).toBeGreaterThan(0);
      expect(wornOut(machine)).toBe(false);
      // Enough recordings of this size to pass the limit, and not one fewer than needed.
      const perRecording = trace.code.length + CODE_PER_RECORDING;
      const needed = Math.ceil(RECYCLE_AFTER_CODE / perRecording);
      for (let i = 0; i < needed - 1; i++) noteRecording(machine, trace);
      expect(wornOut(machine)).toBe(false);
      noteRecording(machine, trace);
      expect(wornOut(machine)).toBe(true);
      expect(wornOut(other)).toBe(false); // counted per machine
    } finally {
      other.close();
    }
  });
});
