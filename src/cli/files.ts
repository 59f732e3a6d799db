/**
 * Files named on the command line. A missing file, a directory or unreadable text is one clear message naming the
 * option and the path — not Node's bare `ENOENT`/`EISDIR` text or its stack trace.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';

/** A file given on the command line cannot be read or written. */
export class CommandLineFileError extends Error {
  override name = 'CommandLineFileError';
}

/** Why a file operation failed, in words (errno codes people meet on the command line). */
function fileProblem(error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return (error as Error).message;
  }
}

/** The contents of an input file (`what`: the option that named it, e.g. `--batch`). */
export function readInputFile(path: string, what: string): Uint8Array {
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new CommandLineFileError(`${what} ${path}: ${fileProblem(error)}`);
  }
}

/** An input file as UTF-8 text; anything else is refused rather than silently changed. */
export function readInputText(path: string, what: string): string {
  const bytes = readInputFile(path, what);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new CommandLineFileError(`${what} ${path}: not UTF-8 text`);
  }
}

/** Writes an output file (`what`: the option that named it, e.g. `--trace`). */
export function writeOutputFile(path: string, what: string, bytes: Uint8Array | string): void {
  try {
    writeFileSync(path, bytes);
  } catch (error) {
    throw new CommandLineFileError(`${what} ${path}: cannot write it: ${fileProblem(error)}`);
  }
}

