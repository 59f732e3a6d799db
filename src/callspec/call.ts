/**
 * Executes one C call from a CallSpec through the guest-code reference trampoline (see trampoline.ts): the host
 * only writes the argument block and a return address into its trap page; the trampoline places the arguments.
 */
import type { Arch } from '../emu/arch.ts';
import type { Engine, RunResult } from '../emu/engine.ts';
import { decodeFloat80, FLOAT80_BYTES } from './float80.ts';
import { type BlockLayout, blockLayout } from './trampoline.ts';
import type { GuestArena } from './arena.ts';
import type { CallSpec } from './types.ts';
import { bytesOf } from '../emu/bytes.ts';

/** What the executor needs from the machine. */
export interface CallEnvironment {
  readonly engine: Engine;
  readonly arch: Arch;
  /** Puts the CPU back in the clean state captured after boot (flags, FPU, segment bases). */
  resetCpu(): void;
  /** The stack pointer to build the call frame below (16-byte aligned). */
  readonly stackTop: number;
  /** Where the trampoline returns to: the host's trap page. */
  readonly returnAddress: number;
  readonly memory: GuestArena;
  /** The guest address of the reference trampoline for `spec` (generated once, then cached). */
  trampoline(spec: CallSpec): number;
  run(begin: number, until: number, budget: number): RunResult;
}

export interface RawCallResult {
  /** The return value's memory image (its C size; long double: the x87 bytes); empty for void. */
  ret: Uint8Array;
  instructions: number;
  /** rax/eax right after the call (amd64 struct returns: the hidden pointer). */
  raxAfter: number;
  /** The stack pointer right after the call returned, and what it would be if the callee popped nothing. */
  spAfter: number;
  spAtCall: number;
  /** Where the hidden return buffer was (0 when there is none). */
  returnBuffer: number;
}

const WORD: Record<Arch, 4 | 8> = { amd64: 8, i386: 4 };
const STACK_ALIGN = 16;
/** The trampoline pushes the frame pointer and rbx/ebx before aligning the stack. */
const TRAMPOLINE_SAVED_REGISTERS = 2;


function readWord(bytes: Uint8Array, offset: number, word: 4 | 8): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, word);
  return word === 8 ? Number(view.getBigUint64(0, true)) : view.getUint32(0, true);
}

/** An argument block written into guest memory, ready for a trampoline. */
export interface PreparedBlock {
  address: number;
  layout: BlockLayout;
}

/** Writes the argument block for calling `target` per `spec` with the arguments' memory images. */
export function writeBlock(env: Pick<CallEnvironment, 'engine' | 'arch' | 'memory'>, spec: CallSpec, target: number, args: Uint8Array[]): PreparedBlock {
  const word = WORD[env.arch];
  const layout = blockLayout(spec);
  const address = env.memory.alloc(layout.size, STACK_ALIGN);
  const image = new Uint8Array(layout.size);
  image.set(bytesOf(target, word), layout.targetOffset);
  spec.args.forEach((arg, i) => image.set(args[i]!.subarray(0, arg.size), layout.argOffsets[i]!));
  env.engine.write(address, image);
  return { address, layout };
}

/** Reads what the trampoline stored back into the block. `spAtCall`: where the stack was at the call, if known. */
export function readBlock(env: Pick<CallEnvironment, 'engine' | 'arch'>, spec: CallSpec, block: PreparedBlock, instructions: number, spAtCall = 0): RawCallResult {
  const word = WORD[env.arch];
  const { layout } = block;
  const result = env.engine.read(block.address, layout.size);
  return {
    ret: returnImage(spec, result.subarray(layout.returnOffset, layout.returnOffset + layout.returnSize)),
    instructions,
    raxAfter: readWord(result, layout.raxOffset, word),
    spAfter: readWord(result, layout.spAfterOffset, word),
    spAtCall,
    returnBuffer: spec.ret.kind === 'memory' ? block.address + layout.returnOffset : 0,
  };
}

/**
 * Calls `target` per `spec` through the reference trampoline: the host writes the argument block and calls the
 * trampoline like `void trampoline(struct block *)`; everything ABI-specific happens in guest code.
 */
export function executeCall(env: CallEnvironment, spec: CallSpec, target: number, args: Uint8Array[], budget: number): RawCallResult {
  const { engine, arch } = env;
  const word = WORD[arch];
  const block = writeBlock(env, spec, target, args);

  env.resetCpu();
  // The host's own "call trampoline(block)": amd64 passes the block in rdi; i386 in the first stack slot.
  let callSp = env.stackTop;
  if (arch === 'amd64') {
    engine.setReg('rdi', block.address);
  } else {
    callSp -= STACK_ALIGN;
    engine.write(callSp, bytesOf(block.address, word));
  }
  const entrySp = callSp - word;
  engine.write(entrySp, bytesOf(env.returnAddress, word));
  engine.setReg(arch === 'amd64' ? 'rsp' : 'esp', entrySp);

  const { instructions } = env.run(env.trampoline(spec), env.returnAddress, budget);
  const spAtCall = Math.floor((entrySp - TRAMPOLINE_SAVED_REGISTERS * word) / STACK_ALIGN) * STACK_ALIGN - spec.stackSize;
  return readBlock(env, spec, block, instructions, spAtCall);
}

/** The C memory image of the return value, from the trampoline's return area. */
function returnImage(spec: CallSpec, area: Uint8Array): Uint8Array {
  switch (spec.ret.kind) {
    case 'void':
      return new Uint8Array(0);
    case 'x87':
      return x87Return(area.subarray(0, FLOAT80_BYTES), spec.ret.size);
    default:
      return area.slice(0, spec.ret.size);
  }
}

/** ST0 holds an 80-bit value; the C return type decides its memory image (float: 4, double: 8, long double). */
function x87Return(st0: Uint8Array, size: number): Uint8Array {
  if (size === 4) return new Uint8Array(new Float32Array([decodeFloat80(st0)]).buffer);
  if (size === 8) return new Uint8Array(new Float64Array([decodeFloat80(st0)]).buffer);
  const out = new Uint8Array(size);
  out.set(st0);
  return out;
}
