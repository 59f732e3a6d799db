/** Errors raised by the emulator layer. Each says what happened and, where it can, what to do. */

/** The native Unicorn library could not be found or loaded. */
export class EngineUnavailableError extends Error {
  override name = 'EngineUnavailableError';
}

/** A Unicorn API call failed outside of guest execution (bad mapping, bad argument). */
export class EngineError extends Error {
  override name = 'EngineError';
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** `0x7ffff7e8ad7d in memcpy+0xd (/lib/…/libc.so.6)`: a program counter and, when known, the code it is in. */
function codeLocation(pc: number, where: string | undefined): string {
  return `0x${pc.toString(16)}${where ? ` in ${where}` : ''}`;
}

/** A snapshot of the guest's general-purpose registers, for error reports. */
export type RegisterDump = Record<string, string>;

/** The guest faulted (unmapped or protected memory, invalid instruction, unhandled CPU exception). */
export class GuestFault extends Error {
  override name = 'GuestFault';
  /** For kind EXCEPTION: the CPU exception vector (0 #DE, 3 int3, 6 #UD, 13 #GP, …), which picks the signal. */
  vector: number | undefined;
  constructor(
    /** What went wrong, without the location (e.g. "invalid memory read (unmapped) of 8 bytes at 0x20"). */
    readonly what: string,
    /** Unicorn's error kind, e.g. READ_UNMAPPED. */
    readonly kind: string,
    /** The program counter when the fault happened. */
    readonly pc: number,
    /** The faulting data address, for memory faults (undefined when Unicorn does not report one). */
    readonly address: number | undefined,
    readonly registers: RegisterDump,
    /** `symbol+0xoff (object)` for the program counter, when known. */
    public where?: string,
  ) {
    super('');
    this.locate(where);
  }

  /** Names the code that faulted (`memcpy+0xd (/lib/…/libc.so.6)`, the nearest symbol) in the message. */
  locate(where: string | undefined): void {
    this.where = where;
    this.message = `guest fault at pc ${codeLocation(this.pc, where)}: ${this.what}`;
  }
}

/** The guest ran longer than its instruction budget allowed (a runaway loop or a too-small budget). */
export class BudgetExceededError extends Error {
  override name = 'BudgetExceededError';
  constructor(
    readonly budget: number,
    readonly pc: number,
    public where?: string,
  ) {
    super('');
    this.locate(where);
  }

  locate(where: string | undefined): void {
    this.where = where;
    this.message =
      `the guest ran more than its budget of ${this.budget} instructions (stopped at ${codeLocation(this.pc, where)}); ` +
      'it may be looping: raise the budget (--budget N) if the call is just long';
  }
}
