/**
 * The playground's convention lessons: recorded calls of gcc-compiled callees (fixtures/abi/lessons). Each step's
 * plan is the convention it teaches, the callee computes the right value, and the machine state at the instruction
 * the step points at is what its text says (read from the recording, independently of the text).
 */
import { describe, expect, it } from 'vitest';
import { lesson, lessonList, LESSONS } from '../src/playground/lessons.ts';
import { openRecording, type Recording } from '../src/playground/lesson-focus.ts';
import type { CallSpec } from '../src/callspec/types.ts';
import { float80 } from '../web/session.ts';

interface Rec extends Recording {
  spec: CallSpec & Recording['spec'];
  result: NonNullable<Recording['result']> & { return: number; abi: { ok: boolean } };
}

const recordings = async (id: string) => (await lesson(id)).steps.map((s) => ({ rec: s.recording as Rec, at: s.focus!.step! }));
const word = (bytes: Uint8Array) => Buffer.from(bytes).readUInt32LE(0);

describe('convention lessons', () => {
  it('are listed, and every prediction has a valid answer', () => {
    const ids = lessonList().lessons.map((l) => l.id);
    expect(ids).toEqual(expect.arrayContaining(['i386-conventions', 'win64-vs-sysv']));
    for (const step of LESSONS.flatMap((l) => l.steps)) {
      if (!step.predict) continue;
      expect(step.predict.choices.length, step.title).toBeGreaterThanOrEqual(2);
      expect(step.predict.answer, step.title).toBeLessThan(step.predict.choices.length);
      expect(step.predict.why.length, step.title).toBeGreaterThan(10);
    }
  });

  it('compare cdecl, stdcall, fastcall, thiscall and regparm on the same gcc-compiled call', async () => {
    const steps = await recordings('i386-conventions');
    const specs = steps.map((s) => s.rec.spec);
    expect(specs.map((p) => [p.convention ?? 'cdecl', p.calleePops])).toEqual([['cdecl', 0], ['stdcall', 12], ['fastcall', 4], ['thiscall', 8], ['regparm(3)', 0]]);
    expect(specs.map((p) => p.args.map((a) => (a.locations[0]!.kind === 'reg' ? a.locations[0]!.reg : 'stack')).join(' '))).toEqual([
      'stack stack stack', 'stack stack stack', 'ecx edx stack', 'ecx stack stack', 'eax edx ecx',
    ]);
    for (const { rec } of steps) {
      expect(rec.result.return, rec.spec.function).toBe(123);
      expect(rec.result.abi.ok, rec.spec.function).toBe(true);
    }
    const [cdecl, stdcall, fastcall, thiscall, regparm] = steps;
    // cdecl and stdcall: the stack pointer after the ret, against the one at the entry (return address + 12 bytes).
    for (const [{ rec, at }, popped] of [[cdecl!, 4], [stdcall!, 16]] as const) {
      const p = (await openRecording(rec)).player;
      p.seek(at);
      const esp = Number(p.register('esp'));
      p.seek(at + 1);
      expect(Number(p.register('esp')) - esp, rec.spec.function).toBe(popped);
    }
    // fastcall: a in ecx, b in edx, c at [esp+4]; thiscall: a in ecx, b and c on the stack; regparm: eax, edx, ecx.
    const at = async ({ rec }: { rec: Rec }) => {
      const open = await openRecording(rec);
      open.player.seek(open.entry!);
      return open.player;
    };
    const f = await at(fastcall!);
    expect([Number(f.register('ecx')), Number(f.register('edx')), word(f.memory(Number(f.register('esp')) + 4, 4))]).toEqual([1, 2, 3]);
    const t = await at(thiscall!);
    const tesp = Number(t.register('esp'));
    expect([Number(t.register('ecx')), word(t.memory(tesp + 4, 4)), word(t.memory(tesp + 8, 4))]).toEqual([1, 2, 3]);
    const r = await at(regparm!);
    expect(['eax', 'edx', 'ecx'].map((n) => Number(r.register(n)))).toEqual([1, 2, 3]);
  }, 120_000);

  it('show Win64 against System V: positions, a struct by reference, the shadow space, variadic doubles twice', async () => {
    const [sysv, byReference, shadow, varargsCaller, varargsCallee] = await recordings('win64-vs-sysv');
    expect(sysv!.rec.spec.shadowSpace).toBeUndefined();
    expect(byReference!.rec.spec.shadowSpace).toBe(32);
    expect(byReference!.rec.spec.args[2]!.indirect).toBe(true);
    expect(byReference!.rec.spec.args[4]!.locations[0]).toMatchObject({ kind: 'stack', stackOffset: 32 });
    expect([sysv, byReference, shadow, varargsCaller].map((s) => s!.rec.result.return)).toEqual([128, 128, 128, 4]);

    // The shadow space: at mix_ms's entry, d (7) is at [rsp+0x28], above 32 bytes of shadow space.
    const open = await openRecording(shadow!.rec);
    open.player.seek(open.entry!);
    const rsp = Number(open.player.register('rsp'));
    expect(Buffer.from(open.player.memory(rsp + 0x28, 8)).readBigInt64LE(0)).toBe(7n);
    // The struct by reference: r8 points at a copy of {4, "ping"}.
    const r8 = Number(open.player.register('r8'));
    expect(Buffer.from(open.player.memory(r8, 8)).toString('latin1')).toBe('\x04\x00\x00\x00ping');

    // Variadic doubles: after the pointed-at load, rdx holds the same 8 bytes as xmm1's low half (1.5).
    const caller = (await openRecording(varargsCaller!.rec)).player;
    caller.seek(varargsCaller!.at + 1);
    const xmm1 = caller.register('xmm1').slice(0, 16);
    const rdx = BigInt(caller.register('rdx'));
    expect(Buffer.from(xmm1, 'hex').readBigUInt64LE(0)).toBe(rdx);
    expect(Buffer.from(xmm1, 'hex').readDoubleLE(0)).toBe(1.5);
    // The callee's spill lands in the shadow space: entry rsp + 0x10, the home of the second argument.
    const callee = await openRecording(varargsCallee!.rec);
    callee.player.seek(callee.entry!);
    const entryRsp = Number(callee.player.register('rsp'));
    const spill = callee.player.writesAt(varargsCallee!.at);
    expect(spill.map((w) => w.address)).toEqual([entryRsp + 0x10]);
    expect(Buffer.from(spill[0]!.new).readDoubleLE(0)).toBe(1.5);
  }, 120_000);

  it('every "predict" answer is what the recording shows', async () => {
    // For each step with a question: the machine state (at the callee's entry, at the pointed instruction or after
    // the return) that makes the marked choice the right one, read from the step's own recording.
    const check: Record<string, (o: Awaited<ReturnType<typeof openRecording>>, at: number) => void> = {
      'cdecl-vs-sysv/0': (o) => { o.player.seek(o.entry!); expect(o.player.registerBigInt('rcx')).toBe(42n); },
      'varargs-al/0': (o) => { o.player.seek(o.entry!); expect(o.player.registerBigInt('rax') & 0xffn).toBe(1n); },
      'struct-eightbytes/0': (o) => { o.player.seek(o.returned!); expect(o.player.registerBigInt('rax')).toBe(7n); },
      'returns/0': (o) => { o.player.seek(o.returned!); expect(float80(Buffer.from(o.player.register('st0'), 'hex'))).toBe(2.5); },
      'i386-conventions/0': (o, at) => { expect(o.player.instruction(at)!.text).toBe('ret'); },
      'i386-conventions/1': (o, at) => { expect(o.player.instruction(at)!.text).toBe('ret 0xc'); },
      'i386-conventions/2': (o) => {
        o.player.seek(o.entry!);
        expect(Buffer.from(o.player.memory(Number(o.player.register('esp')) + 4, 4)).readInt32LE(0)).toBe(3);
      },
      'i386-conventions/4': (o) => { o.player.seek(o.entry!); expect(o.player.registerBigInt('ecx')).toBe(3n); },
      'win64-vs-sysv/1': (o) => { o.player.seek(o.entry!); expect(Buffer.from(o.player.register('xmm1'), 'hex').readDoubleLE(0)).toBe(2.5); },
      'win64-vs-sysv/2': (o) => {
        o.player.seek(o.entry!);
        expect(Buffer.from(o.player.memory(Number(o.player.register('rsp')) + 0x28, 8)).readBigInt64LE(0)).toBe(7n);
      },
    };
    const asked = LESSONS.flatMap((l) => l.steps.flatMap((step, i) => (step.predict ? [`${l.id}/${i}`] : [])));
    expect(asked.sort()).toEqual(Object.keys(check).sort());
    for (const key of asked) {
      const [id, index] = key.split('/');
      const step = (await lesson(id!)).steps[Number(index)]!;
      check[key]!(await openRecording(step.recording as Recording), step.focus!.step!);
    }
  }, 120_000);
});
