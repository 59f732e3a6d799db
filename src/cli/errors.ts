/** Which errors are the user's to fix (printed as one message), and how they are shown. */
import { ArgumentError } from '../callspec/values.ts';
import { CallSpecError } from '../callspec/classify.ts';
import { DeclarationError } from '../callspec/parse.ts';
import { LayoutError } from '../callspec/layout.ts';
import { BudgetExceededError, EngineUnavailableError, GuestFault } from '../emu/errors.ts';
import { GuestBlockedError, GuestExit } from '../kernel/kernel.ts';
import { ElfError } from '../loader/elf.ts';
import { FixtureError } from '../loader/fixtures.ts';
import { LoaderError } from '../loader/process.ts';
import { SymbolNotFoundError } from '../loader/symbols.ts';
import { DlopenError, UnknownLibraryError } from '../machine.ts';
import { UsageError } from './call.ts';

const USER_ERRORS = [
  UsageError, ArgumentError, CallSpecError, DeclarationError, LayoutError, BudgetExceededError, EngineUnavailableError,
  GuestFault, GuestBlockedError, GuestExit, ElfError, FixtureError, LoaderError, SymbolNotFoundError, DlopenError,
  UnknownLibraryError, RangeError,
];

export function isUserError(error: unknown): error is Error {
  return USER_ERRORS.some((kind) => error instanceof kind) || (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** One message; for guest faults, the registers on a second line. */
export function formatError(error: Error): string {
  if (error instanceof GuestFault) {
    const regs = Object.entries(error.registers).map(([k, v]) => `${k}=${v}`).join(' ');
    return `${error.message}\n  registers: ${regs}`;
  }
  return error.message;
}
