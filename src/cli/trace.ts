/**
 * `shimulator trace FILE [--limit N]`: prints a recorded trace (see src/trace/format.ts) readably.
 * `writeTraceFile` writes one (what `shimulator call --trace FILE` uses).
 */
import { readFileSync } from 'node:fs';
import { writeOutputFile } from './files.ts';
import { loadDisassembler } from '../trace/disassemble.ts';
import { decodeTrace, encodeTrace, type Trace, TraceFormatError } from '../trace/format.ts';
import { printTrace } from '../trace/print.ts';

export const TRACE_USAGE = 'usage: shimulator trace FILE [--limit N]';

/** Writes the encoded trace to `path` (named by the option `what`); returns its size in bytes. */
export function writeTraceFile(path: string, trace: Trace, what = '--trace'): number {
  const bytes = encodeTrace(trace);
  writeOutputFile(path, what, bytes);
  return bytes.length;
}

/** Reads and decodes a trace file; throws TraceFormatError with the file name for anything unreadable. */
export function readTraceFile(path: string): Trace {
  return loadTraceFile(path).trace;
}

function loadTraceFile(path: string): { trace: Trace; size: number } {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (error as Error).message;
    throw new TraceFormatError(`cannot read trace file ${path}: ${why}`);
  }
  try {
    return { trace: decodeTrace(bytes), size: bytes.length };
  } catch (error) {
    if (error instanceof TraceFormatError) throw new TraceFormatError(`${path}: ${error.message}`);
    throw error;
  }
}

/**
 * Runs the command; returns the exit status (0, 1 for an unreadable or damaged file, 2 for usage errors).
 * Errors go to `writeError` (stderr by default) as one `shimulator: …` line.
 */
export async function runTraceCommand(
  argv: string[],
  write: (line: string) => void,
  writeError: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<number> {
  let file: string | undefined;
  let limit: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--limit') {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) {
        writeError(`shimulator: --limit needs a number of instructions\n${TRACE_USAGE}`);
        return 2;
      }
      limit = Number(v);
    } else if (a === '-h' || a === '--help') {
      write(TRACE_USAGE);
      return 0;
    } else if (a.startsWith('-') && a !== '-') {
      writeError(`shimulator: unknown option ${a}\n${TRACE_USAGE}`);
      return 2;
    } else if (file === undefined) {
      file = a;
    } else {
      writeError(`shimulator: trace takes one file\n${TRACE_USAGE}`);
      return 2;
    }
  }
  if (file === undefined) {
    writeError(`shimulator: trace needs a FILE\n${TRACE_USAGE}`);
    return 2;
  }
  let loaded: { trace: Trace; size: number };
  try {
    loaded = loadTraceFile(file);
  } catch (error) {
    if (!(error instanceof TraceFormatError)) throw error;
    writeError(`shimulator: ${error.message}`);
    return 1;
  }
  await loadDisassembler();
  for (const line of printTrace(loaded.trace, { limit, compressedSize: loaded.size }).split('\n')) write(line);
  return 0;
}
