/**
 * The registers a trace records per architecture (the trace's `registers`, format.ts), and reading the ones that
 * changed since the last read: the general-purpose registers every time, the segment, vector and x87 groups only
 * when asked (the recorder asks when the previous instruction may have changed them, x86-classes.ts).
 */
import type { Arch } from '../emu/arch.ts';
import type { Engine, RegName } from '../emu/engine.ts';
import { toHex, type TraceRegister } from './format.ts';
import { MAY_CHANGE_SEGMENT, MAY_CHANGE_VECTOR, MAY_CHANGE_X87 } from './x86-classes.ts';

export interface RegisterSpec extends TraceRegister {
  /** How to read it: an engine register, or a derived value. */
  read: RegName | 'pc' | 'i386-fs-base' | 'i386-gs-base';
}

function intReg(name: string, group: TraceRegister['group'], size: number, read: RegisterSpec['read'] = name as RegName): RegisterSpec {
  return { name, kind: 'int', size, group, read };
}

function registerTable(arch: Arch): RegisterSpec[] {
  const regs: RegisterSpec[] = [];
  if (arch === 'amd64') {
    for (const r of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15']) {
      regs.push(intReg(r, 'gpr', 8));
    }
    regs.push(intReg('rip', 'gpr', 8, 'pc'), intReg('rflags', 'gpr', 8));
    regs.push(intReg('fs_base', 'segment', 8), intReg('gs_base', 'segment', 8));
  } else {
    for (const r of ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp']) regs.push(intReg(r, 'gpr', 4));
    regs.push(intReg('eip', 'gpr', 4, 'pc'), intReg('eflags', 'gpr', 4));
    for (const r of ['cs', 'ss', 'ds', 'es', 'fs', 'gs']) regs.push(intReg(r, 'segment', 2));
    regs.push(intReg('fs_base', 'segment', 4, 'i386-fs-base'), intReg('gs_base', 'segment', 4, 'i386-gs-base'));
  }
  const xmms = arch === 'amd64' ? 16 : 8;
  for (let i = 0; i < xmms; i++) regs.push({ name: `xmm${i}`, kind: 'bytes', size: 16, group: 'vector', read: `xmm${i}` as RegName });
  regs.push(intReg('mxcsr', 'vector', 4));
  for (let i = 0; i < 8; i++) regs.push({ name: `st${i}`, kind: 'bytes', size: 10, group: 'x87', read: `st${i}` as RegName });
  regs.push(intReg('fpcw', 'x87', 2), intReg('fpsw', 'x87', 2), intReg('fptag', 'x87', 2));
  return regs;
}

const GROUP_BITS: Record<TraceRegister['group'], number> = {
  gpr: 0, segment: MAY_CHANGE_SEGMENT, vector: MAY_CHANGE_VECTOR, x87: MAY_CHANGE_X87,
};

/** Reads a machine's registers as the trace's register table orders them, reporting changes. */
export class RegisterReader {
  readonly table: RegisterSpec[];
  readonly pcIndex: number;
  /** Register indices per group bit (0 = the general-purpose registers, read at every step). */
  private readonly gprIndices: number[];
  private readonly groupIndices = new Map<number, number[]>();
  /** Last value per register: bigint (int registers) or hex (bytes registers). */
  readonly last: (bigint | string)[];

  constructor(arch: Arch, private readonly engine: Engine, private readonly gdtBase: number | undefined) {
    this.table = registerTable(arch);
    this.pcIndex = this.table.findIndex((r) => r.read === 'pc');
    this.gprIndices = [];
    this.table.forEach((r, i) => {
      if (r.group === 'gpr') {
        if (r.read !== 'pc') this.gprIndices.push(i);
        return;
      }
      const bit = GROUP_BITS[r.group];
      if (!this.groupIndices.has(bit)) this.groupIndices.set(bit, []);
      this.groupIndices.get(bit)!.push(i);
    });
    this.last = this.table.map(() => 0n);
  }

  /** Reads the general-purpose registers and the groups in `groups`; returns the changes as [index, value, …]. */
  readChanges(groups: number): (number | string)[] {
    const changes: (number | string)[] = [];
    this.readInto(this.gprIndices, changes);
    for (const [bit, indices] of this.groupIndices) if (groups & bit) this.readInto(indices, changes);
    return changes;
  }

  private readInto(indices: number[], changes: (number | string)[]): void {
    for (const i of indices) {
      const spec = this.table[i]!;
      const value = this.readRegister(spec);
      if (value !== this.last[i]) {
        this.last[i] = value;
        changes.push(i, typeof value === 'bigint' ? `0x${value.toString(16)}` : value);
      }
    }
  }

  private readRegister(spec: RegisterSpec): bigint | string {
    switch (spec.read) {
      case 'pc':
        return 0n;
      case 'i386-fs-base':
        return this.descriptorBase(this.engine.reg('fs'));
      case 'i386-gs-base':
        return this.descriptorBase(this.engine.reg('gs'));
      default:
        return spec.kind === 'bytes' ? toHex(this.engine.regBytes(spec.read, spec.size)) : this.engine.reg(spec.read);
    }
  }

  /** i386: the base address of the GDT descriptor a selector names (0 for the null selector or an LDT selector). */
  private descriptorBase(selector: bigint): bigint {
    const s = Number(selector);
    if (this.gdtBase === undefined || s >> 3 === 0 || s & 4) return 0n;
    try {
      const d = this.engine.read(this.gdtBase + (s >> 3) * 8, 8);
      return BigInt((d[2]! | (d[3]! << 8) | (d[4]! << 16) | (d[7]! << 24)) >>> 0);
    } catch {
      return 0n;
    }
  }
}
