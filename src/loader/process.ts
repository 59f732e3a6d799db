/**
 * Boots a guest process the way Linux execs one: maps the stub executable and its interpreter (the real ld.so),
 * builds the initial stack with argv/envp/auxv, and runs ld.so until the stub's `shimulator_ready` — by then ld.so
 * has loaded libc, applied relocations and IFUNCs, set up TLS and run the constructors, all by itself.
 */
import type { Arch } from '../emu/arch.ts';
import { multiarchTriplet } from '../emu/arch.ts';
import { virtualCpuid } from '../emu/cpuid.ts';
import type { CountingChoice } from '../emu/block-counter.ts';
import type { Engine, RunResult } from '../emu/engine.ts';
import { PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE } from '../emu/engine.ts';
import { GuestFault } from '../emu/errors.ts';
import { resetFpu } from '../emu/fpu.ts';
import { GlobalDescriptorTable } from '../emu/gdt.ts';
import { CALLBACK_TRAP_VECTOR } from '../callspec/callback.ts';
import { PARK_TRAP } from '../callspec/worker.ts';
import { UnicornEngine } from '../emu/unicorn.ts';
import { AddressSpace, PAGE_SIZE, pageDown, pageUp } from '../kernel/address-space.ts';
import { SeededRandom, VirtualClock } from '../kernel/clock.ts';
import { Kernel } from '../kernel/kernel.ts';
import type { OutputSink } from '../kernel/output.ts';
import { type GuestThread, ThreadTable } from '../kernel/threads.ts';
import { VirtualFileSystem } from '../kernel/vfs.ts';
import { AT_RANDOM_BYTES, buildInitialStack } from './auxv.ts';
import { type ElfFile, parseElf } from './elf.ts';
import { parseElfOnce } from './elf-cache.ts';
import type { CopiesOption } from './fixture-cache.ts';
import { fixtureEntries, isVerifiedFixture, loadFixture } from './fixtures.ts';
import { locate } from './symbols.ts';
import type { TimeLimits } from './limits.ts';
import { LoaderError } from './loader-error.ts';
import { Scheduler } from './scheduler.ts';

/** Where things go in the guest's address space, per architecture (close to what Linux picks, minus ASLR). */
export interface MemoryLayout {
  /** Load address of the (position-independent) stub executable. */
  exeBase: number;
  /** Top of the initial stack, and its size. */
  stackTop: number;
  stackSize: number;
  /** New mappings (ld.so first, then libraries, malloc arenas, thread stacks) are placed below this. */
  mmapTop: number;
  mmapFloor: number;
  /**
   * A host-owned page: returning here ends a call made by the host. The page below it is the guard page, which
   * stays unmapped: after every run Unicorn 2.0.1 drops the translated code at the stop address minus one (so the
   * block before it gets its exit re-checked), and that costs several µs per run when the page there is mapped
   * but nothing when it is not (`npm run bench` measures both).
   */
  trapPage: number;
  /** i386: the page holding the GDT. */
  gdtPage?: number;
}

const AMD64_MMAP_TOP = 0x7ffff7fff000;

export const LAYOUTS: Record<Arch, MemoryLayout> = {
  amd64: {
    exeBase: 0x555555554000,
    stackTop: 0x7ffffffde000 + 0x21000,
    stackSize: 8 * 1024 * 1024,
    mmapTop: AMD64_MMAP_TOP,
    mmapFloor: 0x10000000000,
    // Not on the stack top, where Linux has nothing (the page below would be the stack's): one guard page above the
    // mmap area, where the top-down search never places a mapping.
    trapPage: AMD64_MMAP_TOP + PAGE_SIZE,
  },
  i386: {
    exeBase: 0x56555000,
    stackTop: 0xffffd000,
    stackSize: 8 * 1024 * 1024,
    mmapTop: 0xf7fff000,
    mmapFloor: 0x60000000,
    trapPage: 0xffffe000, // the guard page below it is the one above the stack top
    gdtPage: 0xfffff000,
  },
};

/** `hlt`: the trap page's filler. Execution never really reaches it: the engine stops at its address. */
const HLT = 0xf4;
/** The interrupts the host's own code raises: a callback stub, a worker thread parking (see scheduler.ts). */
const HOST_TRAPS = { callback: CALLBACK_TRAP_VECTOR, park: PARK_TRAP };
const INT_SYSCALL_I386 = 0x80;
const PF_X = 1;
const PF_W = 2;
const PF_R = 4;
const PT_LOAD = 1;
const PT_PHDR = 6;

export const STUB_PATH = '/usr/bin/shimulator-stub';
export const STUB_READY_SYMBOL = 'shimulator_ready';
/** Where host libraries given by path (`--lib ./libshim.so`) are mounted in the guest. */
export const USER_LIB_DIR = '/opt/shimulator/lib';
const PID = 1000;
const TASK_COMM_LEN = 16;
const PT_GNU_STACK = 0x6474e551;

export const DEFAULT_BOOT_BUDGET = 50_000_000;

/** CPU exception vectors, named for fault messages. */
const EXCEPTION_NAMES: Record<number, string> = {
  0: 'divide error (#DE)', 1: 'debug trap', 3: 'breakpoint (int3)', 4: 'overflow (#OF)', 5: 'bound range (#BR)',
  6: 'invalid opcode (#UD)', 7: 'device not available (#NM)', 8: 'double fault', 13: 'general protection fault (#GP)',
  14: 'page fault (#PF)', 16: 'x87 floating-point error (#MF)', 17: 'alignment check (#AC)', 19: 'SIMD floating-point exception (#XM)',
};

/** Vectors 0–31 are the CPU's exceptions; from 32 on, only an `int N` instruction raises them in user space. */
const FIRST_SOFTWARE_VECTOR = 32;

/** What an interrupt the process has no handler for is: a CPU exception, or the guest's own `int N`. */
function interruptDescription(intno: number): string {
  const known = EXCEPTION_NAMES[intno];
  if (known) return `CPU exception: ${known}`;
  if (intno < FIRST_SOFTWARE_VECTOR) return `CPU exception: vector ${intno}`;
  return `unknown software interrupt int 0x${intno.toString(16)}: Linux has no handler for it (a real process gets SIGSEGV)`;
}

export { LoaderError };

export interface ProcessOptions {
  arch: Arch;
  /** Host shared objects to mount read-only in the guest (their guest paths are returned by `mountedLibraries`). */
  hostLibraries?: { path: string; bytes: Uint8Array }[];
  /** Seed for AT_RANDOM and getrandom (default 0). */
  seed?: number;
  /** Instruction budget for the boot (default 50M). */
  bootBudget?: number;
  /** Extra environment variables for the guest. */
  env?: Record<string, string>;
  /** Record every system call. */
  recordSyscalls?: boolean;
  /** Extra read-only files, by guest path. */
  files?: Record<string, Uint8Array>;
  /** Where bundled fixtures' uncompressed copies are kept (the cache directory; default its default, `false`: none). */
  fixtureCopies?: CopiesOption;
  /** The executable to exec instead of the stub (whole-program runs). */
  program?: ProgramImage;
  /** argv (default: the executable's path) and the environment as `NAME=value` strings (default: from `env`). */
  argv?: string[];
  envp?: string[];
  /**
   * Most bytes of accessible guest mappings at once (default DEFAULT_MEMORY_LIMIT: 4 GiB amd64, 3 GiB i386);
   * beyond it mmap, brk and mprotect fail with ENOMEM, so a guest cannot exhaust the host's memory.
   */
  memoryLimit?: number;
  /**
   * Most engine (QEMU) regions the guest's mappings may need (default MAX_ENGINE_REGIONS); beyond it mmap and mprotect
   * answer ENOMEM, like Linux at vm.max_map_count. Each engine region makes every later mapping change slower.
   */
  maxEngineRegions?: number;
  /** Output sinks and limits, passed to the Kernel (see KernelOptions). */
  stdout?: OutputSink;
  stderr?: OutputSink;
  outputLimit?: number;
  tmpLimit?: number;
  /** How the engine counts instructions (default 'auto': natively when the helper loads; see block-counter.ts). */
  counting?: CountingChoice;
  /** Host wall-clock seconds each host call (`run`, `runUntilHost`) may take; beyond it: WallTimeoutError. */
  callTimeoutSeconds?: number;
}

/** An executable to run: its bytes, mounted read-only in the guest at `guestPath` (its own absolute host path). */
export interface ProgramImage {
  guestPath: string;
  bytes: Uint8Array;
}

const GIB = 1024 ** 3;
export const DEFAULT_MEMORY_LIMIT: Record<Arch, number> = { amd64: 4 * GIB, i386: 3 * GIB };

export interface MappedObject {
  path: string;
  base: number;
  elf: ElfFile;
}

export class Process {
  readonly arch: Arch;
  readonly layout: MemoryLayout;
  readonly engine: Engine;
  readonly vfs: VirtualFileSystem;
  readonly space: AddressSpace;
  readonly kernel: Kernel;
  readonly threads: ThreadTable;
  readonly clock: VirtualClock;
  readonly gdt?: GlobalDescriptorTable;
  /** Guest instructions executed since boot began. */
  instructions = 0;
  readonly exe: MappedObject;
  /** The program interpreter (ld.so); absent for a statically linked program. */
  readonly interp: MappedObject | undefined;
  /** Where execution starts: ld.so's entry, or a static program's own. */
  readonly entry: number;
  /** Guest paths of the host libraries mounted with `hostLibraries`. */
  readonly mountedLibraries: string[] = [];
  /** Instructions the boot took (ld.so start to `shimulator_ready`). */
  bootInstructions = 0;
  /** Runs the threads: host calls, whole programs (see scheduler.ts). */
  readonly scheduler: Scheduler;
  private readonly elfCache = new Map<string, ElfFile>();

  /** `restoring`: a snapshot's state will replace memory and registers, so nothing is mapped or written here. */
  private constructor(options: ProcessOptions, restoring = false) {
    const arch = options.arch;
    this.arch = arch;
    this.layout = LAYOUTS[arch];
    const kernelRef: { k?: Kernel } = {};
    this.engine = new UnicornEngine(arch, {
      cpuid: virtualCpuid,
      syscall: arch === 'amd64' ? () => kernelRef.k!.handleSyscall() : undefined,
      interrupt: (intno) => this.onInterrupt(intno, kernelRef.k!),
      // Guest rdtsc/rdtscp read the virtual clock (the clock exists before the guest runs its first instruction).
      rdtsc: () => this.clock.timestampCounter(),
    }, { counting: options.counting });
    this.vfs = new VirtualFileSystem();
    this.space = new AddressSpace(this.engine, {
      mmapTop: this.layout.mmapTop,
      mmapFloor: this.layout.mmapFloor,
      memoryLimit: options.memoryLimit ?? DEFAULT_MEMORY_LIMIT[arch],
      maxEngineRegions: options.maxEngineRegions,
    });
    if (this.layout.gdtPage !== undefined) {
      this.gdt = new GlobalDescriptorTable(this.engine, this.layout.gdtPage);
      if (!restoring) {
        this.space.mapFixed(this.layout.gdtPage, PAGE_SIZE, PROT_READ | PROT_WRITE, '[gdt]');
        this.gdt.install();
      }
    }
    if (!restoring) {
      this.space.mapFixed(this.layout.trapPage, PAGE_SIZE, PROT_READ | PROT_EXEC, '[shimulator trap]');
      // Reserved without access (no engine region): hinted mmaps go elsewhere, and stops at the trap stay cheap.
      this.space.mapFixed(this.layout.trapPage - PAGE_SIZE, PAGE_SIZE, PROT_NONE, '[shimulator guard]');
      this.engine.write(this.layout.trapPage, new Uint8Array(PAGE_SIZE).fill(HLT));
    }

    this.mountFixtures(options.fixtureCopies);
    for (const lib of options.hostLibraries ?? []) this.mountHostLibrary(lib.path, lib.bytes);
    for (const [path, bytes] of Object.entries(options.files ?? {})) this.vfs.addBytes(path, bytes);

    const random = new SeededRandom(options.seed ?? 0);
    // During a run, its instructions so far count too; between runs they are already in `instructions`.
    this.clock = new VirtualClock(() => this.instructions + (this.scheduler.inRun ? this.engine.instructionsInRun : 0));
    this.threads = new ThreadTable(arch, this.engine, PID, (entry, descriptor) => this.gdt!.set(entry, descriptor));
    // Before the kernel, whose construction reads the clock (which asks the scheduler whether a run is on).
    const owner = this;
    this.scheduler = new Scheduler({
      engine: this.engine,
      get kernel() {
        return owner.kernel;
      },
      threads: this.threads,
      clock: this.clock,
      describeAddress: (address) => this.describeAddress(address),
      executed: (thread, instructions) => {
        this.instructions += instructions;
        this.threads.recordSlice(thread, instructions);
      },
    });
    this.scheduler.callTimeoutSeconds = options.callTimeoutSeconds;
    this.kernel = new Kernel({
      arch,
      engine: this.engine,
      vfs: this.vfs,
      space: this.space,
      clock: this.clock,
      threads: this.threads,
      random,
      gdt: this.gdt,
      pid: PID,
      exePath: STUB_PATH,
      record: options.recordSyscalls,
      stdout: options.stdout,
      stderr: options.stderr,
      outputLimit: options.outputLimit,
      tmpLimit: options.tmpLimit,
      overdue: () => this.scheduler.overdue(),
      log: process.env.SHIMULATOR_DEBUG?.includes('syscalls') ? (message) => process.stderr.write(`shimulator: ${message}\n`) : undefined,
    });
    kernelRef.k = this.kernel;

    const program = options.program;
    const exePath = program?.guestPath ?? STUB_PATH;
    if (program) this.mountProgram(program);
    const exeElf = this.elfAt(exePath);
    // ET_EXEC runs at its link addresses; a position-independent executable where Linux puts one (no ASLR).
    const exeBase = exeElf.type === 'EXEC' ? 0 : this.layout.exeBase;
    this.exe = { path: exePath, base: exeBase, elf: exeElf };
    if (!restoring) this.mapElf(this.exe);
    this.space.initBrk(this.exe.base + exeElf.loadSpan.end);
    if (exeElf.interp) {
      const interpElf = this.elfAt(exeElf.interp);
      const interpBase = this.layout.mmapTop - pageUp(interpElf.loadSpan.end - interpElf.loadSpan.start);
      this.interp = { path: exeElf.interp, base: interpBase - interpElf.loadSpan.start, elf: interpElf };
      if (!restoring) this.mapElf(this.interp);
    }
    this.kernel.options.exePath = exePath;
    this.kernel.threadName = exePath.split('/').pop()!.slice(0, TASK_COMM_LEN - 1);

    // Where the process starts: ld.so for a dynamically linked program, the program itself for a static one.
    this.entry = this.interp ? this.interp.base + this.interp.elf.entry : this.exe.base + exeElf.entry;
    if (restoring) return;
    const stackBottom = this.layout.stackTop - this.layout.stackSize;
    // PT_GNU_STACK absent or executable: Linux gives the process an executable stack (READ_IMPLIES_EXEC aside).
    const stackProt = PROT_READ | PROT_WRITE | (wantsExecutableStack(exeElf) ? PROT_EXEC : 0);
    this.space.mapFixed(stackBottom, this.layout.stackSize, stackProt, '[stack]');
    const stack = buildInitialStack(
      {
        arch,
        argv: options.argv ?? [exePath],
        envp: options.envp ?? Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
        execfn: exePath,
        platform: arch === 'amd64' ? 'x86_64' : 'i686',
        phdr: this.exe.base + phdrAddress(exeElf),
        phent: exeElf.phentsize,
        phnum: exeElf.phnum,
        interpBase: this.interp?.base ?? 0,
        entry: this.exe.base + exeElf.entry,
        hwcap: virtualCpuid(1, 0).edx,
        random: random.bytes(AT_RANDOM_BYTES),
        pageSize: PAGE_SIZE,
      },
      this.layout.stackTop,
    );
    this.engine.write(stack.sp, stack.bytes);
    this.engine.setReg(arch === 'amd64' ? 'rsp' : 'esp', stack.sp);
    resetFpu(this.engine);
  }

  /** Boots the stub (ld.so, libc, constructors) and stops at `shimulator_ready`, ready for host calls. */
  static boot(options: ProcessOptions): Process {
    const p = new Process(options);
    const ready = p.exe.elf.lookup(STUB_READY_SYMBOL);
    if (!ready) throw new LoaderError(`${p.exe.path} does not export ${STUB_READY_SYMBOL}: rebuild it with scripts/fixtures/build-stub.sh`);
    try {
      p.bootInstructions = p.run(p.entry, p.exe.base + ready.value, options.bootBudget ?? DEFAULT_BOOT_BUDGET).instructions;
    } catch (error) {
      if (error instanceof Error) error.message = `booting the ${p.arch} process failed: ${error.message}`;
      throw error;
    }
    return p;
  }

  /**
   * The process exec'd but not run: what a snapshot's state is applied to (src/snapshot), which replaces its
   * memory, registers and kernel state wholesale.
   */
  static create(options: ProcessOptions): Process {
    return new Process(options, true);
  }

  /**
   * Creates the process for a whole program, as execve does, without running it: see `runToExit`
   * (src/loader/program.ts runs it with limits and reports).
   */
  static exec(options: ProcessOptions & { program: ProgramImage }): Process {
    return new Process(options);
  }

  /**
   * Runs a host call on the current thread from `begin` until it returns to `until`, scheduling the process's
   * other threads deterministically meanwhile. Faults and exits become errors. `instructions` counts the calling
   * thread's own instructions.
   */
  run(begin: number, until: number, budget: number, lastBlock?: number): RunResult {
    return this.scheduler.run(begin, until, budget, lastBlock);
  }

  /**
   * Runs the scheduler until every thread in `waitFor` waits for the host again (workers that finished the work
   * they were given). Returns the instructions each of them executed meanwhile.
   */
  runUntilHost(waitFor: GuestThread[], until: number, budget: number): number[] {
    return this.scheduler.runUntilHost(waitFor, until, budget);
  }

  /**
   * Runs a whole program from its entry point until it exits (every thread's instructions count against `budget`).
   * Returns the exit; faults, budget, time limits and deadlocks are thrown as their typed errors.
   */
  runToExit(budget: number, limits: TimeLimits = {}): { status: number; signal?: number } {
    return this.scheduler.runToExit(this.entry, this.layout.trapPage, budget, limits);
  }

  /** Puts `thread` on the CPU (between host calls), e.g. the main thread before a host call on it. */
  activate(thread: GuestThread): void {
    this.threads.switchTo(thread);
  }

  /** Parses (once) the ELF file at a guest path. */
  elfAt(path: string): ElfFile {
    let elf = this.elfCache.get(path);
    if (!elf) {
      const node = this.vfs.lookup(path);
      if (!node || node.isDirectory) throw new LoaderError(`${path} is not in the guest file system`);
      // Bundled fixtures are verified against the manifest and known to parse: their tables are read on use.
      const bytes = node.contents();
      elf = parseElfOnce(bytes, path, { deferTables: isVerifiedFixture(bytes) });
      this.elfCache.set(path, elf);
    }
    return elf;
  }

  /** `symbol+0x12 (/lib/x86_64-linux-gnu/libc.so.6)` for a guest address, or a region label. */
  describeAddress(address: number, objects: MappedObject[] = this.loadedObjects()): string | undefined {
    const region = this.space.find(address);
    if (!region) return undefined;
    const located = locate(objects, address);
    if (located) return `${located.name}+0x${located.offset.toString(16)} (${located.object.path})`;
    for (const object of objects) {
      const span = object.elf.loadSpan;
      if (address >= object.base + span.start && address < object.base + span.end) {
        const offset = address - object.base;
        const near = object.elf.nearestSymbol(offset);
        return `${object.path}+0x${offset.toString(16)}${near ? ` (after ${near.symbol.name})` : ''}`;
      }
    }
    return region.label;
  }

  /** Objects known to be mapped: the stub and ld.so always, plus what `onObjects` adds (the link map, after boot). */
  loadedObjects(): MappedObject[] {
    return this.objectsProvider ? this.objectsProvider() : this.interp ? [this.exe, this.interp] : [this.exe];
  }

  /** Lets the symbol layer supply the live list of loaded objects (read from ld.so's link map). */
  objectsProvider: (() => MappedObject[]) | undefined;

  /** An `int n`: an i386 system call, one of the host's traps (the scheduler's), else a fault. */
  private onInterrupt(intno: number, kernel: Kernel): void {
    if (intno === INT_SYSCALL_I386 && this.arch === 'i386') {
      kernel.handleSyscall();
      return;
    }
    const pc = this.engine.pc();
    if (this.scheduler.trap(HOST_TRAPS, intno, pc)) return;
    const registers = (this.engine as UnicornEngine).dumpRegisters();
    const fault = new GuestFault(interruptDescription(intno), 'EXCEPTION', pc, undefined, registers);
    fault.vector = intno;
    throw fault;
  }

  private mountFixtures(copies: CopiesOption | undefined): void {
    for (const entry of fixtureEntries(this.arch)) {
      this.vfs.addFile(entry.guestPath, entry.size, () => loadFixture(entry, undefined, copies));
    }
  }

  private mountHostLibrary(hostPath: string, bytes: Uint8Array): void {
    const elf = parseElf(bytes, hostPath);
    if (elf.arch !== this.arch) {
      throw new LoaderError(`${hostPath} is an ${elf.arch} object, but the process is ${this.arch}: build it for ${this.arch} (gcc ${this.arch === 'i386' ? '-m32' : '-m64'}) or use --arch ${elf.arch}`);
    }
    if (elf.type !== 'DYN') throw new LoaderError(`${hostPath} is not a shared object (ELF type ${elf.type}); build it with -shared -fPIC`);
    const name = hostPath.split('/').pop()!;
    const guestPath = `${USER_LIB_DIR}/${name}`;
    this.vfs.addBytes(guestPath, bytes);
    this.elfCache.set(guestPath, elf);
    this.mountedLibraries.push(guestPath);
  }

  /** Mounts the program read-only at its own path and checks it is an executable this process can run. */
  private mountProgram(program: ProgramImage): void {
    const elf = parseElf(program.bytes, program.guestPath);
    if (elf.arch !== this.arch) {
      throw new LoaderError(`${program.guestPath} is an ${elf.arch} program, but --arch says ${this.arch}: drop --arch or use --arch ${elf.arch}`);
    }
    if (elf.type !== 'EXEC' && elf.type !== 'DYN') {
      throw new LoaderError(`${program.guestPath} is not an executable (ELF type ${elf.type})`);
    }
    this.vfs.addBytes(program.guestPath, program.bytes);
    this.elfCache.set(program.guestPath, elf);
  }

  /** Maps an ELF object's PT_LOAD segments at its base, like the kernel's load_elf_binary. */
  private mapElf(object: MappedObject): void {
    const { elf, base } = object;
    const span = elf.loadSpan;
    this.space.mapFixed(base + span.start, span.end - span.start, PROT_READ | PROT_WRITE | PROT_EXEC, object.path);
    const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
    for (const p of loads) {
      this.engine.write(base + p.vaddr, elf.bytes.subarray(p.offset, p.offset + p.filesz));
    }
    for (const p of loads) {
      const start = base + pageDown(p.vaddr);
      const end = base + pageUp(p.vaddr + p.memsz);
      this.space.protect(start, end - start, segmentProt(p.flags));
    }
  }

  /** Where the libraries of this architecture live in the guest. */
  get libraryDirectory(): string {
    return `/lib/${multiarchTriplet(this.arch)}`;
  }

  close(): void {
    this.engine.close();
    this.space.view.release(); // after the engine: its regions point into these reservations
  }
}

/** Linux makes the stack executable when PT_GNU_STACK is missing or asks for it (fs/binfmt_elf.c). */
function wantsExecutableStack(elf: ElfFile): boolean {
  const gnuStack = elf.programHeaders.find((p) => p.type === PT_GNU_STACK);
  return !gnuStack || (gnuStack.flags & PF_X) !== 0;
}

function segmentProt(flags: number): number {
  return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) | ((flags & PF_X) ? PROT_EXEC : 0);
}

/** The program headers' virtual address: PT_PHDR when present, else inside the first segment at e_phoff. */
function phdrAddress(elf: ElfFile): number {
  const phdr = elf.programHeaders.find((p) => p.type === PT_PHDR);
  if (phdr) return phdr.vaddr;
  const first = elf.programHeaders.find((p) => p.type === PT_LOAD && p.offset <= elf.phoff && elf.phoff < p.offset + p.filesz);
  if (!first) throw new LoaderError(`${elf.name}: program headers are not inside a loaded segment`);
  return first.vaddr + (elf.phoff - first.offset);
}
