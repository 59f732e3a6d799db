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

/** A snapshot of the guest's general-purpose registers, for error reports. */
export type RegisterDump = Record<string, string>;

/** The guest faulted (unmapped or protected memory, invalid instruction, unhandled CPU exception). */
export class GuestFault extends Error {
  override name = 'GuestFault';
  constructor(
    message: string,
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
    super(message);
  }
}

/** The guest ran longer than its instruction budget allowed (a runaway loop or a too-small budget). */
export class BudgetExceededError extends Error {
  override name = 'BudgetExceededError';
  constructor(
    message: string,
    readonly budget: number,
    readonly pc: number,
    public where?: string,
  ) {
    super(message);
  }
}
