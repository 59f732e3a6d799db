/**
 * Callbacks (C → host): a guest function pointer whose code traps to the host. Each callback is a stub
 *
 *     int 0x81               ; trap: the host decodes the arguments by the CallSpec, runs the JS function and
 *                            ;       puts the result where the ABI wants it
 *     fld tword [rax/eax]    ; only for x87 returns: push the result the host left at [rax] onto the x87 stack
 *     ret / ret N            ; what the convention pops: i386 cdecl struct returns the hidden pointer (4),
 *                            ; stdcall/fastcall/thiscall their stack arguments
 *
 * so any C code — qsort, bsearch, pcap_dispatch — can call TypeScript. Stubs live in the code arena; there is no
 * fixed limit on how many exist, and freed stubs are reused.
 */
import type { Arch } from '../emu/arch.ts';
import type { Engine, RegName } from '../emu/engine.ts';
import type { CodeArena, GuestArena } from './arena.ts';
import { callSpec } from './classify.ts';
import { encodeFloat80, FLOAT80_BYTES } from './float80.ts';
import { typeName } from './layout.ts';
import type { ArgSpec, CallSpec, CType, Location, Prototype } from './types.ts';
import { ArgumentError, decodeValue, type DecodedValue, encodeValue, GuestPointer, type HostValue } from './values.ts';
import { Assembler, GPR } from './x86-asm.ts';
import { bytesOf, unsignedOf } from '../emu/bytes.ts';

/** The software-interrupt vector callback stubs use to trap to the host. */
export const CALLBACK_TRAP_VECTOR = 0x81;
/** Bytes of `int imm8`: the trap reports the address after it. */
const INT_IMM8_BYTES = 2;
const XMM_BYTES = 16;
const WORD: Record<Arch, 4 | 8> = { amd64: 8, i386: 4 };

export type CallbackFunction = (...args: DecodedValue[]) => HostValue | void;

/**
 * The C types of one call's variadic arguments, from its fixed arguments (decoded): a variadic callback's
 * per-call description, as libffi's `ffi_prep_cif_var` gives a closure's.
 */
export type VariadicTypes = (fixed: DecodedValue[]) => readonly CType[];

/** A live callback: pass it (or its `address`) wherever C expects a function pointer. */
export class Callback extends GuestPointer {
  constructor(
    address: number,
    readonly type: string,
    private readonly release: () => void,
  ) {
    super(address);
  }

  /** Frees the stub; calling the old address afterwards is a bug in the guest (it will trap or run another). */
  free(): void {
    this.release();
  }
}

interface Entry {
  spec: CallSpec;
  fn: CallbackFunction;
  codeLength: number;
  variadic?: { proto: Prototype; types: VariadicTypes; specs: Map<string, CallSpec> };
}

/** Opaque outside this file: what `CallbackRegistry.state` returns. */
export interface CallbackRegistryState {
  readonly entries: readonly [number, Entry][];
  readonly invocations: number;
}

export class CallbackRegistry {
  private readonly entries = new Map<number, Entry>();
  /** How many times callbacks ran (all callbacks), for reports and tests. */
  invocations = 0;

  constructor(
    private readonly arch: Arch,
    private readonly engine: Engine,
    private readonly code: CodeArena,
    private readonly memory: GuestArena,
    /** Scratch memory for x87 return values (10 bytes, written by the host, read by the stub's fld). */
    readonly x87Slot: number,
  ) {}

  /** The live callbacks (snapshots: a restored or forked machine calls the same functions). */
  state(): CallbackRegistryState {
    return { entries: [...this.entries], invocations: this.invocations };
  }

  restoreState(state: CallbackRegistryState): void {
    this.entries.clear();
    for (const [address, entry] of state.entries) this.entries.set(address, entry);
    this.invocations = state.invocations;
  }

  get live(): number {
    return this.entries.size;
  }

  /** Creates a callback for the function type `type` (`int (*)(const void *, const void *)`, or a function type). */
  create(type: CType, text: string, fn: CallbackFunction, variadicTypes?: VariadicTypes): Callback {
    const fnType = type.kind === 'pointer' ? type.to : type;
    if (fnType.kind !== 'function') {
      throw new ArgumentError(`a callback needs a function type like "int (*)(const void *, const void *)", got ${typeName(type)}`);
    }
    if (fnType.variadic && !variadicTypes) {
      throw new ArgumentError(`a variadic callback (${text}) needs its variadic types per call: pass { varargs: (...fixed) => ['int', 'double'] } or { format: <index of its printf-style format argument> }`);
    }
    if (!fnType.variadic && variadicTypes) throw new ArgumentError(`${text} is not variadic: it takes no varargs or format description`);
    const proto: Prototype = { name: 'callback', ret: fnType.ret, params: fnType.params, variadic: fnType.variadic, text };
    if (fnType.convention) proto.convention = fnType.convention;
    const spec = callSpec(proto, this.arch);
    const stub = this.stub(spec);
    const address = this.code.place(stub);
    const entry: Entry = { spec, fn, codeLength: stub.length };
    if (variadicTypes) entry.variadic = { proto, types: variadicTypes, specs: new Map() };
    this.entries.set(address, entry);
    return new Callback(address, text, () => {
      if (this.entries.delete(address)) this.code.release(address, stub.length);
    });
  }

  /** Whether `pc` (the address after an `int 0x81`) is in a live callback's stub. */
  isStub(pc: number): boolean {
    return this.entries.has(pc - INT_IMM8_BYTES);
  }

  /** Handles the trap at `pc` (the address after `int 0x81`); false when it is not a live callback's stub. */
  dispatch(pc: number): boolean {
    const entry = this.entries.get(pc - INT_IMM8_BYTES);
    if (!entry) return false;
    this.invocations++;
    const args = entry.spec.args.map((arg) => decodeValue(arg.type, this.argumentImage(arg), this.arch));
    if (entry.variadic) args.push(...this.variadicArguments(entry.variadic, args));
    const result = entry.fn(...args);
    this.setReturn(entry.spec, result === undefined ? null : result);
    return true;
  }

  /**
   * A variadic call's extra arguments: classified like the caller's (psABI amd64 §3.5.7: variadic arguments take the
   * same registers and stack slots as named ones — doubles in xmm0–7, %al only bounds how many; i386: the stack).
   */
  private variadicArguments(variadic: NonNullable<Entry['variadic']>, fixed: DecodedValue[]): DecodedValue[] {
    const types = variadic.types(fixed);
    const key = types.map(typeName).join(',');
    let spec = variadic.specs.get(key);
    if (!spec) variadic.specs.set(key, (spec = callSpec(variadic.proto, this.arch, [...types])));
    return spec.args.slice(fixed.length).map((arg) => decodeValue(arg.type, this.argumentImage(arg), this.arch));
  }

  private stub(spec: CallSpec): Uint8Array {
    const asm = new Assembler(this.arch).interrupt(CALLBACK_TRAP_VECTOR);
    if (spec.ret.kind === 'x87') asm.fldExtended(GPR.ax, 0);
    return asm.ret(spec.calleePops).code();
  }

  private get sp(): number {
    return Number(this.engine.reg(this.arch === 'amd64' ? 'rsp' : 'esp'));
  }

  /**
   * Reassembles an argument's memory image from its registers and stack slots (at entry: sp → return address);
   * a by-reference argument (Win64) is read where they point.
   */
  private argumentImage(arg: ArgSpec): Uint8Array {
    if (arg.indirect) {
      const pointer = this.locationsImage(arg.locations, WORD[this.arch]);
      return this.engine.read(Number(unsignedOf(pointer)), arg.size);
    }
    return this.locationsImage(arg.locations, arg.size);
  }

  private locationsImage(locations: Location[], size: number): Uint8Array {
    const image = new Uint8Array(size);
    const word = WORD[this.arch];
    for (const location of locations) {
      let bytes: Uint8Array;
      if (location.kind === 'stack') {
        bytes = this.engine.read(this.sp + word + location.stackOffset, location.size);
      } else if (location.reg.startsWith('xmm')) {
        bytes = this.engine.regBytes(location.reg as RegName, XMM_BYTES);
      } else {
        bytes = bytesOf(this.engine.reg(location.reg as RegName), word);
      }
      image.set(bytes.subarray(0, location.size), location.offset);
    }
    return image;
  }

  private setReturn(spec: CallSpec, value: HostValue): void {
    const ret = spec.ret;
    if (ret.kind === 'void') return;
    const what = `the return value of a callback (${typeName(ret.type)})`;
    const image = encodeValue(ret.type, value, this.arch, this.memory, what).bytes;
    const resultRegister: RegName = this.arch === 'amd64' ? 'rax' : 'eax';
    switch (ret.kind) {
      case 'x87':
        // float/double results are widened to 80 bits; a long double (or amd64 struct { long double }) is its image.
        this.engine.write(this.x87Slot, ret.type.kind === 'float' && ret.type.name !== 'long double'
          ? encodeFloat80(decodeValue(ret.type, image, this.arch) as number)
          : image.subarray(0, FLOAT80_BYTES));
        this.engine.setReg(resultRegister, this.x87Slot);
        return;
      case 'memory': {
        // The hidden pointer: rdi on amd64, the first stack slot on i386; it is also returned in rax/eax.
        const word = WORD[this.arch];
        const hidden = spec.hiddenPointer!;
        const pointer = hidden.kind === 'reg'
          ? Number(this.engine.reg(hidden.reg as RegName))
          : Number(unsignedOf(this.engine.read(this.sp + word + hidden.stackOffset, word)));
        this.engine.write(pointer, image);
        this.engine.setReg(resultRegister, pointer);
        return;
      }
      case 'reg':
        for (const location of ret.locations) {
          if (location.kind !== 'reg') continue;
          const piece = widen(image.subarray(location.offset, location.offset + location.size), location.reg.startsWith('xmm') ? XMM_BYTES : 8, signedInt(ret.type));
          if (location.reg.startsWith('xmm')) this.engine.setRegBytes(location.reg as RegName, piece);
          else this.engine.setReg(location.reg as RegName, unsignedOf(piece));
        }
    }
  }
}

function signedInt(type: CType): boolean {
  return type.kind === 'int' && !type.name.startsWith('unsigned') && type.name !== '_Bool';
}

/** Widens a return piece to a full register, sign-extending signed integers (what a C callee's movsx leaves). */
function widen(piece: Uint8Array, width: number, signed: boolean): Uint8Array {
  const out = new Uint8Array(width);
  out.set(piece);
  if (signed && piece.length > 0 && (piece[piece.length - 1]! & 0x80) !== 0) out.fill(0xff, piece.length, 8);
  return out;
}


