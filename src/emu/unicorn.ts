/**
 * The native Unicorn 2 engine. With unicorn-native.ts (the koffi binding) the only code that talks to libunicorn.
 *
 * Instruction counting: a block hook adds the instruction count of each translation block as it starts; the count
 * per block address comes from Unicorn's own translator (uc_ctl TB_REQUEST_CACHE) on the block's first sight and is
 * cached. The hook is the project's native helper where it could be built (block-counter.ts, native-counter.ts),
 * else a JavaScript callback per block; both give the same deterministic counts, budget stops and quanta (a
 * per-instruction hook would be ~30x slower).
 *
 * Timestamp reads: with a `rdtsc` hook, the first sight of a block holding rdtsc/rdtscp patches them into traps
 * (see timestamp.ts) before the block runs: the block hook stops the run without counting the block, `run` patches
 * and drops Unicorn's translation, then resumes at the same address, where the block is translated, seen and
 * counted afresh. Instruction counts, budgets and quanta are unchanged by this (the trap is one instruction, as
 * the original was); code without rdtsc costs one memory read and a byte scan per newly translated block.
 * Guest loads from patched code see the trap bytes; `readOriginal` shows the program's own bytes (for traces).
 */
import koffi from 'koffi';
import type { Arch } from './arch.ts';
import type {
  AddressSet, TimestampPatchRecord, BlockObserver, BlockObserverOptions, CpuidResult, Engine, HookHandle, HostMemory, Hooks, MemoryAccess, RegName, RunOptions, RunResult, SavedContext, TableRegister,
} from './engine.ts';
import { PROT_NONE } from './engine.ts';
import { BudgetExceededError, EngineError, GuestFault, type RegisterDump } from './errors.ts';
import { NativeHostMemory } from './host-memory.ts';
import { type HostRegion, HostRegionTable } from './host-regions.ts';
import { nextOffsetBound, padAddress, segregatedSteps } from './ram-layout.ts';
import { UnicornContexts } from './unicorn-context.ts';
import { loadUnicorn, type Native } from './unicorn-native.ts';
import type { BlockCounter, CountingChoice, CountingInfo } from './block-counter.ts';
import { createBlockCounter, helperPath } from './native-counter.ts';
import { BlockObservers } from './block-observers.ts';
import {
  findTimestampReads, lastTimestampCandidate, TIMESTAMP_TRAPS, type TimestampInstruction, trappedInstruction,
} from './timestamp.ts';
import {
  UC_ARCH_X86,
  UC_CTL_TB_REMOVE_CACHE_W,
  UC_CTL_TB_REQUEST_CACHE_RW,
  UC_ERR,
  UC_HOOK_BLOCK,
  UC_HOOK_CODE,
  UC_HOOK_INSN,
  UC_HOOK_INTR,
  UC_HOOK_MEM_INVALID,
  UC_HOOK_MEM_READ,
  UC_HOOK_MEM_WRITE,
  UC_MODE_32,
  UC_MODE_64,
  UC_X86_INS_CPUID,
  UC_X86_INS_SYSCALL,
  X86_REG,
} from './unicorn-ids.ts';

/** Bytes of a uc_tb: uint64 pc, uint16 icount, uint16 size (+ padding). */
const UC_TB_SIZE = 16;
const UC_TB_ICOUNT_OFFSET = 8;
/** Bytes of a uc_x86_mmr: uint16 selector, uint64 base, uint32 limit, uint32 flags (with C padding). */
const UC_X86_MMR_SIZE = 24;
const MMR_BASE_OFFSET = 8;
const MMR_LIMIT_OFFSET = 16;
/** `relayout` leaves engines with more regions as they are (a boot makes ~45). */
const MAX_RELAYOUT_REGIONS = 512;
/** The largest padding `relayout` maps (a boot uses a few tens of MiB of RAM offsets; beyond this, skip it). */
const MAX_PAD_BYTES = 2 ** 30;
/** Granularity of the "this page holds code" bookkeeping. */
const PAGE_BYTES = 0x1000;
/**
 * A translation block never spans more than two pages (QEMU ends x86 blocks within a page of their start): blocks
 * that may contain an address start at most this many bytes before it.
 */
const MAX_BLOCK_SPAN = 2 * PAGE_BYTES;
/** rdtscp's IA32_TSC_AUX (Linux keeps the CPU number there): one virtual CPU, number 0. */
const TSC_AUX = 0n;
const TWO_32 = 2 ** 32;
const LOW_32_BITS = 0xffffffffn;

/** uc_mem_type of an ordinary read (UC_MEM_READ); writes are UC_MEM_WRITE (17). */
const UC_MEM_READ = 16;

/** Unicorn's uc_mem_type values reported to the invalid-memory hook. */
const MEM_TYPE_NAMES: Record<number, string> = {
  16: 'read', 17: 'write', 18: 'fetch', 19: 'read (unmapped)', 20: 'write (unmapped)', 21: 'fetch (unmapped)',
  22: 'write (protected)', 23: 'read (protected)', 24: 'fetch (protected)',
};

function toNumber(value: number | bigint): number {
  return typeof value === 'bigint' ? Number(value) : value;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

const DUMP_REGS: Record<Arch, RegName[]> = {
  amd64: ['rip', 'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rflags', 'fs_base'],
  i386: ['eip', 'eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'eflags', 'gs'],
};

/** How an engine counts instructions (see block-counter.ts). */
export interface EngineOptions {
  /** Default 'auto': the native helper when it loads, else JavaScript. */
  counting?: CountingChoice;
  /** The native helper to load (default: $SHIMULATOR_NATIVE, else the one scripts/setup.mjs builds). */
  nativeHelper?: string;
}

/** A patched rdtsc/rdtscp: which one, and the bytes the trap replaced. */
interface TimestampPatch {
  instruction: TimestampInstruction;
  original: Uint8Array;
}

/** `regs` reads up to this many registers in one call (more: one by one); each gets a slot wide enough for any GPR. */
const BATCH_REGS = 32;
const BATCH_SLOT_BYTES = 16;
const BATCH_SLOT_WORDS = BATCH_SLOT_BYTES / 8;

export class UnicornEngine implements Engine {
  private readonly uc: unknown;
  private readonly n: Native;
  private readonly scratch = Buffer.alloc(64);
  private readonly tb = Buffer.alloc(UC_TB_SIZE);
  private readonly callbacks = new Set<koffi.IKoffiRegisteredCallback>();
  /** Callbacks of hooks removed while the guest ran: unregistered once it stops (the native side may be inside one). */
  private readonly removedCallbacks: koffi.IKoffiRegisteredCallback[] = [];
  /** Counts instructions per block and makes the budget and quantum stops. */
  private readonly counter: BlockCounter;
  /** Which counter, and why not the native one when it is not. */
  readonly counting: CountingInfo;
  /** Pages holding counted blocks: a host write there is a code rewrite (see `write`). */
  private readonly codePages = new Set<number>();
  /** The regions mapped onto host memory, for `relayout` and `mapHostRegions`. */
  private readonly hostRegions = new HostRegionTable();
  /** Bounds every RAM offset Unicorn has given a region of this engine (see ram-layout.ts). */
  private ramOffsetBound = 0;
  private lastBadAccess: { type: number; address: number; size: number } | undefined;
  private hookError: unknown;
  private readonly blockObservers: BlockObservers;
  /** For `regs`: made on first use, freed by `close`. */
  private regBatch: { memory: unknown; ids: Int32Array; pointers: BigUint64Array; values: BigUint64Array } | undefined;
  private closed = false;
  /** The guest's time-stamp counter; without it rdtsc reads the host's TSC and nothing is patched. */
  private readonly rdtsc: (() => bigint) | undefined;
  /** Patched timestamp reads by address (never overlapping: each is a whole instruction). */
  private readonly timestampPatches = new Map<number, TimestampPatch>();
  /** Timestamp reads found in a block that is about to run: patched by `run`, which then resumes at `address`. */
  private pendingPatch: { address: number; sites: { address: number; instruction: TimestampInstruction }[] } | undefined;
  /** Reused for the bytes of newly translated blocks. */
  private blockBytes = Buffer.alloc(MAX_BLOCK_SPAN);
  private preciseFaults: HookHandle | undefined;
  private preciseRequested = false;
  /** Inside uc_emu_start (hooks run now). */
  private running = false;
  private readonly contexts: UnicornContexts;

  constructor(
    readonly arch: Arch,
    hooks: Hooks = {},
    options: EngineOptions = {},
  ) {
    this.n = loadUnicorn();
    // Before uc_open: asking for the native counter where there is none throws, and must leak no engine.
    ({ counter: this.counter, info: this.counting } = createBlockCounter(options.counting ?? 'auto', {
      firstSight: (address, size) => this.guard(() => this.firstSight(address, size)),
      observe: (address, size) => this.observe(address, size),
      stopEngine: () => this.n.uc_emu_stop(this.uc),
    }, options.nativeHelper ?? helperPath()));
    this.blockObservers = new BlockObservers(this.counter);
    const out: unknown[] = [null];
    this.check(this.n.uc_open(UC_ARCH_X86, arch === 'amd64' ? UC_MODE_64 : UC_MODE_32, out), 'uc_open');
    this.uc = out[0];
    this.contexts = new UnicornContexts(this.n, this.uc, {
      arch,
      reg: (name) => this.reg(name),
      setReg: (name, value) => this.setReg(name, value),
      check: (rc, what) => this.check(rc, what),
    });
    this.rdtsc = hooks.rdtsc;
    const hook = this.counter.hook;
    if (hook.kind === 'js') {
      this.addHook(UC_HOOK_BLOCK, this.n.protos.block, (_uc: unknown, address: number | bigint, size: number) => hook.onBlock(toNumber(address), size));
    } else {
      const hh = [0];
      this.check(this.n.uc_hook_add(this.uc, hh, UC_HOOK_BLOCK, hook.callback, hook.userData, 1, 0), 'uc_hook_add (native block counter)');
    }
    this.addHook(UC_HOOK_MEM_INVALID, this.n.protos.memInvalid, (_uc: unknown, type: number, address: number | bigint, size: number) => {
      this.lastBadAccess = { type, address: toNumber(address), size };
      return false;
    });
    if (hooks.syscall) {
      const onSyscall = hooks.syscall;
      this.addHook(UC_HOOK_INSN, this.n.protos.syscall, () => this.guard(onSyscall), UC_X86_INS_SYSCALL);
    }
    if (hooks.interrupt || hooks.rdtsc) {
      const onInterrupt = hooks.interrupt ?? ((intno: number) => this.unhandledInterrupt(intno));
      this.addHook(UC_HOOK_INTR, this.n.protos.intr, (_uc: unknown, intno: number) => this.guard(() => {
        if (!this.answerTimestampTrap(intno)) onInterrupt(intno);
      }));
    }
    if (hooks.cpuid) {
      const answer = hooks.cpuid;
      this.addHook(UC_HOOK_INSN, this.n.protos.cpuid, () => this.guard(() => this.answerCpuid(answer), 1) ?? 1, UC_X86_INS_CPUID);
    }
  }

  /**
   * Unicorn 2.0.1 leaves the program counter at the start of the translation block when an instruction inside it
   * faults on memory (measured: test/signals.test.ts), but syncs the pc before every memory access while any
   * memory hook exists — whatever the hook's range. This hook covers one address no guest can reach (the top of
   * the 64-bit space), so its callback never runs; but every access then takes Unicorn's slow path (1.5–2x
   * slower snprintf calls, measured), hence only on request: when the guest installs a handler for a fault signal.
   */
  enablePreciseFaults(): void {
    if (this.preciseFaults || this.preciseRequested) return;
    this.preciseRequested = true;
    // Inside a hook (sigaction is a system call) the translations cannot be flushed: stop, and apply at the next run.
    if (this.running) this.stop();
    else this.applyPreciseFaults();
  }

  get preciseFaultsEnabled(): boolean {
    return this.preciseFaults !== undefined || this.preciseRequested;
  }

  disablePreciseFaults(): void {
    this.preciseRequested = false;
    this.preciseFaults?.remove();
    this.preciseFaults = undefined;
  }

  private applyPreciseFaults(): void {
    if (!this.preciseRequested) return;
    this.preciseRequested = false;
    const unreachable = 0xffffffffffffffffn as unknown as number;
    this.preciseFaults = this.runtimeHook(this.addHook(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, this.n.protos.memAccess, () => {}, undefined, unreachable, unreachable));
  }

  /** Runs a hook body; an exception stops the guest and is rethrown by `run` (never crosses into native code). */
  private guard<T>(body: () => T, fallback?: T): T | undefined {
    try {
      return body();
    } catch (error) {
      this.hookError ??= error;
      this.n.uc_emu_stop(this.uc);
      return fallback;
    }
  }

  private answerCpuid(answer: (leaf: number, subleaf: number) => CpuidResult): number {
    const leaf = Number(this.reg('eax') & 0xffffffffn);
    const subleaf = Number(this.reg('ecx') & 0xffffffffn);
    const r = answer(leaf, subleaf);
    // CPUID zero-extends into the 64-bit registers on amd64; writing the 64-bit names keeps that true.
    const [a, b, c, d]: RegName[] = this.arch === 'amd64' ? ['rax', 'rbx', 'rcx', 'rdx'] : ['eax', 'ebx', 'ecx', 'edx'];
    this.setReg(a, r.eax >>> 0);
    this.setReg(b, r.ebx >>> 0);
    this.setReg(c, r.ecx >>> 0);
    this.setReg(d, r.edx >>> 0);
    return 1; // handled: Unicorn skips its own CPUID
  }

  /** Without an `interrupt` hook an interrupt is a fault, as Unicorn makes it when no hook catches it. */
  private unhandledInterrupt(intno: number): never {
    throw new GuestFault(`unhandled interrupt ${intno}`, 'EXCEPTION', this.pc(), undefined, this.dumpRegisters());
  }

  /**
   * Answers a patched rdtsc/rdtscp (the trap's vector and an address where we put one): EDX:EAX = the TSC, and
   * ECX = TSC_AUX for rdtscp. On amd64 the upper halves are zeroed, as the real instructions do. Unicorn has
   * already moved the pc past the trap, so the guest continues after the original instruction.
   */
  private answerTimestampTrap(intno: number): boolean {
    const instruction = trappedInstruction(intno);
    if (!instruction || !this.rdtsc) return false;
    const patch = this.timestampPatches.get(this.pc() - TIMESTAMP_TRAPS[instruction].length);
    if (patch?.instruction !== instruction) return false; // the guest's own `int 0x82`: not ours
    const tsc = BigInt.asUintN(64, this.rdtsc());
    const amd64 = this.arch === 'amd64';
    this.setReg(amd64 ? 'rax' : 'eax', tsc & LOW_32_BITS);
    this.setReg(amd64 ? 'rdx' : 'edx', tsc >> 32n);
    if (instruction === 'rdtscp') this.setReg(amd64 ? 'rcx' : 'ecx', TSC_AUX);
    return true;
  }

  /** Adds a native hook over [begin, end] (begin > end: everything); returns the hook's handle and callback. */
  private addHook(
    type: number, proto: koffi.IKoffiCType, fn: (...args: never[]) => unknown, insn?: number, begin = 1, end = 0,
  ): { handle: number; cb: koffi.IKoffiRegisteredCallback } {
    const cb = koffi.register(fn as (...args: unknown[]) => unknown, koffi.pointer(proto));
    this.callbacks.add(cb);
    const hh = [0];
    const rc =
      insn === undefined
        ? this.n.uc_hook_add(this.uc, hh, type, cb, null, begin, end)
        : this.n.uc_hook_add(this.uc, hh, type, cb, null, begin, end, 'int', insn);
    this.check(rc, 'uc_hook_add');
    return { handle: hh[0]!, cb };
  }

  /** A hook added at run time: translated code must be regenerated to include (or drop) its calls. */
  private runtimeHook(added: { handle: number; cb: koffi.IKoffiRegisteredCallback }): HookHandle {
    this.flushTranslations();
    let removed = false;
    return {
      remove: () => {
        if (removed || this.closed) return;
        removed = true;
        this.n.uc_hook_del(this.uc, added.handle);
        this.flushTranslations();
        // Unregistered, not just deleted: the callback's closure (a trace recorder with its whole recording, say)
        // would otherwise stay reachable until the engine closes — a playground worker grew ~1 MB per recorded call.
        this.callbacks.delete(added.cb);
        this.removedCallbacks.push(added.cb);
        if (!this.running) this.unregisterRemoved();
      },
    };
  }

  private unregisterRemoved(): void {
    if (this.removedCallbacks.length === 0) return; // after nearly every run: no array to allocate
    for (const cb of this.removedCallbacks.splice(0)) koffi.unregister(cb);
  }

  /**
   * Drops every translated block, so that code runs through the hooks now in place. Not with UC_CTL_TB_FLUSH: in
   * Unicorn 2.0.1 a full flush costs seconds and about 1 GiB of host RSS (measured: a C program went from 0.7 s /
   * 118 MB to 4.1 s / 1.17 GB). Every translated block started on a page in `codePages` (the counting hook sees each
   * block), so removing the translations of those pages is the same, page by page.
   */
  private flushTranslations(): void {
    for (const page of this.codePages) {
      const start = page * PAGE_BYTES;
      this.n.uc_ctl(this.uc, UC_CTL_TB_REMOVE_CACHE_W, 'uint64_t', start, 'uint64_t', start + PAGE_BYTES);
    }
  }

  addBlockObserver(observer: BlockObserver, options?: BlockObserverOptions): HookHandle {
    return this.blockObservers.add(observer, options);
  }

  createAddressSet(): AddressSet {
    return this.blockObservers.createSet();
  }

  /** Runs the block observers; one try/catch for all (this runs per basic block: no closure per call). */
  private observe(address: number, size: number): void {
    try {
      this.blockObservers.dispatch(address, size);
    } catch (error) {
      this.hookError ??= error;
      this.n.uc_emu_stop(this.uc);
    }
  }

  addCodeHook(fn: (address: number, size: number) => void, begin = 1, end = 0): HookHandle {
    return this.runtimeHook(
      this.addHook(UC_HOOK_CODE, this.n.protos.code, (_uc: unknown, address: number | bigint, size: number) => {
        this.guard(() => fn(toNumber(address), size));
      }, undefined, begin, end),
    );
  }

  addMemoryHook(
    kinds: MemoryAccess[], fn: (access: MemoryAccess, address: number, size: number, value: bigint) => void, begin = 1, end = 0,
  ): HookHandle {
    const type = (kinds.includes('read') ? UC_HOOK_MEM_READ : 0) | (kinds.includes('write') ? UC_HOOK_MEM_WRITE : 0);
    return this.runtimeHook(
      this.addHook(type, this.n.protos.memAccess,
        (_uc: unknown, memType: number, address: number | bigint, size: number, value: number | bigint) => {
          this.guard(() => fn(memType === UC_MEM_READ ? 'read' : 'write', toNumber(address), size, BigInt(value)));
        }, undefined, begin, end),
    );
  }

  /**
   * The first sight of a block (the counter remembers the answer): its instruction count from Unicorn's
   * translator, or undefined when it must not run yet (its timestamp reads get patched first).
   */
  private firstSight(address: number, size: number): number | undefined {
    if (this.rdtsc && this.deferForTimestampPatch(address, size)) return undefined;
    this.n.uc_ctl(this.uc, UC_CTL_TB_REQUEST_CACHE_RW, 'uint64_t', address, 'void *', this.tb);
    this.codePages.add(Math.floor(address / PAGE_BYTES));
    return this.tb.readUInt16LE(UC_TB_ICOUNT_OFFSET);
  }

  /**
   * First sight of a block: when it holds rdtsc/rdtscp, stop before it runs (a stop in the block hook comes
   * before the block's first instruction, as for the quantum) and leave the patch to `run`. Patching here would be
   * too late: this translation already contains the real instruction.
   */
  private deferForTimestampPatch(address: number, size: number): boolean {
    if (size <= 0) return false;
    if (size > this.blockBytes.length) this.blockBytes = Buffer.alloc(size);
    const bytes = this.blockBytes.subarray(0, size);
    this.check(this.n.uc_mem_read(this.uc, address, bytes, size), () => `reading the block at ${hex(address)}`);
    if (lastTimestampCandidate(bytes) < 0) return false;
    const { sites } = findTimestampReads(bytes, this.arch);
    if (sites.length === 0) return false;
    this.pendingPatch = { address, sites: sites.map((s) => ({ address: address + s.offset, instruction: s.instruction })) };
    this.n.uc_emu_stop(this.uc);
    return true;
  }

  /** Replaces the pending block's timestamp reads with traps; returns where the block starts. */
  private applyPendingPatch(): number {
    const { address, sites } = this.pendingPatch!;
    this.pendingPatch = undefined;
    for (const site of sites) {
      const trap = TIMESTAMP_TRAPS[site.instruction];
      const original = this.read(site.address, trap.length);
      this.rawWrite(site.address, trap);
      this.timestampPatches.set(site.address, { instruction: site.instruction, original });
      this.retranslate(site.address, trap.length);
    }
    return address;
  }

  /** Puts back the original instructions of patches in a range (before the host writes over it). */
  private unpatchTimestamps(address: number, size: number): void {
    for (const [at, patch] of this.timestampPatches) {
      if (at >= address + size || at + patch.original.length <= address) continue;
      this.timestampPatches.delete(at);
      this.rawWrite(at, patch.original);
      this.retranslate(at, patch.original.length);
    }
  }

  /**
   * Drops Unicorn's translations of [address, address + size) and the counts of every block that may contain it
   * (a block starting before the range may end inside it): they are translated, counted and scanned again.
   */
  private retranslate(address: number, size: number): void {
    this.counter.forget(address - MAX_BLOCK_SPAN + 1, address + size);
    this.n.uc_ctl(this.uc, UC_CTL_TB_REMOVE_CACHE_W, 'uint64_t', address, 'uint64_t', address + size);
  }

  readOriginal(address: number, size: number): Uint8Array {
    const bytes = this.read(address, size);
    for (const [at, patch] of this.timestampPatches) {
      for (let i = 0; i < patch.original.length; i++) {
        const offset = at + i - address;
        if (offset >= 0 && offset < size) bytes[offset] = patch.original[i]!;
      }
    }
    return bytes;
  }

  /** Throws for a failed Unicorn call; `what` is a function so that the hot path builds no strings. */
  private check(rc: number, what: string | (() => string)): void {
    if (rc !== UC_ERR.OK) {
      throw new EngineError(`${typeof what === 'string' ? what : what()} failed: ${this.n.uc_strerror(rc)}`, rc);
    }
  }

  map(address: number, size: number, prot: number): void {
    this.check(this.n.uc_mem_map(this.uc, address, size, prot), () => `mapping ${hex(size)} bytes at ${hex(address)}`);
    this.ramOffsetBound = nextOffsetBound(this.ramOffsetBound, size);
    this.hostRegions.addOwned();
  }

  reserveHostMemory(size: number): HostMemory {
    return new NativeHostMemory(size);
  }

  mapHost(address: number, size: number, prot: number, memory: HostMemory, offset: number): void {
    if (!(memory instanceof NativeHostMemory)) throw new EngineError('mapHost needs host memory from reserveHostMemory', UC_ERR.ARG);
    // uc_mem_map_ptr makes a RAM_PREALLOC block: Unicorn 2.0.1's reclaim_ramblock never frees it, and split_region
    // re-maps its pointer instead of copying the bytes into a backup.
    this.check(this.n.uc_mem_map_ptr(this.uc, address, size, prot, memory.at(offset)), () => `mapping ${hex(size)} host bytes at ${hex(address)}`);
    this.ramOffsetBound = nextOffsetBound(this.ramOffsetBound, size);
    this.hostRegions.addHost({ address, size, prot, memory, offset });
  }

  mapHostRegions(regions: readonly HostRegion[]): void {
    if (this.hostRegions.empty) this.mapSegregated(regions);
    else for (const r of regions) this.mapHost(r.address, r.size, r.prot, r.memory, r.offset);
  }

  relayout(): void {
    if (!this.hostRegions.known) return;
    const regions = this.hostRegions.list();
    // Each unmap and map re-renders Unicorn's whole flat view: past a few hundred regions (a guest that mapped
    // thousands while booting) re-laying out would cost more than the stores it speeds up.
    if (regions.length === 0 || regions.length > MAX_RELAYOUT_REGIONS) return;
    // Translations and block counts go first, while their pages are still mapped (see `unmap`); the bytes stay in
    // host memory, patched timestamp reads included, so the patch table stays as it is.
    this.counter.forget(0, Number.MAX_SAFE_INTEGER);
    this.flushTranslations();
    this.codePages.clear();
    for (const r of regions) this.check(this.n.uc_mem_unmap(this.uc, r.address, r.size), () => `unmapping ${hex(r.size)} bytes at ${hex(r.address)}`);
    this.hostRegions.clear();
    this.mapSegregated(regions);
  }

  /** Maps host regions into an empty engine in ram-layout.ts's order: stores to data then avoid code's leaves. */
  private mapSegregated(regions: readonly HostRegion[]): void {
    const limit = this.arch === 'amd64' ? 2 ** 47 : 2 ** 32;
    // Paddings are engine-owned memory the guest never sees (no host pages are touched), mapped at free guest
    // addresses only until every region has its offset. Where no free range is left, the layout is only slower.
    const pads: { address: number; size: number; prot: number }[] = [];
    for (const step of segregatedSteps(regions, this.ramOffsetBound)) {
      if ('region' in step) {
        const r = step.region;
        this.mapHost(r.address, r.size, r.prot, r.memory, r.offset);
        continue;
      }
      const address = step.pad <= MAX_PAD_BYTES ? padAddress([...regions, ...pads], step.pad, 0, limit) : undefined;
      // Unicorn reserves (never touches) host memory for it: a refusal costs speed only, so it is not an error.
      if (address === undefined || this.n.uc_mem_map(this.uc, address, step.pad, PROT_NONE) !== UC_ERR.OK) continue;
      this.ramOffsetBound = nextOffsetBound(this.ramOffsetBound, step.pad);
      pads.push({ address, size: step.pad, prot: PROT_NONE });
    }
    for (const p of pads) this.check(this.n.uc_mem_unmap(this.uc, p.address, p.size), () => `unmapping the padding at ${hex(p.address)}`);
  }

  unmap(address: number, size: number): void {
    // Unicorn 2.0.1's uc_mem_unmap only flushes the TLB: translated blocks stay cached under the old RAM offset,
    // which a later mapping may reuse. Drop them while the range is still mapped (uc_invalidate_tb resolves the
    // address through the TLB, so it cannot see unmapped memory).
    const holdsCode = this.touchesCode(address, size);
    if (holdsCode) this.invalidateCode(address, size);
    this.check(this.n.uc_mem_unmap(this.uc, address, size), () => `unmapping ${hex(size)} bytes at ${hex(address)}`);
    this.hostRegions.removed(address, size);
    for (const at of this.timestampPatches.keys()) if (at >= address && at < address + size) this.timestampPatches.delete(at);
  }

  protect(address: number, size: number, prot: number): void {
    this.check(this.n.uc_mem_protect(this.uc, address, size, prot), () => `protecting ${hex(size)} bytes at ${hex(address)}`);
    this.hostRegions.protected(address, size, prot);
  }

  read(address: number, size: number): Uint8Array {
    const out = Buffer.alloc(size);
    if (size > 0) this.check(this.n.uc_mem_read(this.uc, address, out, size), () => `reading ${size} bytes at ${hex(address)}`);
    // A plain Uint8Array, as the interface says: Buffer#slice() shares memory where Uint8Array#slice() copies.
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  write(address: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    // New bytes over a patched instruction: the original comes back first, so that a partial overwrite leaves the
    // bytes the program expects; the code is then scanned again when it runs.
    if (this.timestampPatches.size > 0) this.unpatchTimestamps(address, bytes.length);
    if (this.codePages.size > 0 && this.touchesCode(address, bytes.length)) this.invalidateCode(address, bytes.length);
    this.rawWrite(address, bytes);
  }

  /** Writes memory without the code bookkeeping (and past any wrapper a trace recorder puts on `write`). */
  private rawWrite(address: number, bytes: Uint8Array): void {
    this.check(this.n.uc_mem_write(this.uc, address, bytes, bytes.length), () => `writing ${bytes.length} bytes at ${hex(address)}`);
  }

  reg(name: RegName): bigint {
    this.scratch.fill(0, 0, 8);
    this.check(this.n.uc_reg_read(this.uc, X86_REG[name], this.scratch), () => `reading ${name}`);
    return this.arch === 'amd64' ? this.scratch.readBigUInt64LE(0) : BigInt(this.scratch.readUInt32LE(0));
  }

  regs(names: readonly RegName[]): bigint[] {
    if (names.length > BATCH_REGS) return names.map((name) => this.reg(name));
    const batch = (this.regBatch ??= this.allocateRegBatch());
    for (let i = 0; i < names.length; i++) batch.ids[i] = X86_REG[names[i]!];
    batch.values.fill(0n, 0, names.length * BATCH_SLOT_WORDS);
    this.check(this.n.uc_reg_read_batch(this.uc, batch.ids, batch.pointers, names.length), () => `reading ${names.join(', ')}`);
    const values: bigint[] = [];
    for (let i = 0; i < names.length; i++) {
      const value = batch.values[i * BATCH_SLOT_WORDS]!;
      values.push(this.arch === 'amd64' ? value : value & 0xffffffffn);
    }
    return values;
  }

  /** One slot per register in helper-allocated memory (its address must not move), and the table of pointers to them. */
  private allocateRegBatch(): NonNullable<UnicornEngine['regBatch']> {
    const memory = koffi.alloc('uint8_t', BATCH_REGS * BATCH_SLOT_BYTES);
    const base = BigInt(koffi.address(memory));
    const pointers = new BigUint64Array(BATCH_REGS);
    for (let i = 0; i < BATCH_REGS; i++) pointers[i] = base + BigInt(i * BATCH_SLOT_BYTES);
    const values = new BigUint64Array(koffi.view(memory, BATCH_REGS * BATCH_SLOT_BYTES));
    return { memory, ids: new Int32Array(BATCH_REGS), pointers, values };
  }

  setReg(name: RegName, value: bigint | number): void {
    if (typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value)) {
      // Addresses and small values (every host call sets one): no BigInt.
      this.scratch.writeUInt32LE(value % TWO_32, 0);
      this.scratch.writeUInt32LE(Math.floor(value / TWO_32), 4);
    } else {
      this.scratch.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)), 0);
    }
    const rc = this.n.uc_reg_write(this.uc, X86_REG[name], this.scratch) as number;
    if (rc !== UC_ERR.OK) this.check(rc, `writing ${name}`);
  }

  regBytes(name: RegName, size: number): Uint8Array {
    this.scratch.fill(0);
    this.check(this.n.uc_reg_read(this.uc, X86_REG[name], this.scratch), () => `reading ${name}`);
    return Uint8Array.from(this.scratch.subarray(0, size));
  }

  setRegBytes(name: RegName, bytes: Uint8Array): void {
    this.scratch.fill(0);
    this.scratch.set(bytes);
    this.check(this.n.uc_reg_write(this.uc, X86_REG[name], this.scratch), () => `writing ${name}`);
  }

  setGdtr(table: TableRegister): void {
    const mmr = Buffer.alloc(UC_X86_MMR_SIZE);
    mmr.writeBigUInt64LE(BigInt(table.base), MMR_BASE_OFFSET);
    mmr.writeUInt32LE(table.limit, MMR_LIMIT_OFFSET);
    this.check(this.n.uc_reg_write(this.uc, X86_REG.gdtr, mmr), 'writing gdtr');
  }

  get instructionsInRun(): number {
    return this.counter.instructions;
  }

  run(begin: number, options: RunOptions): RunResult {
    this.counter.begin(options.budget, options.quantum ?? Infinity);
    this.lastBadAccess = undefined;
    this.hookError = undefined;
    this.pendingPatch = undefined;
    this.applyPreciseFaults();
    this.running = true;
    let rc: number;
    try {
      rc = this.n.uc_emu_start(this.uc, begin, options.until, 0, 0) as number;
      while (this.pendingPatch !== undefined) {
        const resume = this.applyPendingPatch();
        if (rc !== UC_ERR.OK || this.hookError !== undefined || this.counter.reason !== undefined) break;
        rc = this.n.uc_emu_start(this.uc, resume, options.until, 0, 0) as number;
      }
    } finally {
      this.running = false;
      this.unregisterRemoved();
    }
    const instructions = this.counter.instructions;
    const stopReason = this.counter.reason;
    if (this.hookError !== undefined) {
      const error = this.hookError;
      this.hookError = undefined;
      throw error;
    }
    if (rc !== UC_ERR.OK) throw this.fault(rc);
    if (stopReason === 'budget') {
      const pc = this.pc();
      throw new BudgetExceededError(options.budget, pc);
    }
    if (stopReason === 'stopped' || stopReason === 'quantum') return { reason: stopReason, instructions };
    // Unicorn stops before the block at `until` without hooking it: the epilogue that jumps there ran last.
    if (options.lastBlock !== undefined && this.counter.lastBlock === options.lastBlock && instructions > 0) {
      return { reason: 'until', instructions };
    }
    const pc = this.pc();
    if (pc !== options.until) {
      throw new GuestFault('the guest halted (hlt) before returning', 'HALT', pc, undefined, this.dumpRegisters());
    }
    return { reason: 'until', instructions };
  }

  stop(): void {
    this.counter.stop();
    this.n.uc_emu_stop(this.uc);
  }

  /** Whether a counted block starts in the range: walks the range's pages or the code pages, whichever is fewer. */
  private touchesCode(address: number, size: number): boolean {
    const first = Math.floor(address / PAGE_BYTES);
    const last = Math.ceil((address + size) / PAGE_BYTES);
    if (last - first > this.codePages.size) {
      for (const page of this.codePages) if (page >= first && page < last) return true;
      return false;
    }
    for (let page = first; page < last; page++) {
      if (this.codePages.has(page)) return true;
    }
    return false;
  }

  invalidateCode(address: number, size: number): void {
    this.counter.forget(address, address + size);
    // And Unicorn's own translations of that range (code rewritten in place must be translated again).
    this.n.uc_ctl(this.uc, UC_CTL_TB_REMOVE_CACHE_W, 'uint64_t', address, 'uint64_t', address + size);
  }

  pc(): number {
    // Read after every run: as a number straight away (a pc is below 2^48), not through a BigInt.
    this.scratch.fill(0, 0, 8);
    const rc = this.n.uc_reg_read(this.uc, X86_REG[this.arch === 'amd64' ? 'rip' : 'eip'], this.scratch) as number;
    if (rc !== UC_ERR.OK) this.check(rc, 'reading the pc');
    return this.scratch.readUInt32LE(4) * TWO_32 + this.scratch.readUInt32LE(0);
  }

  dumpRegisters(): RegisterDump {
    const dump: RegisterDump = {};
    for (const name of DUMP_REGS[this.arch]) dump[name] = hex(this.reg(name));
    return dump;
  }

  private fault(rc: number): GuestFault {
    const kind = Object.entries(UC_ERR).find(([, code]) => code === rc)?.[0] ?? `UC_ERR_${rc}`;
    const pc = this.pc();
    const access = this.lastBadAccess;
    const what = access
      ? `invalid memory ${MEM_TYPE_NAMES[access.type] ?? `access ${access.type}`} of ${access.size} bytes at ${hex(access.address)}`
      : String(this.n.uc_strerror(rc));
    return new GuestFault(what, kind, pc, access?.address, this.dumpRegisters());
  }

  saveContext(): SavedContext {
    return this.contexts.save();
  }

  contextRegisterWriter(context: SavedContext, name: RegName): ((value: number) => void) | undefined {
    return this.contexts.registerWriter(context, name);
  }

  restoreContext(context: SavedContext): void {
    this.contexts.restore(context);
  }

  exportContext(context: SavedContext): Uint8Array {
    return this.contexts.export(context);
  }

  importContext(bytes: Uint8Array): SavedContext {
    return this.contexts.import(bytes);
  }

  timestampPatchList(): TimestampPatchRecord[] {
    return [...this.timestampPatches].map(([address, p]) => ({ address, instruction: p.instruction, original: p.original.slice() }));
  }

  restoreCodeState(patches: TimestampPatchRecord[], changedPages: Iterable<number>): void {
    const wanted = new Map(patches.map((p) => [p.address, p]));
    const differs = new Set<number>();
    for (const [at, p] of this.timestampPatches) if (wanted.get(at)?.instruction !== p.instruction) differs.add(at);
    for (const at of wanted.keys()) if (!this.timestampPatches.has(at)) differs.add(at);
    this.timestampPatches.clear();
    for (const p of patches) this.timestampPatches.set(p.address, { instruction: p.instruction, original: p.original.slice() });
    for (const at of differs) this.retranslate(at, TIMESTAMP_TRAPS.rdtscp.length);
    for (const page of changedPages) this.retranslate(page * PAGE_BYTES, PAGE_BYTES);
  }

  translatedPages(): number[] {
    return [...this.codePages];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.n.uc_close(this.uc);
    this.counter.close();
    if (this.regBatch) koffi.free(this.regBatch.memory);
    for (const cb of [...this.callbacks, ...this.removedCallbacks.splice(0)]) koffi.unregister(cb);
    this.callbacks.clear();
  }
}
