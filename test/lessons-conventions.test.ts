/** The playground's convention lessons: each step's plan is the convention it teaches (built without a browser). */
import { describe, expect, it } from 'vitest';
import { lesson, lessonList } from '../src/playground/lessons.ts';
import type { CallSpec } from '../src/callspec/types.ts';

const specs = async (id: string) => (await lesson(id)).steps.map((s) => (s.plan as { spec: CallSpec }).spec);

describe('convention lessons', () => {
  it('are listed', () => {
    const ids = lessonList().lessons.map((l) => l.id);
    expect(ids).toEqual(expect.arrayContaining(['i386-conventions', 'win64-vs-sysv']));
  });

  it('compare cdecl, stdcall, fastcall, thiscall and regparm on the same call', async () => {
    const plans = await specs('i386-conventions');
    expect(plans.map((p) => [p.convention ?? 'cdecl', p.calleePops])).toEqual([['cdecl', 0], ['stdcall', 12], ['fastcall', 4], ['thiscall', 8], ['regparm(3)', 0]]);
    expect(plans.map((p) => p.args.map((a) => (a.locations[0]!.kind === 'reg' ? a.locations[0]!.reg : 'stack')).join(' '))).toEqual([
      'stack stack stack', 'stack stack stack', 'ecx edx stack', 'ecx stack stack', 'eax edx ecx',
    ]);
  });

  it('show Win64 against System V: positions, shadow space, a struct by reference, variadic doubles twice', async () => {
    const [sysv, win64, varargs] = await specs('win64-vs-sysv');
    expect(sysv!.shadowSpace).toBeUndefined();
    expect(win64!.shadowSpace).toBe(32);
    expect(win64!.args[2]!.indirect).toBe(true);
    expect(win64!.args[4]!.locations[0]).toMatchObject({ kind: 'stack', stackOffset: 32 });
    expect(varargs!.args[1]!.locations.map((l) => (l.kind === 'reg' ? l.reg : ''))).toEqual(['xmm1', 'rdx']);
  });
});
