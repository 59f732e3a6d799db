/**
 * Traces (src/trace): recording real glibc calls on both architectures, determinism (byte-identical encodings),
 * the encoding, the player (registers at every step against the engine's full state, memory undo/redo, call
 * depth, syscalls), disassembly, printing, the `shimulator trace` command, errors and limits.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES, type Arch, multiarchTriplet } from '../src/emu/arch.ts';
import type { Engine, HookHandle, RegName } from '../src/emu/engine.ts';
import { GuestFault } from '../src/emu/errors.ts';
import { out, vararg } from '../src/callspec/values.ts';
import { type CFunction, Machine } from '../src/machine.ts';
import { runTraceCommand, writeTraceFile } from '../src/cli/trace.ts';
import { disassemble, loadDisassembler } from '../src/trace/disassemble.ts';
import { decodeTrace, encodeTrace, toHex, type Trace, TraceFormatError, TRACE_MAGIC, TRACE_VERSION } from '../src/trace/format.ts';
import { TracePlayer } from '../src/trace/player.ts';
import { printTrace } from '../src/trace/print.ts';
import { activeRecording, recordTrace, TraceLimitError } from '../src/trace/recorder.ts';
import {
  instructionEffects, IS_CALL, IS_RETURN, MAY_CHANGE_ALL, MAY_CHANGE_SEGMENT, MAY_CHANGE_VECTOR, MAY_CHANGE_X87,
} from '../src/trace/x86-classes.ts';

const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const PAGE = 4096;

/** Every register of the trace's table, read from the engine the slow way (i386 fs/gs bases from the GDT). */
function readAllRegisters(m: Machine, trace: Trace, pc: number): string[] {
  const e = m.process.engine;
  const base = (selector: bigint): string => {
    const s = Number(selector);
    const gdt = m.process.gdt?.base;
    if (gdt === undefined || s >> 3 === 0 || s & 4) return '0x0';
    const d = e.read(gdt + (s >> 3) * 8, 8);
    return `0x${((d[2]! | (d[3]! << 8) | (d[4]! << 16) | (d[7]! << 24)) >>> 0).toString(16)}`;
  };
  return trace.registers.map((r) => {
    if (r.name === 'rip' || r.name === 'eip') return `0x${pc.toString(16)}`;
    if (m.arch === 'i386' && r.name === 'fs_base') return base(e.reg('fs'));
    if (m.arch === 'i386' && r.name === 'gs_base') return base(e.reg('gs'));
    if (r.kind === 'bytes') return toHex(e.regBytes(r.name as RegName, r.size));
    return `0x${e.reg(r.name as RegName).toString(16)}`;
  });
}

function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

beforeAll(async () => {
  await loadDisassembler();
});

for (const arch of ARCHES) {
  describe(`${arch} traces`, () => {
    let m: Machine;
    let snprintf: CFunction;
    const call = () => snprintf(out(64), 64, '%f', vararg.double(1.5));
    /** The recorded trace, the engine's full register state at every position, and memory at the end. */
    let trace: Trace;
    let truth: string[][];
    let instructions: number;
    /** The guest's memory at the end, over the trace's known ranges. */
    let endMemory: Map<number, Uint8Array>;

    beforeAll(async () => {
      m = await Machine.boot({ arch });
      snprintf = m.fn('libc.so.6', SNPRINTF);
      call(); // first call: resolves lazily bound symbols, generates the trampoline
      let t0 = performance.now();
      const warm = recordTrace(m, 'warm-up', call).trace;
      const first = performance.now() - t0;
      // The recording under test, with a second hook that reads every register at every instruction.
      truth = [];
      const engine: Engine = m.process.engine;
      const hook: HookHandle = engine.addCodeHook((pc) => truth.push(readAllRegisters(m, warm, pc)));
      let result;
      try {
        ({ result, trace } = recordTrace(m, 'snprintf("%f", 1.5)', call));
      } finally {
        hook.remove();
      }
      instructions = result.instructions;
      expect(cString(result.out[0]!)).toBe('1.500000');
      truth.push(readAllRegisters(m, warm, Number(engine.reg(arch === 'amd64' ? 'rip' : 'eip'))));
      endMemory = new Map(trace.initial.memory.map((r) => [r.address, engine.read(r.address, r.bytes.length / 2)]));
      t0 = performance.now();
      const again = recordTrace(m, 'snprintf("%f", 1.5)', call).trace;
      const steady = performance.now() - t0;
      const t1 = performance.now();
      const bytes = encodeTrace(again);
      const encoding = performance.now() - t1;
      console.log(
        `[trace] ${arch} snprintf("%f", 1.5): ${again.steps} instructions, recorded in ${steady.toFixed(0)} ms ` +
          `(first recording after boot: ${first.toFixed(0)} ms), encoded in ${encoding.toFixed(0)} ms to ` +
          `${(bytes.length / 1024).toFixed(1)} KiB (${again.writes.length} writes, ${again.initial.memory.length} memory ranges, ${again.code.length} distinct instructions)`,
      );
    });
    afterAll(() => m?.close());

    it('records one step per guest instruction: the engine\'s block-based count', () => {
      expect(trace.steps).toBe(instructions);
      expect(trace.pc).toHaveLength(instructions + 1);
      expect(trace.regs).toHaveLength(instructions + 1);
      expect(trace.arch).toBe(arch);
      expect(trace.runs).toHaveLength(1);
      expect(trace.runs[0]!.step).toBe(0);
      expect(trace.pc[trace.steps]).toBe(trace.runs[0]!.until); // returned to the trap address
      expect(trace.end.error).toBeNull();
      expect(truth).toHaveLength(instructions + 1);
    });

    it('gives byte-identical encodings for two recordings of the same call, and on a second machine', async () => {
      const a = encodeTrace(recordTrace(m, 'snprintf("%f", 1.5)', call).trace);
      const b = encodeTrace(recordTrace(m, 'snprintf("%f", 1.5)', call).trace);
      expect(sameBytes(a, b)).toBe(true);
      expect(sameBytes(a, encodeTrace(trace))).toBe(true);
      const other = await Machine.boot({ arch });
      try {
        const f = other.fn('libc.so.6', SNPRINTF);
        f(out(64), 64, '%f', vararg.double(1.5));
        const c = encodeTrace(recordTrace(other, 'snprintf("%f", 1.5)', () => f(out(64), 64, '%f', vararg.double(1.5))).trace);
        expect(sameBytes(a, c)).toBe(true);
      } finally {
        other.close();
      }
    });

    it('round-trips through encodeTrace/decodeTrace', () => {
      const bytes = encodeTrace(trace);
      expect(new TextDecoder().decode(bytes.subarray(0, TRACE_MAGIC.length))).toBe(TRACE_MAGIC);
      expect(bytes[TRACE_MAGIC.length]).toBe(TRACE_VERSION);
      const decoded = decodeTrace(bytes);
      expect(decoded).toEqual(trace);
      expect(sameBytes(encodeTrace(decoded), bytes)).toBe(true);
    });

    it('reconstructs every register at every position exactly (the lazy xmm/x87/segment rule loses nothing)', () => {
      const player = new TracePlayer(trace);
      const names = trace.registers.map((r) => r.name);
      for (let p = 0; p <= trace.steps; p++) {
        player.seek(p);
        const regs = player.registers();
        const got = names.map((n) => regs[n]);
        if (got.some((v, i) => v !== truth[p]![i])) {
          const diff = names.flatMap((n, i) => (got[i] === truth[p]![i] ? [] : [`${n}: ${got[i]} != ${truth[p]![i]}`]));
          throw new Error(`position ${p} (after ${p > 0 ? player.instruction(p - 1)?.text : 'nothing'}): ${diff.join(', ')}`);
        }
      }
      // the vector registers really are in the trace: snprintf's double argument travels in xmm0 (amd64)
      if (arch === 'amd64') {
        const p = trace.pc.indexOf(snprintf.address);
        player.seek(p);
        expect(player.register('xmm0').slice(0, 16)).toBe('000000000000f83f'); // 1.5
      }
    });

    it('steps forward N then backward N and restores the registers exactly', () => {
      const player = new TracePlayer(trace);
      const names = trace.registers.map((r) => r.name);
      for (const [start, n] of [[0, 700], [123, 400], [trace.steps - 300, 300]] as const) {
        player.seek(start);
        const before = player.registers();
        expect(names.map((x) => before[x])).toEqual(truth[start]);
        for (let i = 0; i < n; i++) expect(player.stepForward()).toBe(true);
        expect(names.map((x) => player.registers()[x])).toEqual(truth[start + n]);
        for (let i = 0; i < n; i++) expect(player.stepBackward()).toBe(true);
        expect(player.step).toBe(start);
        expect(player.registers()).toEqual(before);
      }
      player.seek(0);
      expect(player.stepBackward()).toBe(false);
      player.seek(trace.steps);
      expect(player.stepForward()).toBe(false);
    });

    it('shows memory as of any step: the output buffer is zero at step 0 and "1.500000" at the end', () => {
      const player = new TracePlayer(trace);
      const entry = trace.pc.indexOf(snprintf.address);
      expect(entry).toBeGreaterThan(0);
      player.seek(entry);
      // the first argument: rdi on amd64, the first stack slot above the return address on i386
      const buffer = arch === 'amd64'
        ? Number(player.registerBigInt('rdi'))
        : new DataView(player.memory(Number(player.registerBigInt('esp')) + 4, 4).buffer).getUint32(0, true);
      const returnAddress = arch === 'amd64'
        ? Number(new DataView(player.memory(Number(player.registerBigInt('rsp')), 8).buffer).getBigUint64(0, true))
        : new DataView(player.memory(Number(player.registerBigInt('esp')), 4).buffer).getUint32(0, true);
      player.seek(trace.steps);
      expect(cString(player.memory(buffer, 16))).toBe('1.500000');
      player.seek(0);
      expect(player.memory(buffer, 16).every((b) => b === 0)).toBe(true);
      // the step that stores the first character: before it 0, after it '1'
      const store = trace.writes.find(([, address, , bytes]) => address <= buffer && buffer < address + bytes.length / 2 && bytes !== '00'.repeat(bytes.length / 2))!;
      player.seek(store[0]);
      expect(player.memory(buffer, 1)[0]).toBe(0);
      player.stepForward();
      expect(String.fromCharCode(player.memory(buffer, 1)[0]!)).toBe('1');
      player.stepBackward();
      expect(player.memory(buffer, 1)[0]).toBe(0);
      // at the end every known byte equals the guest's memory; back at 0 and forward again, still
      expect(endMemory.size).toBeGreaterThan(2);
      player.seek(trace.steps);
      for (const [address, bytes] of endMemory) expect(sameBytes(player.memory(address, bytes.length), bytes)).toBe(true);
      player.seek(0);
      player.seek(trace.steps);
      for (const [address, bytes] of endMemory) expect(sameBytes(player.memory(address, bytes.length), bytes)).toBe(true);
      // stack and TLS views: the return address at the initial stack pointer, the stack guard in the TLS header
      player.seek(0);
      const initial = player.registers();
      const word = arch === 'amd64' ? 8 : 4;
      expect(player.hasMemory(Number(initial[arch === 'amd64' ? 'rsp' : 'esp']), word)).toBe(true);
      const tp = Number(initial[arch === 'amd64' ? 'fs_base' : 'gs_base']);
      expect(tp).toBeGreaterThan(0);
      expect(toHex(player.memory(tp + (arch === 'amd64' ? 0x10 : 0x8), word))).toBe(toHex(m.read(tp, word))); // tcb->self
      expect(() => player.memory(0x1000, 4)).toThrow(RangeError);
      expect(player.hasMemory(buffer, 64)).toBe(true); // the out-buffer the host prepared (all of it)
      expect(player.peek(0x1000, 2)).toEqual({ bytes: new Uint8Array(2), known: new Uint8Array(2) });
      // runToReturn from snprintf's entry ends at its return address, one call level up
      player.seek(entry);
      const depth = player.depth();
      player.runToReturn();
      expect(player.pc).toBe(returnAddress);
      expect(player.depth()).toBe(depth - 1);
      expect(player.step).toBeLessThan(trace.steps);
    });

    it('disassembles instructions (Intel syntax) for the player and the listing', async () => {
      const player = await TracePlayer.open(encodeTrace(trace));
      const first = player.instruction()!;
      expect(first.pc).toBe(trace.pc[0]);
      expect(first.text).toBe(arch === 'amd64' ? 'push rbp' : 'push ebp');
      expect([...first.bytes]).toEqual([0x55]);
      player.seek(trace.steps);
      expect(player.instruction()).toBeUndefined();
      const text = printTrace(trace, { limit: 50 });
      const lines = text.split('\n');
      expect(lines[0]).toMatch(new RegExp(`^trace "snprintf\\("%f", 1.5\\)"  ${arch}  ${trace.steps} instructions .* KiB compressed$`));
      expect(text).toMatch(arch === 'amd64' ? /#000001 {2}0x[0-9a-f]+ {2}48 89 e5 +mov rbp, rsp +rbp=0x[0-9a-f]+/ : /#000001 {2}0x[0-9a-f]+ {2}89 e5 +mov ebp, esp +ebp=0x[0-9a-f]+/);
      expect(lines.at(-2)).toBe(`… ${trace.steps - 50} more instructions (--limit)`);
      expect(lines.at(-1)).toBe(`end  pc=0x${trace.pc[trace.steps]!.toString(16)}`);
    });

    it('records system calls (strace-like) and what the kernel wrote to memory', () => {
      const path = `/lib/${multiarchTriplet(arch)}/libc.so.6`;
      const open = m.fn('libc.so.6', 'int open(const char *path, int flags, ...)');
      const read = m.fn('libc.so.6', 'long read(int fd, void *buf, unsigned long n)');
      const close = m.fn('libc.so.6', 'int close(int fd)');
      const printf = m.fn('libc.so.6', 'int printf(const char *fmt, ...)');
      const fflush = m.fn('libc.so.6', 'int fflush(void *stream)');
      const { result, trace: t } = recordTrace(m, 'syscalls', () => {
        expect(open('/nonexistent/file', 0).value).toBe(-1);
        const fd = open(path, 0).value as number;
        const r = read(fd, out(4), 4);
        close(fd);
        printf('hi %d\n', 42);
        fflush(null);
        return r;
      });
      expect(cString(result.out[1]!).slice(1)).toBe('ELF');
      const names = t.syscalls.map((s) => s.name);
      expect(names).toContain('read');
      expect(names).toContain('write');
      const missing = t.syscalls.find((s) => s.result === '-2')!;
      expect(missing.name).toMatch(/^open/);
      const write = t.syscalls.find((s) => s.name === 'write')!;
      expect(write.args[0]).toBe('0x1');
      expect(write.result).toBe('6');
      expect(t.runs.length).toBeGreaterThanOrEqual(6);
      // the kernel's read() stored "\x7fELF" during the syscall step: memory before and after that step
      const readCall = t.syscalls.find((s) => s.name === 'read')!;
      const buffer = Number(BigInt(readCall.args[1]!));
      const player = new TracePlayer(t);
      player.seek(readCall.step);
      expect(toHex(player.memory(buffer, 4))).toBe('00000000');
      player.stepForward();
      expect(toHex(player.memory(buffer, 4))).toBe('7f454c46');
      // navigation by system call
      player.seek(0);
      expect(player.runToNextSyscall()).toBe(t.syscalls[0]!.step);
      expect(player.syscallsAt()[0]!.name).toBe(t.syscalls[0]!.name);
      expect(player.instruction()!.text).toBe(arch === 'amd64' ? 'syscall' : 'int 0x80');
      const text = printTrace(t);
      expect(text).toMatch(/\n {2}syscall write\(1, 0x[0-9a-f]+, 6\) = 6\n/);
      expect(text).toMatch(/\n {2}syscall open(at)?\((-100, )?0x[0-9a-f]+, 0(, 0)?\) = -2 ENOENT\n/);
      expect(m.takeOutput().stdout).toBe('hi 42\n');
    });

    it('attaches events from other tools (ABI checks) to steps', () => {
      const { trace: t } = recordTrace(m, 'events', () => {
        const recording = activeRecording(m)!;
        expect(recording.label).toBe('events');
        call();
        recording.addEvent(recording.step, { kind: 'check', data: { rule: 'stack-alignment', ok: true, sp: 0x7ff0n, bytes: Uint8Array.of(1, 2) } });
        recording.addEvent(3, { kind: 'note', data: 'three' });
      });
      expect(activeRecording(m)).toBeUndefined();
      expect(t.events).toEqual([
        { step: 3, kind: 'note', data: 'three' },
        { step: t.steps - 1, kind: 'check', data: { bytes: '0102', ok: true, rule: 'stack-alignment', sp: '32752' } },
      ]);
      expect(printTrace(t)).toContain('  check: {"bytes":"0102","ok":true,"rule":"stack-alignment","sp":"32752"}');
      expect(new TracePlayer(t).runToNextEvent('check')).toBe(t.steps - 1);
    });

    it('attaches the partial trace to errors, honours maxSteps and leaves the engine as it was', () => {
      const strlen = m.fn('libc.so.6', 'unsigned long strlen(const char *s)');
      let fault: unknown;
      try {
        recordTrace(m, 'fault', () => strlen(0x10));
      } catch (error) {
        fault = error;
      }
      expect(fault).toBeInstanceOf(GuestFault);
      const partial = (fault as { trace: Trace }).trace;
      expect(partial.steps).toBeGreaterThan(0);
      expect(partial.end.error).toMatch(/^GuestFault: /);
      expect(partial.pc[partial.steps]).toBe((fault as GuestFault).pc);

      let limited: unknown;
      try {
        recordTrace(m, 'limit', call, { maxSteps: 100 });
      } catch (error) {
        limited = error;
      }
      expect(limited).toBeInstanceOf(TraceLimitError);
      expect((limited as { trace: Trace }).trace.steps).toBe(100);

      const engine = m.process.engine;
      for (const name of ['write', 'unmap', 'setReg', 'setRegBytes', 'restoreContext', 'setGdtr', 'run']) {
        expect(Object.hasOwn(engine, name)).toBe(false);
      }
      expect(m.process.kernel.observer).toBeUndefined();
      expect(cString(call().out[0]!)).toBe('1.500000');
    });
  });
}

describe('instruction classes (which register groups an instruction may change)', () => {
  const fx = (arch: Arch, ...bytes: number[]) => instructionEffects(Uint8Array.from(bytes), arch);
  it('classifies SSE, MMX, x87, segment, system and flow instructions', () => {
    expect(fx('amd64', 0x48, 0x89, 0xe5)).toBe(0); // mov rbp, rsp
    expect(fx('amd64', 0x0f, 0x29, 0x44, 0x24, 0x50)).toBe(MAY_CHANGE_VECTOR); // movaps [rsp+0x50], xmm0
    expect(fx('amd64', 0x66, 0x0f, 0xef, 0xc0)).toBe(MAY_CHANGE_VECTOR); // pxor xmm0, xmm0
    expect(fx('amd64', 0x0f, 0xef, 0xc0)).toBe(MAY_CHANGE_VECTOR | MAY_CHANGE_X87); // pxor mm0, mm0
    expect(fx('amd64', 0xf2, 0x0f, 0x10, 0x05, 0, 0, 0, 0)).toBe(MAY_CHANGE_VECTOR); // movsd xmm0, [rip]
    expect(fx('i386', 0xdb, 0x2c, 0x24)).toBe(MAY_CHANGE_X87); // fld tword [esp]
    expect(fx('amd64', 0x0f, 0x77)).toBe(MAY_CHANGE_X87); // emms
    expect(fx('amd64', 0x0f, 0xae, 0x14, 0x24)).toBe(MAY_CHANGE_ALL); // ldmxcsr [rsp]
    expect(fx('amd64', 0x0f, 0x05)).toBe(MAY_CHANGE_ALL); // syscall
    expect(fx('i386', 0xcd, 0x80)).toBe(MAY_CHANGE_ALL); // int 0x80
    expect(fx('i386', 0x8e, 0xe8)).toBe(MAY_CHANGE_SEGMENT); // mov gs, eax
    expect(fx('i386', 0xc5, 0x06)).toBe(MAY_CHANGE_SEGMENT); // lds eax, [esi]
    expect(fx('amd64', 0xc5, 0xf8, 0x77)).toBe(MAY_CHANGE_VECTOR); // vzeroupper
    expect(fx('amd64', 0xe8, 0, 0, 0, 0)).toBe(IS_CALL);
    expect(fx('amd64', 0xff, 0x93, 0, 0, 0, 0)).toBe(IS_CALL); // call [rbx]
    expect(fx('amd64', 0xff, 0xe0)).toBe(0); // jmp rax
    expect(fx('i386', 0xc3)).toBe(IS_RETURN);
    expect(fx('i386', 0xc2, 4, 0)).toBe(IS_RETURN);
    expect(fx('amd64', 0xf3, 0xc3)).toBe(IS_RETURN); // rep ret
  });
});

describe('disassembler', () => {
  it('decodes known instructions in 64- and 32-bit mode, and undecodable bytes', () => {
    expect(disassemble(Uint8Array.of(0x48, 0x89, 0xe5), 0x1000, 'amd64')).toEqual({ mnemonic: 'mov', operands: 'rbp, rsp', text: 'mov rbp, rsp', size: 3 });
    expect(disassemble(Uint8Array.of(0x65, 0xa1, 0x14, 0, 0, 0), 0x1000, 'i386').text).toBe('mov eax, dword ptr gs:[0x14]');
    expect(disassemble(Uint8Array.of(0xe8, 0, 0, 0, 0), 0x7ffff7e40c9d, 'amd64').text).toBe('call 0x7ffff7e40ca2');
    expect(disassemble(Uint8Array.of(0xc3), 0, 'i386')).toEqual({ mnemonic: 'ret', operands: '', text: 'ret', size: 1 });
    expect(disassemble(Uint8Array.of(0x0f, 0x0b), 0, 'amd64').text).toBe('ud2');
    expect(disassemble(Uint8Array.of(0x06), 0, 'amd64').mnemonic).toBe('(bad)'); // push es is invalid in 64-bit mode
  });
});

describe('trace files', () => {
  let dir: string;
  let trace: Trace;
  let m: Machine;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shimulator-trace-'));
    m = await Machine.boot({ arch: 'amd64' });
    trace = recordTrace(m, 'abs(-3)', () => m.fn('libc.so.6', 'int abs(int)')(-3)).trace;
  });
  afterAll(() => m?.close());

  it('refuses non-trace, damaged and other-version input with a clear error', () => {
    const good = encodeTrace(trace);
    expect(() => decodeTrace(new TextEncoder().encode('hello world'))).toThrow(/not a shimulator trace/);
    expect(() => decodeTrace(new Uint8Array(0))).toThrow(TraceFormatError);
    expect(() => decodeTrace(good.subarray(0, good.length - 20))).toThrow(/damaged trace: the compressed data is corrupt/);
    const flipped = good.slice();
    flipped[flipped.length - 30]! ^= 0xff;
    expect(() => decodeTrace(flipped)).toThrow(/damaged trace/);
    const future = good.slice();
    future[TRACE_MAGIC.length] = TRACE_VERSION + 1;
    expect(() => decodeTrace(future)).toThrow(/unsupported trace format version 2: this shimulator reads version 1/);
  });

  it('`shimulator trace FILE` prints a trace file; missing and corrupt files fail clearly', async () => {
    const file = join(dir, 'abs.trace');
    const size = writeTraceFile(file, trace);
    const lines: string[] = [];
    const errors: string[] = [];
    expect(await runTraceCommand([file, '--limit', '5'], (l) => lines.push(l), (l) => errors.push(l))).toBe(0);
    expect(errors).toEqual([]);
    expect(lines[0]).toBe(`trace "abs(-3)"  amd64  ${trace.steps} instructions  ${trace.writes.length} memory writes  0 system calls  0 events  ${(size / 1024).toFixed(1)} KiB compressed`);
    expect(lines.filter((l) => l.startsWith('#'))).toHaveLength(5);

    expect(await runTraceCommand([join(dir, 'missing.trace')], (l) => lines.push(l), (l) => errors.push(l))).toBe(1);
    expect(errors.pop()).toBe(`shimulator: cannot read trace file ${join(dir, 'missing.trace')}: no such file`);
    const corrupt = join(dir, 'corrupt.trace');
    writeFileSync(corrupt, 'GIF89a not a trace');
    expect(await runTraceCommand([corrupt], (l) => lines.push(l), (l) => errors.push(l))).toBe(1);
    expect(errors.pop()).toBe(`shimulator: ${corrupt}: not a shimulator trace (it does not start with "SHIMTRACE")`);
    expect(await runTraceCommand([], (l) => lines.push(l), (l) => errors.push(l))).toBe(2);
    expect(await runTraceCommand([file, '--limit'], (l) => lines.push(l), (l) => errors.push(l))).toBe(2);
  });
});
