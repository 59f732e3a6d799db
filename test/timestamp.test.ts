/**
 * Deterministic rdtsc / rdtscp (src/emu/timestamp.ts, src/emu/x86-length.ts, UnicornEngine): the length decoder
 * against Capstone on the bundled libraries, finding the instructions in a block, the engine patching them into
 * traps transparently (counts, no double execution, rewrites), and guest programs reading the virtual clock.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import { type Hooks, PROT_EXEC, PROT_READ, PROT_WRITE, type RegName } from '../src/emu/engine.ts';
import { GuestFault } from '../src/emu/errors.ts';
import { findTimestampReads } from '../src/emu/timestamp.ts';
import { UnicornEngine } from '../src/emu/unicorn.ts';
import { instructionLength } from '../src/emu/x86-length.ts';
import { parseElf } from '../src/loader/elf.ts';
import { fixtureEntries, loadFixture } from '../src/loader/fixtures.ts';
import { Machine } from '../src/machine.ts';
import { disassemble, loadDisassembler } from '../src/trace/disassemble.ts';
import { recordTrace } from '../src/trace/recorder.ts';

const CODE = 0x10000;
const STACK = 0x30000;
const PAGE = 0x1000;

const RDTSC = [0x0f, 0x31];
const RDTSCP = [0x0f, 0x01, 0xf9];
const LFENCE = [0x0f, 0xae, 0xe8];
const MFENCE = [0x0f, 0xae, 0xf0];
const MOV_ESI_EAX = [0x89, 0xc6];
const MOV_EDI_EDX = [0x89, 0xd7];
const MOV_EBX_EAX = [0x89, 0xc3];
const MOV_EBP_EDX = [0x89, 0xd5];
const INC_EBX = [0xff, 0xc3];
const JMP_NEXT = [0xeb, 0x00];
const RET = [0xc3];

/**
 * rdtsc, then mfence; lfence; rdtsc (Go's runtime.cputicks without RDTSCP), then rdtscp, with the readings moved
 * out of the way. The trap that replaces each one ends its block, so the counter it reads includes it:
 *
 *   #1 rdtsc → esi:edi  #2–3 movs  #4 mfence  #5 lfence  #6 rdtsc → ebx:ebp  #7–8 movs  #9 rdtscp → eax:edx, ecx
 */
const READ_THREE_TIMES = [
  ...RDTSC, ...MOV_ESI_EAX, ...MOV_EDI_EDX, ...MFENCE, ...LFENCE, ...RDTSC, ...MOV_EBX_EAX, ...MOV_EBP_EDX, ...RDTSCP,
];
/** Instructions executed up to and including each reading. */
const READ_AT = [1, 6, 9];

const reg = (arch: Arch, name: string): RegName => `${arch === 'amd64' ? 'r' : 'e'}${name}` as RegName;
const word = (e: UnicornEngine, arch: Arch, name: string) => e.reg(reg(arch, name)) & 0xffffffffn;
const tsc = (high: bigint, low: bigint) => (high << 32n) | low;

/** The three readings of READ_THREE_TIMES, from the registers it leaves them in. */
function readings(e: UnicornEngine, arch: Arch): bigint[] {
  return [
    tsc(word(e, arch, 'di'), word(e, arch, 'si')),
    tsc(word(e, arch, 'bp'), word(e, arch, 'bx')),
    tsc(word(e, arch, 'dx'), word(e, arch, 'ax')),
  ];
}

beforeAll(async () => {
  await loadDisassembler();
});

describe('instructionLength', () => {
  for (const arch of ARCHES) {
    it(`${arch}: agrees with Capstone on every instruction it decodes in ld.so, libpcap and the stub`, () => {
      let known = 0;
      let total = 0;
      for (const entry of fixtureEntries(arch).filter((f) => /^(ld-linux|libpcap|shimulator-stub)/.test(f.name))) {
        const elf = parseElf(loadFixture(entry), entry.name);
        const text = elf.sections.find((s) => s.name === '.text')!;
        const bytes = elf.bytes.subarray(text.offset, text.offset + text.size);
        for (let at = 0; at < bytes.length;) {
          const reference = disassemble(bytes.subarray(at, at + 15), text.addr + at, arch);
          const length = instructionLength(bytes, at, arch);
          total++;
          if (length !== undefined) {
            known++;
            if (length !== reference.size) {
              expect.fail(`${entry.name}+0x${(text.addr + at).toString(16)} ${reference.text}: ${length} bytes, Capstone says ${reference.size}`);
            }
          }
          at += reference.size;
        }
      }
      // Only AVX (VEX/EVEX) code is unknown: glibc has it, for CPUs the virtual one is not.
      expect(known / total).toBeGreaterThan(0.99);
    });
  }

  it('says unknown rather than guess', () => {
    const unknown = (bytes: number[], arch: Arch = 'amd64') => instructionLength(Uint8Array.from(bytes), 0, arch);
    expect(unknown([0xc5, 0xfd, 0x6f, 0x06])).toBeUndefined(); // vmovdqa ymm0, [rsi]: VEX
    expect(unknown([0x48, 0x66, 0x90])).toBeUndefined(); // a REX before another prefix
    expect(unknown([0x66, 0xe8, 0, 0])).toBeUndefined(); // call rel16
    expect(unknown([0x67, 0x8b, 0x00], 'i386')).toBeUndefined(); // 16-bit addressing
    expect(unknown([0x0f, 0x20, 0xc0])).toBeUndefined(); // mov rax, cr0
    expect(unknown([0x0f, 0x31])).toBe(2);
    expect(unknown([0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7])).toBeUndefined(); // movabs cut short
    expect(unknown([0x48, 0xb8, 1, 2, 3, 4, 5, 6, 7, 8])).toBe(10);
  });
});

describe('findTimestampReads', () => {
  it('finds rdtsc and rdtscp at instruction boundaries only', () => {
    // b8 0f 31 00 00  mov eax, 0x310f (the bytes of rdtsc in an immediate); 0f 31 rdtsc; 0f 01 f9 rdtscp
    const code = Uint8Array.from([0xb8, 0x0f, 0x31, 0x00, 0x00, ...RDTSC, ...LFENCE, ...RDTSCP, ...RET]);
    for (const arch of ARCHES) {
      expect(findTimestampReads(code, arch)).toEqual({
        sites: [{ offset: 5, instruction: 'rdtsc' }, { offset: 10, instruction: 'rdtscp' }],
        complete: true,
      });
    }
  });

  it('stops at an instruction it cannot decode: later candidates are left alone', () => {
    const code = Uint8Array.from([...RDTSC, 0xc5, 0xfd, 0x6f, 0x06, ...RDTSC]);
    expect(findTimestampReads(code, 'amd64')).toEqual({ sites: [{ offset: 0, instruction: 'rdtsc' }], complete: false });
  });
});

describe.each(ARCHES)('UnicornEngine with an rdtsc hook (%s)', (arch) => {
  const engines: UnicornEngine[] = [];
  afterEach(() => {
    for (const e of engines.splice(0)) e.close();
  });

  /** An engine whose TSC is 5·2^32 + 1000 × the instructions of the run: both halves matter. */
  function engine(hooks: Hooks = {}): UnicornEngine {
    const e: UnicornEngine = new UnicornEngine(arch, { rdtsc: () => TSC_BASE + 1000n * BigInt(e.instructionsInRun), ...hooks });
    engines.push(e);
    e.map(CODE, PAGE, PROT_READ | PROT_EXEC);
    e.map(STACK, PAGE, PROT_READ | PROT_WRITE);
    e.setReg(reg(arch, 'sp'), STACK + PAGE - 0x10);
    return e;
  }
  const TSC_BASE = 5n << 32n;

  function runCode(e: UnicornEngine, code: number[], at = CODE) {
    const bytes = [...code, ...JMP_NEXT];
    e.write(at, Uint8Array.from(bytes));
    return e.run(at, { until: at + bytes.length, budget: 1000 });
  }

  it('rdtsc, lfence; rdtsc and rdtscp read the hook, with the instructions up to and including them counted', () => {
    const e = engine();
    if (arch === 'amd64') for (const name of ['rax', 'rdx', 'rcx'] as RegName[]) e.setReg(name, 0xdeadbeef_00000000n);
    expect(runCode(e, READ_THREE_TIMES)).toEqual({ reason: 'until', instructions: READ_AT.at(-1)! + 1 });
    expect(readings(e, arch)).toEqual(READ_AT.map((n) => TSC_BASE + 1000n * BigInt(n)));
    // rdtscp: ECX = TSC_AUX = 0; on amd64 the upper halves of rax, rdx and rcx are cleared, as by the CPU.
    expect(e.reg(reg(arch, 'cx'))).toBe(0n);
    if (arch === 'amd64') expect([e.reg('rax') >> 32n, e.reg('rdx') >> 32n]).toEqual([0n, 0n]);
  });

  it('gives the same readings in a second engine, and again on a second run of the patched code', () => {
    const [a, b] = [engine(), engine()];
    runCode(a, READ_THREE_TIMES);
    runCode(b, READ_THREE_TIMES);
    expect(readings(a, arch)).toEqual(readings(b, arch));
    const first = readings(a, arch);
    expect(a.run(CODE, { until: CODE + READ_THREE_TIMES.length + JMP_NEXT.length, budget: 1000 }).instructions).toBe(10);
    expect(readings(a, arch)).toEqual(first);
    expect(first[0]! < first[1]! && first[1]! < first[2]!).toBe(true);
  });

  it('counts exactly as without the patch, runs the block once, and notifies block observers once per block run', () => {
    const e = engine();
    const plain = engine();
    // The same program with each reading replaced by an instruction of the same length that is not one.
    const program = [...INC_EBX, ...INC_EBX, ...RDTSC, ...INC_EBX, ...RDTSCP, ...INC_EBX];
    const XOR_EAX_EAX = [0x31, 0xc0];
    const LEA_EAX_EAX = [0x8d, 0x40, 0x00];
    const without = [...INC_EBX, ...INC_EBX, ...XOR_EAX_EAX, ...INC_EBX, ...LEA_EAX_EAX, ...INC_EBX];
    const starts: number[] = [];
    e.addBlockObserver((address) => starts.push(address));
    e.setReg('ebx', 0);
    const result = runCode(e, program);
    expect(e.reg('ebx')).toBe(4n); // no instruction before a reading ran twice
    expect(result.instructions).toBe(7);
    expect(runCode(plain, without).instructions).toBe(result.instructions);
    // Each block that was stopped to be patched is observed once, when it really runs (traps end blocks).
    expect(starts).toEqual([CODE, CODE + 6, CODE + 11]);
  });

  it('keeps budgets and quanta exact across the patch', () => {
    const e = engine();
    const program = [...INC_EBX, ...RDTSC, ...INC_EBX, ...INC_EBX];
    e.write(CODE, Uint8Array.from([...program, ...JMP_NEXT]));
    const until = CODE + program.length + JMP_NEXT.length;
    expect(() => e.run(CODE, { until, budget: 4 })).toThrow(/budget of 4/);
    const sliced = e.run(CODE, { until, budget: 100, quantum: 2 });
    expect(sliced).toEqual({ reason: 'quantum', instructions: 2 });
  });

  it('shows the original bytes through readOriginal; a host write over a patch is scanned again', () => {
    const e = engine();
    runCode(e, [...INC_EBX, ...RDTSC]);
    expect([...e.read(CODE + 2, 2)]).toEqual([0xcd, 0x82]);
    expect([...e.readOriginal(CODE, 6)]).toEqual([...INC_EBX, ...RDTSC, ...JMP_NEXT]);
    // Rewritten in place: rdtsc one instruction later, after two increments.
    e.setReg('ebx', 0);
    expect(runCode(e, [...INC_EBX, ...INC_EBX, ...RDTSC])).toEqual({ reason: 'until', instructions: 4 });
    expect(e.reg('ebx')).toBe(2n);
    expect(tsc(word(e, arch, 'dx'), word(e, arch, 'ax'))).toBe(TSC_BASE + 3000n);
    expect([...e.readOriginal(CODE, 8)]).toEqual([...INC_EBX, ...INC_EBX, ...RDTSC, ...JMP_NEXT]);
    // Half of a patch overwritten: the other half is the program's byte again, not the trap's.
    e.write(CODE + 4, Uint8Array.of(0x0f));
    expect([...e.read(CODE + 4, 2)]).toEqual(RDTSC);
  });

  it("leaves the guest's own int 0x82 to the interrupt hook", () => {
    const interrupts: number[] = [];
    const e = engine({ interrupt: (n) => interrupts.push(n) });
    runCode(e, [0xcd, 0x82]);
    expect(interrupts).toEqual([0x82]);
    const bare = engine();
    expect(() => runCode(bare, [0xcd, 0x82])).toThrow(GuestFault);
  });
});

describe('guest programs read the virtual clock', () => {
  /** Runs READ_THREE_TIMES (then `ret`) on the machine's main thread; returns the readings and the clock before. */
  function readOnMachine(m: Machine): { before: bigint; values: bigint[]; instructions: number } {
    const p = m.process;
    const e = p.engine as UnicornEngine;
    const arch = m.arch;
    const code = p.space.mapAnywhere(PAGE, PROT_READ | PROT_WRITE | PROT_EXEC, '[test code]');
    e.write(code, Uint8Array.from([...READ_THREE_TIMES, ...RET]));
    const saved = e.saveContext();
    // `ret` returns into the trap page, where the run ends.
    const sp = Number(e.reg(reg(arch, 'sp'))) - 64;
    const returnAddress = new Uint8Array(arch === 'amd64' ? 8 : 4);
    const view = new DataView(returnAddress.buffer);
    if (arch === 'amd64') view.setBigUint64(0, BigInt(p.layout.trapPage), true);
    else view.setUint32(0, p.layout.trapPage, true);
    e.write(sp, returnAddress);
    e.setReg(reg(arch, 'sp'), sp);
    const before = BigInt(p.instructions); // nothing has waited: no idle time in the clock
    const { instructions } = p.run(code, p.layout.trapPage, 1000);
    const values = readings(e, arch);
    e.restoreContext(saved);
    saved.free();
    return { before, values, instructions };
  }

  for (const arch of ARCHES) {
    it(`${arch}: rdtsc = virtual nanoseconds since boot, the same on every machine`, async () => {
      const [a, b] = [await Machine.boot({ arch }), await Machine.boot({ arch })];
      try {
        const first = readOnMachine(a);
        expect(first.instructions).toBe(READ_AT.at(-1)! + 1);
        expect(first.values).toEqual(READ_AT.map((n) => first.before + BigInt(n)));
        expect(readOnMachine(b)).toEqual(first);
      } finally {
        a.close();
        b.close();
      }
    });
  }

  it('a trace shows rdtsc, not the trap it runs as', async () => {
    const m = await Machine.boot({ arch: 'amd64' });
    try {
      // rdtsc; shl rdx, 32; or rax, rdx; ret
      const snippet = [...RDTSC, 0x48, 0xc1, 0xe2, 0x20, 0x48, 0x09, 0xd0, ...RET];
      const code = m.process.space.mapAnywhere(PAGE, PROT_READ | PROT_EXEC, '[test code]');
      m.process.engine.write(code, Uint8Array.from(snippet));
      const cputicks = m.fnAt(code, 'unsigned long cputicks(void)');
      cputicks(); // the first call prepares the machine's call path: not part of the trace
      const { result, trace } = recordTrace(m, 'cputicks', () => cputicks());
      expect(trace.code.find((c) => c.address === code)?.bytes).toBe('0f31');
      expect(typeof result.value === 'number' && result.value > 0).toBe(true);
    } finally {
      m.close();
    }
  });
});
