/**
 * The playground's machines. One booted Machine per (profile, arch), booted lazily and reused:
 *   default  libc + libpcap, checking and the TLS watch on;
 *   abi      the same plus the ABI test fixtures (fixtures/abi: libabi-targets.so, libabi-callees.so,
 *            libabi-shims.so — deliberately broken shims and their correct twins; fixtures/abi/lessons:
 *            liblessons.so — gcc-compiled callees of the calling-convention lessons);
 *   threads  libc + libpcap with one guest thread started the fakecgo way (calls with `thread: true` run on it;
 *            kept apart so that the other machines stay single-threaded, as glibc behaves differently once a
 *            second thread exists).
 * Calls on one machine run one at a time (a promise queue per machine). A machine whose guest run failed
 * (fault, budget, trace limit) is discarded and booted again on the next request, so its state cannot leak; so is one
 * whose recordings have grown it too much (recycle.ts).
 */
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Arch } from '../emu/arch.ts';
import { CallSpecError } from '../callspec/classify.ts';
import { LayoutError } from '../callspec/layout.ts';
import { DeclarationError } from '../callspec/parse.ts';
import { ArgumentError, OutBuffer } from '../callspec/values.ts';
import { type GuestThreadHandle, Machine } from '../machine.ts';
import { SymbolNotFoundError } from '../loader/symbols.ts';
import type { CacheOption } from '../snapshot/image-cache.ts';
import { wornOut } from './recycle.ts';
import { PlaygroundError } from './request.ts';
import { uploads } from './upload-store.ts';

export const ARCHES: readonly Arch[] = ['amd64', 'i386'];
export const LIBRARIES = ['libc.so.6', 'libpcap.so.0.8'] as const;
/** The ABI test fixtures a call may name as its library (they live on the `abi` machines). */
export const TEST_LIBRARIES = ['libabi-targets.so', 'libabi-callees.so', 'libabi-shims.so', 'liblessons.so'] as const;

const CALL_BUDGET = 2_000_000;
/** Bytes a playground guest may write to stdout + stderr per machine: a flood stops here, not in the server's memory. */
export const PLAYGROUND_OUTPUT_LIMIT = 1 << 20;
/** Bytes of guest mappings per machine (beyond it mmap answers ENOMEM): ample for any libc call, far below the host's RAM. */
export const PLAYGROUND_MEMORY_LIMIT = 1 << 30;
/** The limits every playground machine boots with. */
const LIMITS = { callBudget: CALL_BUDGET, outputLimit: PLAYGROUND_OUTPUT_LIMIT, memoryLimit: PLAYGROUND_MEMORY_LIMIT };
/** The boot image cache this process's machines use (the server's `--cache-dir` / `--no-cache`; default: the default). */
let bootCache: CacheOption | undefined;

export function setBootCache(option: CacheOption | undefined): void {
  bootCache = option;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export type Profile = 'default' | 'abi' | 'threads' | `upload:${string}`;

interface Slot {
  machine?: Machine;
  /** The worker thread of a `threads` machine. */
  thread?: GuestThreadHandle;
  queue: Promise<unknown>;
}

/** By (profile, arch), least recently used first. */
const slots = new Map<string, Slot>();
/** Machines one process keeps booted (each holds a whole glibc process, ~20–65 MiB resident plus at most ~32 MiB of
 * translated code, recycle.ts: `npm run bench`): the least recently used beyond this is closed, so that many uploads
 * or profiles cannot grow a server or worker without end. Six: the five the lessons use (libc + libpcap on both
 * architectures, the ABI fixtures on both, the guest thread on amd64) and one upload, so that recording lessons
 * does not evict the machines students call. */
export const MAX_BOOTED_MACHINES = 6;

/** Closes a slot's machine once the tasks already queued on it are done. */
function retireSlot(slot: Slot): void {
  void slot.queue.then(() => {
    slot.machine?.close();
    slot.machine = undefined;
  });
}

/** The slot for `key`, now the most recently used; evicts the least recently used beyond MAX_BOOTED_MACHINES. */
function slotFor(key: string): Slot {
  const slot = slots.get(key) ?? { queue: Promise.resolve() };
  slots.delete(key);
  slots.set(key, slot);
  while (slots.size > MAX_BOOTED_MACHINES) {
    const [oldest, evicted] = slots.entries().next().value!;
    slots.delete(oldest);
    retireSlot(evicted);
  }
  return slot;
}

function abiFixture(arch: Arch, name: string): string {
  return `${ROOT}fixtures/abi/libabi-${name}-${arch}.so`;
}

let abiDecls: string | undefined;
function abiDeclarations(): string {
  abiDecls ??= (JSON.parse(readFileSync(`${ROOT}fixtures/abi/manifest.json`, 'utf8')) as { decls: string }).decls;
  return abiDecls;
}

async function bootMachine(profile: Profile, arch: Arch): Promise<{ machine: Machine; thread?: GuestThreadHandle }> {
  if (profile.startsWith('upload:')) {
    const upload = uploads.get(profile.slice('upload:'.length));
    if (!upload) throw new PlaygroundError('the uploaded object is gone (the server keeps the latest uploads only): upload it again');
    const machine = await Machine.boot({ arch, libs: [upload.path], check: true, watchTls: true, cache: bootCache, ...LIMITS });
    machine.tlsLayout();
    return { machine };
  }
  const libs = ['libpcap.so.0.8'];
  if (profile === 'abi') libs.push(...['targets', 'callees', 'shims'].map((n) => abiFixture(arch, n)), `${ROOT}fixtures/abi/lessons/liblessons-${arch}.so`);
  const machine = await Machine.boot({
    arch, libs, check: true, watchTls: true, cache: bootCache, ...LIMITS, decls: profile === 'abi' ? abiDeclarations() : undefined,
  });
  // Warm up: the first instrumented call computes the TLS layout (through dlinfo) and resolves IFUNCs; done here,
  // it does not show up in the first recording.
  machine.tlsLayout();
  machine.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)')(new OutBuffer(16), 16, 'warm-up');
  machine.takeOutput();
  let thread: GuestThreadHandle | undefined;
  if (profile === 'threads') {
    thread = machine.startThread({ detached: true });
    const self = machine.onThread(thread).fn('libc.so.6', 'unsigned long pthread_self(void)');
    self();
    machine.takeOutput();
  }
  return { machine, thread };
}

/** Runs `task` on the (profile, arch) machine, after every earlier task on it; boots the machine first if needed. */
export function onMachine<T>(profile: Profile, arch: Arch, task: (machine: Machine, thread: GuestThreadHandle | undefined) => T): Promise<T> {
  const s = slotFor(`${profile}:${arch}`);
  const run = async () => {
    if (!s.machine) {
      const booted = await bootMachine(profile, arch);
      s.machine = booted.machine;
      s.thread = booted.thread;
    }
    const machine = s.machine;
    const discard = () => {
      try {
        machine.close();
      } catch {
        /* already broken */
      }
      s.machine = undefined;
      s.thread = undefined;
    };
    try {
      const result = task(machine, s.thread);
      if (wornOut(machine)) discard();
      return result;
    } catch (error) {
      // The guest stopped somewhere in the middle: its heap or locks may be inconsistent. Start afresh next time.
      if (!keepsMachine(error)) discard();
      throw error;
    }
  };
  const result = s.queue.then(run, run);
  s.queue = result.catch(() => undefined);
  return result;
}

/** Closes the machines of `profile` (on every architecture) once the tasks already queued on them are done. */
export function retireMachines(profile: Profile): void {
  for (const arch of ARCHES) {
    const key = `${profile}:${arch}`;
    const slot = slots.get(key);
    if (!slot) continue;
    slots.delete(key);
    retireSlot(slot);
  }
}

/** Errors raised before the guest ran (bad prototype, arguments, unknown symbol): the machine is still fine. */
export function keepsMachine(error: unknown): boolean {
  return [PlaygroundError, ArgumentError, DeclarationError, CallSpecError, LayoutError, SymbolNotFoundError].some((kind) => error instanceof kind);
}

/** Closes every booted machine (the next request boots them again). */
export async function closeMachines(): Promise<void> {
  const pending = [...slots.values()];
  slots.clear();
  for (const upload of uploads.values()) rmSync(upload.dir, { recursive: true, force: true });
  uploads.clear();
  for (const slot of pending) {
    await slot.queue;
    slot.machine?.close();
    slot.machine = undefined;
  }
}
