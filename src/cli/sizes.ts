/**
 * The limit options `call` and `run` share: byte counts (`1048576`, `64M`, `2G`: binary units; `MiB`, `mb` also
 * read) and the wall-clock `--timeout SECONDS`, with the exit status a timeout ends either command with.
 */
import { UsageError } from './call.ts';

const SIZE_SUFFIXES: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

export function parseSize(text: string, flag: string): number {
  const match = /^(\d+)([kmg]?)i?b?$/i.exec(text);
  if (!match || Number(match[1]) <= 0) throw new UsageError(`${flag} takes a size like 512M or 2G, got "${text}"`);
  return Number(match[1]) * SIZE_SUFFIXES[match[2]!.toLowerCase()]!;
}

/** The limit options `call` and `run` share, and the option field each sets. */
export const SIZE_OPTIONS = { '--memory-limit': 'memoryLimit', '--output-limit': 'outputLimit' } as const;

/** Seconds (`--timeout`, `--time-limit`): a positive number, fractions allowed. */
export function parseSeconds(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} takes a positive number of seconds, got "${text}"`);
  return n;
}

/** The exit status when the wall-clock `--timeout` stopped a call or a run (what timeout(1) uses). */
export const TIMEOUT_EXIT_STATUS = 124;
