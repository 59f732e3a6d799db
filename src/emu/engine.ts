/**
 * The engine interface: everything shimulator needs from a CPU emulator, and nothing more. The native Unicorn
 * binding (`unicorn.ts`) implements it; a WebAssembly build of Unicorn can implement the same interface later.
 */
import type { Arch } from './arch.ts';
import type { CountingInfo } from './block-counter.ts';
import type { X86_REG } from './unicorn-ids.ts';
import type { HostRegion } from './host-regions.ts';

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
  /**
   * The start of the block that ends by jumping to `until` (a host call's trampoline epilogue), when the caller
   * knows it: a run whose last block is that one ended at `until`, so the engine need not read the program
   * counter to tell it from a `hlt` (one native call less per host call).
   */
  lastBlock?: number;
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
  /**
   * The time-stamp counter that guest rdtsc/rdtscp read (called when one executes; the instructions of the
   * current run up to and including it are already in `instructionsInRun`). Without it they read the host's TSC.
   */
  rdtsc?: () => bigint;
}

/** A hook added at run time; `remove()` detaches it. */
export interface HookHandle {
  remove(): void;
}

export type MemoryAccess = 'read' | 'write';

/** Called at the start of every basic block the guest executes (after instruction counting). */
export type BlockObserver = (address: number, size: number) => void;

/**
 * Block start addresses that a filtered block observer fires at (`engine.createAddressSet()`). Counted: an address
 * added n times stays until it is removed n times (two open calls may share a return address).
 */
export interface AddressSet {
  add(address: number): void;
  /** Removes one count of `address` (nothing when absent). */
  remove(address: number): void;
  has(address: number): boolean;
  readonly size: number;
  /** While true, the observers filtered by this set fire at every block (e.g. until a table is brought up to date). */
  everyBlock: boolean;
}

export interface BlockObserverOptions {
  /** Fire only at blocks starting at an address in this set (filtered without crossing into JavaScript). */
  at?: AddressSet;
}

/** An opaque saved CPU state (registers only, not memory). */
export interface SavedContext {
  readonly arch: Arch;
  free(): void;
}

/**
 * Host memory reserved by an engine to back guest pages (the native engine: a host mmap, see host-memory.ts; a
 * WebAssembly engine: part of its linear memory). Opaque outside the engine that made it.
 */
export interface HostMemory {
  readonly size: number;
  /** Copies bytes in at `offset` (no guest mapping needed, no protection applies). */
  write(offset: number, bytes: Uint8Array): void;
  /**
   * The bytes [offset, offset+size) as a live view (no copy: reads see guest stores, writes reach the guest without
   * the engine), or undefined when the host cannot make one. Valid until `release()`; see AddressSpace.dataWindow
   * for when writing through it is safe.
   */
  bytes(offset: number, size: number): Uint8Array | undefined;
  /** Makes [offset, offset+size) read as zeros again and gives its pages back to the host. */
  discard(offset: number, size: number): void;
  /** Returns the reservation to the host (after the engine is closed). */
  release(): void;
  /** As `bytes`, but never undefined (a view of just this range when no whole view exists): for snapshots. */
  view(offset: number, size: number): Uint8Array;
  /**
   * One byte per page of [offset, offset+size) (page-aligned): 0 when the page was never touched or was discarded
   * since (it reads as zeros), else non-zero. Lets a snapshot skip the untouched bulk of the stack and heap.
   */
  residentPages(offset: number, size: number): Uint8Array;
}

/** A patched rdtsc/rdtscp (see timestamp.ts): where, which, and the bytes the trap replaced. */
export interface TimestampPatchRecord {
  address: number;
  instruction: 'rdtsc' | 'rdtscp';
  original: Uint8Array;
}

export interface Engine {
  readonly arch: Arch;
  /** Maps engine-owned memory (tests and small fixed pages; guest mappings use `mapHost`). */
  map(address: number, size: number, prot: number): void;
  /** Reserves `size` bytes of host memory for `mapHost` (untouched bytes cost the host nothing). */
  reserveHostMemory(size: number): HostMemory;
  /**
   * Maps [address, address+size) onto `memory` at `offset`, one engine region. Unmapping it later does not free
   * or copy the host memory, so the same bytes can be mapped again with another protection or region boundary.
   */
  mapHost(address: number, size: number, prot: number, memory: HostMemory, offset: number): void;
  /**
   * `mapHost` for several regions. Into an engine with nothing mapped, in the order `relayout` uses (the regions
   * then lie as after a `relayout`); otherwise in the order given.
   */
  mapHostRegions(regions: readonly HostRegion[]): void;
  /**
   * Maps every region again — same addresses, protections and bytes — in an order that keeps data and code apart
   * in the engine's internal memory layout, where guest stores are cheaper (Unicorn 2.0.1: see ram-layout.ts).
   * Translations are made again as code runs (instruction counts do not change). Does nothing where a region is
   * engine-owned (`map`).
   */
  relayout(): void;
  /** Unmaps whole or partial regions; translated code of the range is dropped first. */
  unmap(address: number, size: number): void;
  protect(address: number, size: number, prot: number): void;
  read(address: number, size: number): Uint8Array;
  /**
   * Like `read`, but with the program's own bytes where the engine patched code (rdtsc/rdtscp become traps, see
   * timestamp.ts): for showing instructions. Guest loads, and `read`, see the patched bytes.
   */
  readOriginal(address: number, size: number): Uint8Array;
  write(address: number, bytes: Uint8Array): void;
  /** Read a general-purpose, segment, control or flags register as an unsigned integer. */
  reg(name: RegName): bigint;
  /** The program counter (rip / eip) as a number: cheaper than `reg` (no BigInt), for the scheduler's every switch. */
  pc(): number;
  /** Several registers as `reg` reads each, in one engine call (the ABI checker's snapshots read a dozen per call). */
  regs(names: readonly RegName[]): bigint[];
  setReg(name: RegName, value: bigint | number): void;
  /** Read the raw bytes of a wide register (xmm: 16 bytes, st0–st7: 10 bytes of x87 extended precision). */
  regBytes(name: RegName, size: number): Uint8Array;
  setRegBytes(name: RegName, bytes: Uint8Array): void;
  setGdtr(table: TableRegister): void;
  /** Run from `begin` until `options.until`, a hook's `stop()`, the budget or a fault (thrown as GuestFault). */
  run(begin: number, options: RunOptions): RunResult;
  /** Stop the current run from inside a hook; `run` then returns with reason 'stopped'. */
  stop(): void;
  /** How instructions are counted: natively, or in JavaScript (and why); the counts are the same either way. */
  readonly counting: CountingInfo;
  /** Guest instructions executed so far in the current run (valid inside hooks). */
  readonly instructionsInRun: number;
  /** Forget cached instruction counts for code in a range (call after code is unmapped or remapped). */
  invalidateCode(address: number, size: number): void;
  /**
   * Observes every basic-block start, or with `{ at }` only those starting at an address in the set. Costs no
   * extra native hook (the counting hook already runs per block), so it is the cheap way to notice function
   * entries and returns. While an unfiltered one is attached every block calls into JavaScript; a filtered one
   * calls only at its addresses (with native counting the filter runs in C). Throws AddressSetError for a set
   * made by another engine, or beyond 16 sets in use at once.
   */
  addBlockObserver(observer: BlockObserver, options?: BlockObserverOptions): HookHandle;
  /** A new, empty address set for `addBlockObserver(…, { at })` (freed with the engine). */
  createAddressSet(): AddressSet;
  /** A per-instruction hook over [begin, end] (all code when omitted). ~30x slower: for tracing only. */
  addCodeHook(fn: (address: number, size: number) => void, begin?: number, end?: number): HookHandle;
  /** A memory-access hook over [begin, end]. Slows every memory access while present: for tracing and watches. */
  addMemoryHook(kinds: MemoryAccess[], fn: (access: MemoryAccess, address: number, size: number, value: bigint) => void, begin?: number, end?: number): HookHandle;
  /**
   * From now on, a faulting memory access reports its own instruction's pc (not its basic block's start), at a
   * cost on every access: for guests that handle SIGSEGV/SIGBUS, whose handlers read the pc.
   */
  enablePreciseFaults(): void;
  /** Whether fault addresses are exact (see enablePreciseFaults): part of what a snapshot restores. */
  readonly preciseFaultsEnabled: boolean;
  /** Back to block-start fault addresses (a snapshot restore into a state without a fault handler). */
  disablePreciseFaults(): void;
  saveContext(): SavedContext;
  restoreContext(context: SavedContext): void;
  /**
   * A writer of general-purpose register `name` into the saved `context` itself, without a native call (the value
   * takes effect at the next `restoreContext(context)`), or undefined when the engine cannot offer one.
   */
  contextRegisterWriter(context: SavedContext, name: RegName): ((value: number) => void) | undefined;
  /** A saved context's bytes (every register the guest can observe: GPRs, segments and bases, GDTR, x87, SSE). */
  exportContext(context: SavedContext): Uint8Array;
  /** A saved context from `exportContext`'s bytes (of an engine of the same build and architecture). */
  importContext(bytes: Uint8Array): SavedContext;
  /** The patched timestamp reads (engine-side state that a snapshot must carry: see timestamp.ts). */
  timestampPatchList(): TimestampPatchRecord[];
  /**
   * Replaces the patch table with `patches` (guest memory already holds their bytes) and drops every translation
   * and block count that may no longer match memory: of `changedPages` (guest pages whose bytes were replaced
   * behind the engine's back) and of patches that appear or disappear.
   */
  restoreCodeState(patches: TimestampPatchRecord[], changedPages: Iterable<number>): void;
  /** Pages (address / 4096) holding translated code: a snapshot restore compares them. */
  translatedPages(): number[];
  close(): void;
}
