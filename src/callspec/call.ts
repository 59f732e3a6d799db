/**
 * Executes one C call from a CallSpec through the guest-code reference trampoline (see trampoline.ts): the host
 * only writes the argument block and a return address into its trap page; the trampoline places the arguments.
 */
import type { Arch } from '../emu/arch.ts';
import type { Engine, RegName, RunResult, SavedContext } from '../emu/engine.ts';
import { decodeFloat80, FLOAT80_BYTES } from './float80.ts';
import type { BlockLayout } from './trampoline.ts';
import type { GuestArena } from './arena.ts';
import type { GuestWindow } from './guest-window.ts';
import type { CallPlan, OutSlot } from './plan.ts';
import type { CallSpec } from './types.ts';
import type { HostValue } from './values.ts';

/** What the executor needs from the machine. */
export interface CallEnvironment {
  readonly engine: Engine;
  readonly arch: Arch;
  /** Puts the CPU in the state a host call starts from, with `block` passed (see `callCpuStarter`). */
  startCpu(block: number): void;
  /** The stack pointer to build the call frame below (16-byte aligned). */
  readonly stackTop: number;
  /** The call frame's bytes just below `stackTop` (return address; i386: the block pointer too). */
  readonly frame: GuestWindow;
  /** Where the trampoline returns to: the host's trap page. */
  readonly returnAddress: number;
  readonly memory: GuestArena;
  /** The guest address of the reference trampoline for `plan` (generated once, then cached). */
  trampoline(plan: CallPlan): number;
  /** `lastBlock`: the trampoline's epilogue, the block that returns to `until` (RunOptions.lastBlock). */
  run(begin: number, until: number, budget: number, lastBlock?: number): RunResult;
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
  /** The out-buffer arguments, to read back. */
  outs: OutSlot[];
}

const WORD: Record<Arch, 4 | 8> = { amd64: 8, i386: 4 };
const STACK_ALIGN = 16;
/** The trampoline pushes the frame pointer and rbx/ebx before aligning the stack. */
const TRAMPOLINE_SAVED_REGISTERS = 2;
/** Bytes of the call frame below the stack top, rounded up (i386: an aligned argument slot and the return address). */
export const CALL_FRAME_BYTES = 32;

/**
 * The host's own "call trampoline(block)" frame below `stackTop`: amd64 passes the block in rdi, i386 in the first
 * stack slot (`callSp`); the return address sits at `entrySp`, the stack pointer the trampoline starts with.
 */
export function callFrame(arch: Arch, stackTop: number): { callSp: number; entrySp: number } {
  const callSp = arch === 'amd64' ? stackTop : stackTop - STACK_ALIGN;
  return { callSp, entrySp: callSp - WORD[arch] };
}

/** The CPU state host calls start from: `clean` (the CPU now) with the stack pointer at the call frame's entry. */
export function saveCallCpu(engine: Engine, arch: Arch, clean: SavedContext, stackTop: number): SavedContext {
  engine.setReg(arch === 'amd64' ? 'rsp' : 'esp', callFrame(arch, stackTop).entrySp);
  const callCpu = engine.saveContext();
  engine.restoreContext(clean);
  return callCpu;
}

/** Where the host's call passes the block pointer: amd64 in rdi (i386 on the stack, see `callFrame`). */
const BLOCK_REGISTER: Record<Arch, RegName | undefined> = { amd64: 'rdi', i386: undefined };

/**
 * `startCpu` for a CallEnvironment: restores `callCpu` — the clean state captured after boot (flags, FPU, segment
 * bases) with the stack pointer already at the entry stack pointer — with the block pointer written into the saved
 * context beforehand when the engine can do that without a native call: one context restore per call, nothing else.
 */
export function callCpuStarter(engine: Engine, arch: Arch, callCpu: SavedContext): (block: number) => void {
  const register = BLOCK_REGISTER[arch];
  const intoContext = register && engine.contextRegisterWriter(callCpu, register);
  if (intoContext) {
    return (block) => {
      intoContext(block);
      engine.restoreContext(callCpu);
    };
  }
  return (block) => {
    engine.restoreContext(callCpu);
    if (register) engine.setReg(register, block);
  };
}

/** An argument block written into guest memory, ready for a trampoline. */
export interface PreparedBlock {
  address: number;
  layout: BlockLayout;
  outs: OutSlot[];
}

/**
 * Encodes the arguments for calling `target` per `plan` into the plan's block image: strings and buffers are placed
 * in the arena now; the block itself is placed by `placeBlock` (after them, as one write). Returns the out buffers.
 */
export function encodeBlock(env: Pick<CallEnvironment, 'arch' | 'memory'>, plan: CallPlan, target: number, args: readonly HostValue[]): OutSlot[] {
  const { image, imageView, layout, writers } = plan;
  image.fill(0);
  const outs: OutSlot[] = [];
  for (let i = 0; i < writers.length; i++) writers[i]!(args[i]!, image, imageView, layout.argOffsets[i]!, env.memory, outs);
  imageView.setUint32(layout.targetOffset, target >>> 0, true);
  if (env.arch === 'amd64') imageView.setUint32(layout.targetOffset + 4, Math.floor(target / 2 ** 32), true);
  return outs;
}

/** Places the block image `encodeBlock` made in the arena. */
export function placeBlock(env: Pick<CallEnvironment, 'memory'>, plan: CallPlan, outs: OutSlot[]): PreparedBlock {
  const address = env.memory.alloc(plan.layout.size, STACK_ALIGN);
  env.memory.write(address, plan.image);
  return { address, layout: plan.layout, outs };
}

/** Each argument's memory image, as `encodeBlock` left them in the plan's block image (copies). */
export function argumentImages(plan: CallPlan): Uint8Array[] {
  return plan.spec.args.map((arg, i) => plan.image.slice(plan.layout.argOffsets[i]!, plan.layout.argOffsets[i]! + arg.size));
}

/** `encodeBlock` and `placeBlock`: the argument block for calling `target`, written into guest memory. */
export function writeBlock(env: Pick<CallEnvironment, 'arch' | 'memory'>, plan: CallPlan, target: number, args: readonly HostValue[]): PreparedBlock {
  return placeBlock(env, plan, encodeBlock(env, plan, target, args));
}

/** Reads what the trampoline stored back into the block. `spAtCall`: where the stack was at the call, if known. */
export function readBlock(env: Pick<CallEnvironment, 'arch' | 'memory'>, plan: CallPlan, block: PreparedBlock, instructions: number, spAtCall = 0): RawCallResult {
  const word = WORD[env.arch];
  const { layout, address } = block;
  const spec = plan.spec;
  return {
    ret: returnImage(spec, env.memory, address + layout.returnOffset),
    instructions,
    raxAfter: env.memory.readWord(address + layout.raxOffset, word),
    spAfter: env.memory.readWord(address + layout.spAfterOffset, word),
    spAtCall,
    returnBuffer: spec.ret.kind === 'memory' ? address + layout.returnOffset : 0,
    outs: block.outs,
  };
}

/**
 * Calls the target per `plan` through the reference trampoline, with the argument block `writeBlock` placed: the
 * host calls the trampoline like `void trampoline(struct block *)`; everything ABI-specific happens in guest code.
 */
export function executeCall(env: CallEnvironment, plan: CallPlan, block: PreparedBlock, budget: number): RawCallResult {
  const { arch } = env;
  const word = WORD[arch];

  env.startCpu(block.address);
  const { callSp, entrySp } = callFrame(arch, env.stackTop);
  if (BLOCK_REGISTER[arch] === undefined) env.frame.writeWord(callSp, block.address, word);
  env.frame.writeWord(entrySp, env.returnAddress, word);

  const entry = env.trampoline(plan);
  const { instructions } = env.run(entry, env.returnAddress, budget, entry + plan.returnSite);
  const spAtCall = Math.floor((entrySp - TRAMPOLINE_SAVED_REGISTERS * word) / STACK_ALIGN) * STACK_ALIGN - plan.spec.stackSize;
  return readBlock(env, plan, block, instructions, spAtCall);
}

/** The C memory image of the return value, from the trampoline's return area. */
function returnImage(spec: CallSpec, memory: GuestArena, area: number): Uint8Array {
  switch (spec.ret.kind) {
    case 'void':
      return new Uint8Array(0);
    case 'x87':
      // A COMPLEX_X87 result (st0, st1) was stored at its parts' offsets: the area is its memory image.
      if (spec.ret.locations.length > 1) return memory.read(area, spec.ret.size);
      return x87Return(memory.read(area, FLOAT80_BYTES), spec.ret.size);
    default:
      return memory.read(area, spec.ret.size);
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
