/**
 * The initial process stack the kernel builds for execve (System V ABI, "Process Initialization"):
 * argc, argv[], NULL, envp[], NULL, auxv pairs ending in AT_NULL, then the strings and AT_RANDOM bytes above.
 */
import type { Arch } from '../emu/arch.ts';

/** Auxiliary vector keys (linux/auxvec.h). */
export const AT = {
  NULL: 0, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9, UID: 11, EUID: 12, GID: 13,
  EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23, RANDOM: 25, HWCAP2: 26, EXECFN: 31,
} as const;

export const AT_RANDOM_BYTES = 16;
const CLOCK_TICKS_PER_SECOND = 100;
const STACK_ALIGN = 16;

export interface ExecImage {
  arch: Arch;
  argv: string[];
  envp: string[];
  execfn: string;
  platform: string;
  /** Where the executable's program headers are in guest memory. */
  phdr: number;
  phent: number;
  phnum: number;
  /** Load address of the interpreter (ld.so). */
  interpBase: number;
  /** The executable's entry point. */
  entry: number;
  hwcap: number;
  random: Uint8Array;
  pageSize: number;
}

export interface InitialStack {
  /** The stack pointer at process entry (points at argc). */
  sp: number;
  /** The bytes to write at `sp` (everything from argc up to the top). */
  bytes: Uint8Array;
  auxv: [number, number][];
}

/** Lays out the initial stack so that it ends just below `top`. Pure: returns the bytes and where they go. */
export function buildInitialStack(image: ExecImage, top: number): InitialStack {
  const ptr = image.arch === 'amd64' ? 8 : 4;
  const encoder = new TextEncoder();
  // Strings and random bytes go at the top, in this order (downwards): execfn, argv, envp, platform, random.
  const blobs: Uint8Array[] = [];
  const cstr = (s: string) => Uint8Array.from([...encoder.encode(s), 0]);
  let cursor = top;
  const place = (bytes: Uint8Array): number => {
    cursor -= bytes.length;
    blobs.push(bytes);
    return cursor;
  };
  const execfn = place(cstr(image.execfn));
  const argv = image.argv.map((a) => place(cstr(a)));
  const envp = image.envp.map((e) => place(cstr(e)));
  const platform = place(cstr(image.platform));
  const random = place(image.random.slice(0, AT_RANDOM_BYTES));
  const stringsStart = cursor;

  const auxv: [number, number][] = [
    [AT.PHDR, image.phdr],
    [AT.PHENT, image.phent],
    [AT.PHNUM, image.phnum],
    [AT.PAGESZ, image.pageSize],
    [AT.BASE, image.interpBase],
    [AT.FLAGS, 0],
    [AT.ENTRY, image.entry],
    [AT.UID, 0],
    [AT.EUID, 0],
    [AT.GID, 0],
    [AT.EGID, 0],
    [AT.SECURE, 0],
    [AT.CLKTCK, CLOCK_TICKS_PER_SECOND],
    [AT.HWCAP, image.hwcap],
    [AT.HWCAP2, 0],
    [AT.RANDOM, random],
    [AT.PLATFORM, platform],
    [AT.EXECFN, execfn],
    [AT.NULL, 0],
  ];
  const words = [image.argv.length, ...argv, 0, ...envp, 0, ...auxv.flat()];
  const vectorBytes = words.length * ptr;
  const sp = Math.floor((stringsStart - vectorBytes) / STACK_ALIGN) * STACK_ALIGN;

  const bytes = new Uint8Array(top - sp);
  const view = new DataView(bytes.buffer);
  words.forEach((w, i) => {
    if (ptr === 8) view.setBigUint64(i * 8, BigInt(w), true);
    else view.setUint32(i * 4, w >>> 0, true);
  });
  let at = top;
  for (const blob of blobs) {
    at -= blob.length;
    bytes.set(blob, at - sp);
  }
  return { sp, bytes, auxv };
}
