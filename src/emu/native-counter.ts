/**
 * The native block counter: native/shimcount.c, built by scripts/setup.mjs into build/native/ when a C compiler
 * is present, loaded here through koffi. Its block hook counts, and stops at the budget and quantum, in C; it
 * calls JavaScript only on a block's first sight (the engine scans it for rdtsc and asks Unicorn for its count),
 * while block observers watch, and to stop the engine. The counters it shares with JavaScript (count, limits,
 * stop reason, observing) live in its own memory, which JavaScript reads and writes in place through koffi.view.
 *
 * The helper never calls Unicorn (stopping goes through a JavaScript callback, once per run at most): it needs no
 * Unicorn headers or link, and cannot bind to a different libunicorn than the one koffi loaded.
 */
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import koffi from 'koffi';
import {
  type BlockCounter, type BlockHook, type CounterHost, type CounterSet, type CountingChoice, type CountingInfo, JsBlockCounter, type StopReason,
} from './block-counter.ts';
import { ensureHelperBuild, type HelperBuild } from './native-build.ts';

/** Turns the helper off (`0`), or names the file to load instead of the built one. */
export const NATIVE_ENV = 'SHIMULATOR_NATIVE';

const LIBRARY_NAME = process.platform === 'darwin' ? 'libshimcount.dylib' : 'libshimcount.so';

/** Where scripts/setup.mjs builds the helper (build/native/ in the package root). */
export const BUILT_HELPER = fileURLToPath(new URL(`../../build/native/${LIBRARY_NAME}`, import.meta.url));

/** SHIM_COUNT_VERSION in native/shimcount.c: a helper built from other source is not used (rebuild it). */
const HELPER_VERSION = 3;
/** The shared part of the C state (shim_shared): three doubles, two int32s, then a double. */
const COUNT_INDEX = 0;
const BUDGET_INDEX = 1;
const QUANTUM_INDEX = 2;
const REASON_INDEX = 6; // int32 index: byte 24
const OBSERVING_INDEX = 7; // int32 index: byte 28
const LAST_BLOCK_INDEX = 4; // double index: byte 32
const SHARED_BYTES = 40;

/** The C stop reasons (STOP_NONE … STOP_QUANTUM). */
const REASONS: (StopReason | undefined)[] = [undefined, 'stopped', 'budget', 'quantum'];
const REASON_CODE: Record<StopReason, number> = { stopped: 1, budget: 2, quantum: 3 };

/** Native counting was insisted on (counting: 'native') but the helper cannot be used; the message says why. */
export class NativeCounterUnavailableError extends Error {
  override name = 'NativeCounterUnavailableError';
}

interface Helper {
  hookAddress: unknown;
  create: koffi.KoffiFunction;
  forget: koffi.KoffiFunction;
  blocks: koffi.KoffiFunction;
  free: koffi.KoffiFunction;
  setNew: koffi.KoffiFunction;
  setAdd: koffi.KoffiFunction;
  setRemove: koffi.KoffiFunction;
  setFree: koffi.KoffiFunction;
  watch: koffi.KoffiFunction;
  firstSightProto: koffi.IKoffiCType;
  observeProto: koffi.IKoffiCType;
  stopProto: koffi.IKoffiCType;
}

let protos: { firstSight: koffi.IKoffiCType; observe: koffi.IKoffiCType; stop: koffi.IKoffiCType } | undefined;
const helpers = new Map<string, Helper | string>();

/** The path to load: $SHIMULATOR_NATIVE when it names one, else the built helper; undefined when turned off. */
export function helperPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const setting = env[NATIVE_ENV];
  if (setting === '0') return undefined;
  return setting && setting !== '1' ? setting : BUILT_HELPER;
}

function bind(path: string): Helper {
  const lib = koffi.load(path);
  const version = lib.func('uint32_t shim_count_version(void)')() as number;
  const sharedSize = lib.func('uint32_t shim_count_shared_size(void)')() as number;
  if (version !== HELPER_VERSION || sharedSize !== SHARED_BYTES) {
    throw new Error(`it was built from another version of native/shimcount.c (${version}, this code needs ${HELPER_VERSION}): rebuild it with \`node scripts/setup.mjs\``);
  }
  protos ??= {
    firstSight: koffi.proto('int32_t shim_first_sight_cb(uint64_t address, uint32_t size)'),
    observe: koffi.proto('void shim_observe_cb(uint64_t address, uint32_t size)'),
    stop: koffi.proto('void shim_stop_cb(void)'),
  };
  return {
    hookAddress: lib.func('void *shim_count_hook(void)')(),
    create: lib.func('void *shim_count_new(void *firstSight, void *observe, void *stop)'),
    forget: lib.func('void shim_count_forget(void *state, uint64_t low, uint64_t high)'),
    blocks: lib.func('uint32_t shim_count_blocks(void *state)'),
    free: lib.func('void shim_count_free(void *state)'),
    setNew: lib.func('void *shim_set_new(void)'),
    setAdd: lib.func('int32_t shim_set_add(void *set, uint64_t address)'),
    setRemove: lib.func('void shim_set_remove(void *set, uint64_t address)'),
    setFree: lib.func('void shim_set_free(void *set)'),
    watch: lib.func('int32_t shim_count_watch(void *state, void *set, int32_t on)'),
    firstSightProto: protos.firstSight,
    observeProto: protos.observe,
    stopProto: protos.stop,
  };
}

/**
 * Loads the helper at `path` once per process: the binding, or a sentence saying why it cannot be used. When the
 * set-up build (BUILT_HELPER) is missing — an installed package has none — the helper is built on first use into
 * the cache directory instead (native-build.ts); `build` stands in for that step in tests.
 */
export function loadHelper(path: string, build: () => HelperBuild = ensureHelperBuild): Helper | string {
  let helper = helpers.get(path);
  if (helper === undefined) {
    if (path === BUILT_HELPER && !existsSync(path)) {
      helper = loadBuiltOnUse(build);
    } else if (!existsSync(path)) {
      helper = `${path} does not exist (it is built by \`node scripts/setup.mjs\` when a C compiler is present)`;
    } else {
      helper = bindOrExplain(path);
    }
    helpers.set(path, helper);
  }
  return helper;
}

function bindOrExplain(path: string): Helper | string {
  try {
    return bind(path);
  } catch (error) {
    return `${path} could not be loaded: ${(error as Error).message.split('\n')[0]}`;
  }
}

/**
 * The helper built in the cache, verified by loading it: a file that does not load (a damaged cache) is removed
 * and built again once; a fresh build that does not load is removed and reported.
 */
function loadBuiltOnUse(build: () => HelperBuild): Helper | string {
  for (let attempt = 0; ; attempt++) {
    const made = build();
    if ('reason' in made) return `not built by the set-up step, and ${made.reason}`;
    const helper = bindOrExplain(made.path);
    if (typeof helper !== 'string') return helper;
    rmSync(made.path, { force: true });
    if (made.built || attempt > 0) return helper;
  }
}

export class NativeBlockCounter implements BlockCounter {
  readonly mode = 'native';
  readonly hook: BlockHook;
  private readonly state: unknown;
  /** Views of the helper's shared state (after `close`: copies, so that late reads never touch freed memory). */
  private numbers: Float64Array;
  private flags: Int32Array;
  private readonly callbacks: koffi.IKoffiRegisteredCallback[];
  /** The address sets made for this counter, freed with it. */
  private readonly sets: NativeCounterSet[] = [];
  private closed = false;

  constructor(
    private readonly helper: Helper,
    host: CounterHost,
  ) {
    // uint64 parameters arrive as numbers below 2^53 and as bigints above (no x86 code lives that high).
    const firstSight = (address: number | bigint, size: number) => host.firstSight(Number(address), size) ?? -1;
    const observe = (address: number | bigint, size: number) => host.observe(Number(address), size);
    this.callbacks = [
      koffi.register(firstSight, koffi.pointer(helper.firstSightProto)),
      koffi.register(observe, koffi.pointer(helper.observeProto)),
      koffi.register(() => host.stopEngine(), koffi.pointer(helper.stopProto)),
    ];
    const state: unknown = helper.create(...this.callbacks);
    if (state === null) throw new NativeCounterUnavailableError('the native block counter could not allocate its state');
    this.state = state;
    const shared = koffi.view(state, SHARED_BYTES);
    this.numbers = new Float64Array(shared, 0, SHARED_BYTES / 8);
    this.flags = new Int32Array(shared, 0, SHARED_BYTES / 4);
    this.hook = { kind: 'native', callback: helper.hookAddress, userData: state };
  }

  begin(budget: number, quantum: number): void {
    this.numbers[COUNT_INDEX] = 0;
    this.numbers[BUDGET_INDEX] = budget;
    this.numbers[QUANTUM_INDEX] = quantum;
    this.flags[REASON_INDEX] = 0;
  }

  get instructions(): number {
    return this.numbers[COUNT_INDEX]!;
  }

  get reason(): StopReason | undefined {
    return REASONS[this.flags[REASON_INDEX]!];
  }

  get lastBlock(): number {
    return this.numbers[LAST_BLOCK_INDEX]!;
  }

  stop(): void {
    if (this.flags[REASON_INDEX] === 0) this.flags[REASON_INDEX] = REASON_CODE.stopped;
  }

  get observing(): boolean {
    return this.flags[OBSERVING_INDEX] !== 0;
  }

  set observing(on: boolean) {
    this.flags[OBSERVING_INDEX] = on ? 1 : 0;
  }

  newSet(): CounterSet {
    const pointer: unknown = this.helper.setNew();
    if (pointer === null) throw new NativeCounterUnavailableError('the native block counter could not allocate an address set');
    const set = new NativeCounterSet(this.helper, pointer);
    this.sets.push(set);
    return set;
  }

  watch(set: CounterSet, on: boolean): boolean {
    return this.helper.watch(this.state, (set as NativeCounterSet).pointer, on ? 1 : 0) !== 0;
  }

  forget(low: number, high: number): void {
    this.helper.forget(this.state, Math.max(0, low), high);
  }

  get blocks(): number {
    return this.helper.blocks(this.state) as number;
  }

  /** After the engine is closed (its hook must never run again). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.numbers = this.numbers.slice();
    this.flags = this.flags.slice();
    this.helper.free(this.state);
    for (const set of this.sets) set.free();
    for (const cb of this.callbacks) koffi.unregister(cb);
  }
}

/** An address set in the helper's memory (shim_set_*); after `free` it ignores changes (the engine is closed). */
class NativeCounterSet implements CounterSet {
  private freed = false;

  constructor(
    private readonly helper: Helper,
    readonly pointer: unknown,
  ) {}

  add(address: number): boolean {
    return this.freed || this.helper.setAdd(this.pointer, address) !== 0;
  }

  delete(address: number): void {
    if (!this.freed) this.helper.setRemove(this.pointer, address);
  }

  free(): void {
    if (this.freed) return;
    this.freed = true;
    this.helper.setFree(this.pointer);
  }
}

/**
 * The counter for `choice`: 'auto' takes the native helper at `path` (undefined: turned off) when it loads, else
 * the JavaScript one;
 * 'native' throws NativeCounterUnavailableError when it cannot; 'js' always takes the JavaScript one.
 */
export function createBlockCounter(
  choice: CountingChoice, host: CounterHost, path: string | undefined,
): { counter: BlockCounter; info: CountingInfo } {
  if (choice === 'js') return { counter: new JsBlockCounter(host), info: { mode: 'js', fallback: 'JavaScript counting was asked for' } };
  const helper = path === undefined ? `turned off by ${NATIVE_ENV}=0` : loadHelper(path);
  if (typeof helper !== 'string') return { counter: new NativeBlockCounter(helper, host), info: { mode: 'native' } };
  if (choice === 'native') throw new NativeCounterUnavailableError(`the native block counter is unavailable: ${helper}`);
  return { counter: new JsBlockCounter(host), info: { mode: 'js', fallback: helper } };
}

/** One line for people: which counter, and why not the native one. */
export function describeCounting(info: CountingInfo): string {
  return info.mode === 'native' ? 'native (the helper built from native/shimcount.c)' : `JavaScript (${info.fallback})`;
}
