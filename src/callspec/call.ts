/**
 * Executes one C call from a CallSpec: puts every argument piece where the spec says (registers, stack slots,
 * hidden return pointer, %al), pushes a return address into the host's trap page, runs the target, and collects
 * the return value from where the spec says it comes back.
 */
import type { Arch } from '../emu/arch.ts';
import type { Engine, RegName, RunResult } from '../emu/engine.ts';
import { decodeFloat80, encodeFloat80, FLOAT80_BYTES } from './float80.ts';
import type { GuestArena } from './arena.ts';
import type { CallSpec, Location } from './types.ts';

/** What the executor needs from the machine. */
export interface CallEnvironment {
  readonly engine: Engine;
  readonly arch: Arch;
  /** Puts the CPU back in the clean state captured after boot (flags, FPU, segment bases). */
  resetCpu(): void;
  /** The stack pointer to build the call frame below (16-byte aligned). */
  readonly stackTop: number;
  /** Where the callee returns to: the host's trap page. */
  readonly returnAddress: number;
  readonly memory: GuestArena;
  run(begin: number, until: number, budget: number): RunResult;
}

export interface RawCallResult {
  /** The return value's memory image (its C size); empty for void. */
  ret: Uint8Array;
  instructions: number;
  /** The stack pointer after return (for checking callee pops). */
  spAfter: number;
}

const GPR_BYTES: Record<Arch, number> = { amd64: 8, i386: 4 };
const XMM_BYTES = 16;
const STACK_ALIGN = 16;

function isVectorRegister(reg: string): boolean {
  return reg.startsWith('xmm');
}

function littleEndian(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** Widens a narrow integer piece to 32 bits the way gcc and clang callers do (psABI: "extended to 32 bits"). */
function extendPiece(piece: Uint8Array, extension: string): Uint8Array {
  if (piece.length >= 4 || extension === 'none') return piece;
  const out = new Uint8Array(4);
  out.set(piece);
  const negative = extension === 'sign' && (piece[piece.length - 1]! & 0x80) !== 0;
  if (negative) out.fill(0xff, piece.length);
  return out;
}

/** Runs `spec` against the function at `target` with the arguments' memory images `args`. */
export function executeCall(env: CallEnvironment, spec: CallSpec, target: number, args: Uint8Array[], budget: number): RawCallResult {
  const { engine, arch } = env;
  const ptr = GPR_BYTES[arch];
  env.resetCpu();

  const callSp = Math.floor((env.stackTop - spec.stackSize) / STACK_ALIGN) * STACK_ALIGN;
  const registers = new Map<string, Uint8Array>();
  const put = (location: Location, bytes: Uint8Array) => {
    if (location.kind === 'stack') {
      engine.write(callSp + location.stackOffset, bytes);
      return;
    }
    const width = isVectorRegister(location.reg) ? XMM_BYTES : ptr;
    const image = registers.get(location.reg) ?? new Uint8Array(width);
    image.set(bytes.subarray(0, width));
    registers.set(location.reg, image);
  };

  spec.args.forEach((arg, i) => {
    const value = args[i]!;
    for (const location of arg.locations) {
      const piece = value.subarray(location.offset, location.offset + location.size);
      put(location, location.kind === 'reg' ? extendPiece(piece, arg.extension) : piece);
    }
  });

  let retBuffer = 0;
  if (spec.ret.kind === 'memory') {
    retBuffer = env.memory.alloc(Math.max(spec.ret.size, 1), STACK_ALIGN);
    if (!spec.hiddenPointer) throw new Error(`call spec for ${spec.function} returns in memory but has no hidden pointer`);
    put(spec.hiddenPointer, bigToBytes(BigInt(retBuffer), ptr));
  }
  if (spec.al !== undefined) registers.set('rax', Uint8Array.of(spec.al, 0, 0, 0, 0, 0, 0, 0));

  for (const [reg, image] of registers) {
    if (isVectorRegister(reg)) engine.setRegBytes(reg as RegName, image);
    else engine.setReg(reg as RegName, littleEndian(image));
  }

  // The call instruction's push: the return address goes just below the argument area.
  const entrySp = callSp - ptr;
  engine.write(entrySp, bigToBytes(BigInt(env.returnAddress), ptr));
  engine.setReg(arch === 'amd64' ? 'rsp' : 'esp', entrySp);

  const { instructions } = env.run(target, env.returnAddress, budget);
  const spAfter = Number(engine.reg(arch === 'amd64' ? 'rsp' : 'esp'));
  return { ret: collectReturn(env, spec, retBuffer), instructions, spAfter };
}

function collectReturn(env: CallEnvironment, spec: CallSpec, retBuffer: number): Uint8Array {
  const { engine } = env;
  const ret = spec.ret;
  const image = new Uint8Array(ret.size);
  switch (ret.kind) {
    case 'void':
      return new Uint8Array(0);
    case 'memory':
      return engine.read(retBuffer, ret.size);
    case 'x87':
      return x87Return(engine.regBytes('st0', FLOAT80_BYTES), ret.size);
    case 'reg':
      for (const location of ret.locations) {
        if (location.kind !== 'reg') continue;
        const source = isVectorRegister(location.reg)
          ? engine.regBytes(location.reg as RegName, XMM_BYTES)
          : bigToBytes(engine.reg(location.reg as RegName), GPR_BYTES[env.arch]);
        image.set(source.subarray(0, location.size), location.offset);
      }
      return image;
  }
}

/** ST0 holds an 80-bit value; the C return type decides its memory image (float: 4, double: 8, long double). */
function x87Return(st0: Uint8Array, size: number): Uint8Array {
  if (size === 4) return new Uint8Array(new Float32Array([decodeFloat80(st0)]).buffer);
  if (size === 8) return new Uint8Array(new Float64Array([decodeFloat80(st0)]).buffer);
  const out = new Uint8Array(size);
  out.set(st0.length === FLOAT80_BYTES ? st0 : encodeFloat80(decodeFloat80(st0)));
  return out;
}

function bigToBytes(value: bigint, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = value;
  for (let i = 0; i < size; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}
