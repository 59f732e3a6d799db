/**
 * The engine interface: everything shimulator needs from a CPU emulator, and nothing more. The native Unicorn
 * binding (`unicorn.ts`) implements it; a WebAssembly build of Unicorn can implement the same interface later.
 */
import type { Arch } from './arch.ts';
import type { X86_REG } from './unicorn-ids.ts';

export type RegName = keyof typeof X86_REG;

/** Memory permissions, as a bit set of PROT_READ | PROT_WRITE | PROT_EXEC (the same bits as Linux's mmap). */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const PROT_ALL = PROT_READ | PROT_WRITE | PROT_EXEC;

/** x86 segment-descriptor-table register (GDTR): base and limit. */
export interface TableRegister {
  base: number;
  limit: number;
}

/** A CPUID answer for one (leaf, subleaf). */
export interface CpuidResult {
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
}

/** Why `run` returned. */
export type StopReason =
  /** the program counter reached the `until` address */
  | 'until'
  /** a hook called `stop()` (a syscall like exit, or a host request) */
  | 'stopped'
  /** the instruction budget ran out */
  | 'budget'
  /** the time slice (`quantum`) ended: the scheduler may switch threads; the run can be resumed */
  | 'quantum';

export interface RunOptions {
  /** Stop when the program counter reaches this address (it is not executed). */
  until: number;
  /** Maximum guest instructions for this run; exceeding it throws BudgetExceededError. */
  budget: number;
  /** A time slice: after this many instructions the run returns with reason 'quantum' (at a block boundary). */
  quantum?: number;
}

export interface RunResult {
  reason: StopReason;
  /** Guest instructions executed by this run. */
  instructions: number;
}

export interface Hooks {
  /** amd64 `syscall` instruction. */
  syscall?: () => void;
  /** Software interrupt `int N` (i386 Linux system calls use `int $0x80`). */
  interrupt?: (intno: number) => void;
  /** CPUID: return the answer for the leaf in eax and subleaf in ecx. */
  cpuid?: (leaf: number, subleaf: number) => CpuidResult;
}

/** A hook added at run time; `remove()` detaches it. */
export interface HookHandle {
  remove(): void;
}

export type MemoryAccess = 'read' | 'write';

/** Called at the start of every basic block the guest executes (after instruction counting). */
export type BlockObserver = (address: number, size: number) => void;

/** An opaque saved CPU state (registers only, not memory). */
export interface SavedContext {
  readonly arch: Arch;
  free(): void;
}

export interface Engine {
  readonly arch: Arch;
  map(address: number, size: number, prot: number): void;
  unmap(address: number, size: number): void;
  protect(address: number, size: number, prot: number): void;
  read(address: number, size: number): Uint8Array;
  write(address: number, bytes: Uint8Array): void;
  /** Read a general-purpose, segment, control or flags register as an unsigned integer. */
  reg(name: RegName): bigint;
  setReg(name: RegName, value: bigint | number): void;
  /** Read the raw bytes of a wide register (xmm: 16 bytes, st0–st7: 10 bytes of x87 extended precision). */
  regBytes(name: RegName, size: number): Uint8Array;
  setRegBytes(name: RegName, bytes: Uint8Array): void;
  setGdtr(table: TableRegister): void;
  /** Run from `begin` until `options.until`, a hook's `stop()`, the budget or a fault (thrown as GuestFault). */
  run(begin: number, options: RunOptions): RunResult;
  /** Stop the current run from inside a hook; `run` then returns with reason 'stopped'. */
  stop(): void;
  /** Guest instructions executed so far in the current run (valid inside hooks). */
  readonly instructionsInRun: number;
  /** Forget cached instruction counts for code in a range (call after code is unmapped or remapped). */
  invalidateCode(address: number, size: number): void;
  /**
   * Observes every basic-block start. Costs no extra native hook (the counting hook already runs per block), so
   * it is the cheap way to notice function entries and returns.
   */
  addBlockObserver(observer: BlockObserver): HookHandle;
  /** A per-instruction hook over [begin, end] (all code when omitted). ~30x slower: for tracing only. */
  addCodeHook(fn: (address: number, size: number) => void, begin?: number, end?: number): HookHandle;
  /** A memory-access hook over [begin, end]. Slows every memory access while present: for tracing and watches. */
  addMemoryHook(kinds: MemoryAccess[], fn: (access: MemoryAccess, address: number, size: number, value: bigint) => void, begin?: number, end?: number): HookHandle;
  /**
   * From now on, a faulting memory access reports its own instruction's pc (not its basic block's start), at a
   * cost on every access: for guests that handle SIGSEGV/SIGBUS, whose handlers read the pc.
   */
  enablePreciseFaults(): void;
  saveContext(): SavedContext;
  restoreContext(context: SavedContext): void;
  close(): void;
}
