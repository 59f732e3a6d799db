/**
 * Every lesson step that has a recording opens at the instruction its text discusses. The expectations here are
 * written independently of the lessons' own pointers: for each step, what the instruction must be (its text and
 * the function it is in, the callee's entry, the first instruction after its return, or the store to errno at
 * fs:-0x80), and a phrase the step's text must contain about it.
 */
import { describe, expect, it } from 'vitest';
import { LESSONS, lesson } from '../src/playground/lessons.ts';
import { openRecording, type Recording } from '../src/playground/lesson-focus.ts';

type Expectation =
  | { insn: RegExp; fn?: string; mentions: string }
  | { entry: true; mentions: string }
  | { returned: true; mentions: string }
  | { errnoStore: true; mentions: string }
  | { planOnly: true };

const EXPECT: Record<string, Expectation> = {
  'cdecl-vs-sysv/0': { insn: /^mov eax, 1$/, fn: 'trampoline', mentions: '%al' },
  'cdecl-vs-sysv/1': { entry: true, mentions: 'first instruction of snprintf' },
  'cdecl-vs-sysv/2': { entry: true, mentions: "snprintf's entry" },
  'cdecl-vs-sysv/3': { returned: true, mentions: 'comes back in eax' },
  'varargs-al/0': { insn: /^mov eax, 1$/, fn: 'trampoline', mentions: '%al = 1' },
  'varargs-al/1': { insn: /^test al, al$/, fn: 'snprintf', mentions: '`test al, al`' },
  'varargs-al/2': { insn: /^xor eax, eax$/, fn: 'shim_snprintf_al0', mentions: '`xor eax, eax`' },
  'varargs-al/3': { insn: /^mov eax, 1$/, fn: 'shim_snprintf_good', mentions: '`mov eax, 1`' },
  'struct-eightbytes/0': { returned: true, mentions: 'at the return' },
  'struct-eightbytes/1': { planOnly: true },
  'struct-eightbytes/2': { entry: true, mentions: "make_pair's entry" },
  'returns/0': { returned: true, mentions: 'at the return st0' },
  'returns/1': { returned: true, mentions: 'xmm0' },
  'returns/2': { returned: true, mentions: 'edx:eax' },
  'returns/3': { planOnly: true },
  'returns/4': { returned: true, mentions: 'return the same address in rax' },
  'tls-stack-protector/0': { insn: /^mov \w+, qword ptr fs:\[0x28\]$/, fn: 'snprintf', mentions: 'fs:0x28' },
  'tls-stack-protector/1': { insn: /^mov \w+, dword ptr gs:\[0x14\]$/, fn: '__vsnprintf_internal', mentions: 'gs:0x14' },
  'tls-stack-protector/2': { insn: /^mov rax, qword ptr fs:\[0x10\]$/, fn: 'pthread_self', mentions: '`mov rax, fs:[0x10]`' },
  'errno-tls/0': { insn: /^syscall$/, fn: 'open', mentions: '`openat` system call' },
  'errno-tls/1': { errnoStore: true, mentions: 'fs:-0x80' },
  'errno-tls/2': { insn: /^call dword ptr gs:\[0x10\]$/, fn: 'open', mentions: '`call gs:[0x10]`' },
  'errno-tls/3': { insn: /^add rax, qword ptr fs:\[0\]$/, fn: '__errno_location', mentions: 'it reads fs:0' },
  'threads-fakecgo/0': { insn: /^mov rax, qword ptr fs:\[0x10\]$/, fn: 'pthread_self', mentions: '`pthread_self()` on the main thread' },
  'threads-fakecgo/1': { insn: /^mov rax, qword ptr fs:\[0x10\]$/, fn: 'pthread_self', mentions: 'returns a different value' },
  'threads-fakecgo/2': { errnoStore: true, mentions: 'fs:-0x80' },
  // The conventions lessons compare plans (no recording): each step shows a plan, not an instruction.
  'i386-conventions/0': { planOnly: true },
  'i386-conventions/1': { planOnly: true },
  'i386-conventions/2': { planOnly: true },
  'i386-conventions/3': { planOnly: true },
  'i386-conventions/4': { planOnly: true },
  'win64-vs-sysv/0': { planOnly: true },
  'win64-vs-sysv/1': { planOnly: true },
  'win64-vs-sysv/2': { planOnly: true },
};

describe('lesson steps point at the instruction they discuss', () => {
  it('every step of every lesson has an expectation here (a new step needs one)', () => {
    const keys = LESSONS.flatMap((l) => l.steps.map((_, i) => `${l.id}/${i}`));
    expect(keys.sort()).toEqual(Object.keys(EXPECT).sort());
  });

  for (const definition of LESSONS) {
    it(`${definition.id}: each step opens at its instruction`, async () => {
      const built = await lesson(definition.id);
      for (const [i, step] of built.steps.entries()) {
        const key = `${definition.id}/${i}`;
        const want = EXPECT[key]!;
        if ('planOnly' in want) {
          expect(step.recording, key).toBeUndefined();
          continue;
        }
        expect(step.text, key).toContain(want.mentions);
        const at = step.focus?.step;
        expect(at, `${key}: the step points at an instruction`).toBeTypeOf('number');
        const recording = step.recording as Recording;
        const open = await openRecording(recording);
        const p = open.player;
        const pc = p.trace.pc[at!]!;
        const text = p.instruction(at!)?.text ?? '';
        const where = `${key} → step ${at}: ${open.functionAt(pc)} | ${text}`;
        const callee = Number(Object.entries(recording.symbols ?? {}).find(([, name]) => name === recording.spec.function)?.[0]);
        if ('insn' in want) {
          expect(text, where).toMatch(want.insn);
          if (want.fn) expect(open.functionAt(pc), where).toBe(want.fn);
        } else if ('entry' in want) {
          expect(pc, where).toBe(callee);
          expect(p.instruction(at! - 1)?.text, where).toMatch(/^call /);
        } else if ('returned' in want) {
          expect(p.instruction(at! - 1)?.text, where).toMatch(/^ret\b/);
          // The ret is the callee's own or that of a function it tail-called (strtod jumps to ____strtod_l_internal).
          expect(p.depth(at! - 1), where).toBeGreaterThan(p.depth(at!));
          expect(open.functionAt(pc), where).not.toBe(recording.spec.function);
        } else {
          // The store to errno: fs:-0x80 of the thread the call ran on (the fs base at that step).
          p.seek(at!);
          const errno = Number(BigInt(p.registers().fs_base!)) - 0x80;
          const writes = p.writesAt(at!);
          expect(writes.some((w) => w.address === errno && w.new.length === 4), where).toBe(true);
          expect(text, where).toMatch(/^mov dword ptr fs:\[\w+\], \w+$/);
        }
      }
    }, 180_000);
  }
});
