/**
 * Saved CPU contexts of a Unicorn engine (`uc_context_*`): save and restore, their bytes for snapshots and boot
 * images, and writing one register straight into a saved context (the host call path sets the stack pointer of
 * the call context this way, without a native call per call). With unicorn.ts the only code that knows a
 * uc_context's layout: a 16-byte header (size_t context_size, int mode, int arch; Unicorn 2.0.1), then the CPU
 * state, whose layout is Unicorn's business — a register's slot in it is found by probing, never assumed.
 */
import koffi from 'koffi';
import type { Arch } from './arch.ts';
import type { RegName, SavedContext } from './engine.ts';
import { EngineError } from './errors.ts';
import type { Native } from './unicorn-native.ts';
import { UC_ERR } from './unicorn-ids.ts';

/** Bytes of a uc_context's header before the CPU state. */
const UC_CONTEXT_HEADER_BYTES = 16;
/** Values written to find, then to check, where a register sits in a saved context (see `registerWriter`). */
const CONTEXT_MARKER = 0x5a17_c0de_2bad_f00dn;
const CONTEXT_CHECK = 0x1d2c_3b4a_5968_7786n;
const TWO_32 = 2 ** 32;

class UnicornContext implements SavedContext {
  private freed = false;
  private memory: DataView | undefined;

  constructor(
    readonly arch: Arch,
    readonly handle: unknown,
    private readonly owner: Native,
  ) {}

  free(): void {
    if (!this.freed) this.owner.uc_context_free(this.handle);
    this.freed = true;
    this.memory = undefined;
  }

  /** The context's own bytes (header and CPU state), viewed in place; never after `free`. */
  bytes(): DataView {
    if (this.freed) throw new EngineError('the saved CPU context was freed', UC_ERR.ARG);
    if (!this.memory) {
      const size = Number(new DataView(koffi.view(this.handle, UC_CONTEXT_HEADER_BYTES)).getBigUint64(0, true));
      this.memory = new DataView(koffi.view(this.handle, UC_CONTEXT_HEADER_BYTES + size));
    }
    return this.memory;
  }
}

/** What the contexts need of their engine. */
export interface ContextEngine {
  readonly arch: Arch;
  reg(name: RegName): bigint;
  setReg(name: RegName, value: bigint | number): void;
  /** Throws for a failed Unicorn call. */
  check(rc: number, what: string): void;
}

/** The saved contexts of one engine. */
export class UnicornContexts {
  /** Byte offsets of registers in a saved context (null: not found), see `registerWriter`. */
  private readonly slots = new Map<RegName, number | null>();

  constructor(
    private readonly n: Native,
    private readonly uc: unknown,
    private readonly engine: ContextEngine,
  ) {}

  save(): SavedContext {
    const out: unknown[] = [null];
    this.engine.check(this.n.uc_context_alloc(this.uc, out), 'uc_context_alloc');
    this.engine.check(this.n.uc_context_save(this.uc, out[0]), 'uc_context_save');
    return new UnicornContext(this.engine.arch, out[0], this.n);
  }

  restore(context: SavedContext): void {
    this.engine.check(this.n.uc_context_restore(this.uc, (context as UnicornContext).handle), 'uc_context_restore');
  }

  /**
   * A writer of register `name` into `context`'s bytes. The slot is found once per register: the register is set
   * to a marker and saved, the marker's one occurrence in the context's bytes is its slot, and writing another
   * value there and restoring must read it back. Anything unexpected: no writer.
   */
  registerWriter(context: SavedContext, name: RegName): ((value: number) => void) | undefined {
    let slot = this.slots.get(name);
    if (slot === undefined) this.slots.set(name, (slot = this.findSlot(name)));
    if (slot === null) return undefined;
    const target = context as UnicornContext;
    const at = slot;
    return (value) => {
      const memory = target.bytes();
      memory.setUint32(at, value % TWO_32, true);
      memory.setUint32(at + 4, Math.floor(value / TWO_32), true);
    };
  }

  private findSlot(name: RegName): number | null {
    const live = this.save() as UnicornContext;
    const probe = this.save() as UnicornContext;
    try {
      this.engine.setReg(name, CONTEXT_MARKER);
      this.engine.check(this.n.uc_context_save(this.uc, probe.handle), 'uc_context_save');
      const bytes = probe.bytes();
      const found: number[] = [];
      for (let at = UC_CONTEXT_HEADER_BYTES; at + 8 <= bytes.byteLength; at++) if (bytes.getBigUint64(at, true) === CONTEXT_MARKER) found.push(at);
      if (found.length !== 1) return null;
      bytes.setBigUint64(found[0]!, CONTEXT_CHECK, true);
      this.restore(probe);
      return this.engine.reg(name) === CONTEXT_CHECK ? found[0]! : null;
    } finally {
      this.restore(live);
      live.free();
      probe.free();
    }
  }

  export(context: SavedContext): Uint8Array {
    const size = Number(this.n.uc_context_size(this.uc));
    return Uint8Array.from(new Uint8Array(koffi.view((context as UnicornContext).handle as never, size)));
  }

  import(bytes: Uint8Array): SavedContext {
    const context = this.save() as UnicornContext;
    const target = new Uint8Array(koffi.view(context.handle as never, Number(this.n.uc_context_size(this.uc))));
    // The header (context size, mode, arch) must be this engine's: anything else is another build or architecture.
    if (bytes.length !== target.length || !target.subarray(0, UC_CONTEXT_HEADER_BYTES).every((b, i) => b === bytes[i])) {
      context.free();
      throw new EngineError(`a saved CPU context of ${bytes.length} bytes does not fit this ${this.engine.arch} engine (${target.length} bytes)`, UC_ERR.ARG);
    }
    target.set(bytes);
    return context;
  }
}
