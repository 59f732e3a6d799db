/** Which errors are the user's to fix (printed as one message), and how they are shown. */
import { ArgumentError } from '../callspec/values.ts';
import { CallSpecError } from '../callspec/classify.ts';
import { DeclarationError } from '../callspec/parse.ts';
import { LayoutError } from '../callspec/layout.ts';
import { BudgetExceededError, EngineUnavailableError, GuestFault } from '../emu/errors.ts';
import { GuestExit, OutputLimitError } from '../kernel/kernel.ts';
import { GuestDeadlockError } from '../kernel/threads.ts';
import { ElfError } from '../loader/elf.ts';
import { FixtureError } from '../loader/fixtures.ts';
import { LoaderError } from '../loader/process.ts';
import { WallTimeoutError } from '../loader/limits.ts';
import { SymbolNotFoundError } from '../loader/symbols.ts';
import { DlopenError, MachineExitedError, UnknownLibraryError } from '../machine.ts';
import { UsageError } from './call.ts';
import { CommandLineFileError } from './files.ts';
import { formatViolations } from '../check/report.ts';
import type { AbiReport } from '../check/rules.ts';

const USER_ERRORS = [
  UsageError, ArgumentError, CallSpecError, DeclarationError, LayoutError, BudgetExceededError, EngineUnavailableError,
  GuestFault, GuestDeadlockError, GuestExit, ElfError, FixtureError, LoaderError, SymbolNotFoundError, DlopenError,
  UnknownLibraryError, MachineExitedError, OutputLimitError, CommandLineFileError, WallTimeoutError,
];

export function isUserError(error: unknown): error is Error {
  return USER_ERRORS.some((kind) => error instanceof kind) || (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/** One message; for guest faults, the registers on a second line; with --check, the violations that led there. */
export function formatError(error: Error): string {
  let text = error.message;
  if (error instanceof GuestFault) {
    text += `\n  registers: ${Object.entries(error.registers).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  }
  const abi = (error as { abi?: AbiReport }).abi;
  if (abi && abi.violations.length > 0) text += `\n  ABI violations before it:\n${formatViolations(abi.violations, '    ')}`;
  return text;
}
