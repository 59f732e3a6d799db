/**
 * What a whole-program run shows the guest from the host: the program itself (read-only, at its own absolute path)
 * and what the user mounts with `--mount HOST[:GUEST]` — nothing else of the host's file system.
 */
import { closeSync, lstatSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { isAbsolute, join, posix, resolve } from 'node:path';
import type { Arch } from '../emu/arch.ts';
import { ElfError, type ElfFile, parseElf } from '../loader/elf.ts';
import type { ProgramImage } from '../loader/process.ts';

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const EI_CLASS = 4;
const EI_DATA = 5;
const E_MACHINE = 18;
/** e_machine values worth naming when a program is not x86. */
const MACHINE_NAMES: Record<number, string> = {
  0x03: 'i386', 0x3e: 'x86-64', 0x28: 'ARM (32-bit)', 0xb7: 'AArch64 (ARM64)', 0xf3: 'RISC-V', 0x08: 'MIPS',
  0x14: 'PowerPC', 0x15: 'PowerPC64', 0x16: 'S/390', 0x02: 'SPARC', 0x2b: 'SPARC V9', 0x102: 'LoongArch',
};
/** The largest program or mounted tree shimulator reads (it is held in host memory). */
const MAX_PROGRAM_BYTES = 512 * 1024 * 1024;
const MAX_MOUNT_FILES = 20_000;
const MAX_MOUNT_BYTES = 1024 * 1024 * 1024;

/** The program or a mount cannot be used: one message that says what is wrong and what to do. */
export class ProgramError extends Error {
  override name = 'ProgramError';
}

export interface Mount {
  host: string;
  /** Where the guest sees it (default: the same absolute path). */
  guest?: string;
}

/** Reads and checks the program: an x86 ELF executable of the architecture asked for (if any). */
export function loadProgram(path: string, arch?: Arch): ProgramImage & { arch: Arch } {
  const absolute = resolve(path);
  const stat = statOrThrow(absolute, 'program');
  if (stat.isDirectory()) throw new ProgramError(`${path} is a directory, not a program`);
  if (stat.size > MAX_PROGRAM_BYTES) throw new ProgramError(`${path} is ${stat.size} bytes; programs up to ${MAX_PROGRAM_BYTES} bytes are supported`);
  const bytes = new Uint8Array(readFileSync(absolute));
  checkElfIdentity(bytes, path);
  let elf: ElfFile;
  try {
    elf = parseElf(bytes, absolute);
  } catch (error) {
    if (error instanceof ElfError) throw new ProgramError(`${path} is not a usable ELF executable: ${error.message}`);
    throw error;
  }
  const elfArch = elf.arch;
  if (elf.type !== 'EXEC' && elf.type !== 'DYN') throw new ProgramError(`${path} is not an executable (ELF type ${elf.type})`);
  if (elf.type === 'DYN' && !elf.interp && elf.entry === 0) {
    throw new ProgramError(`${path} is a shared library${elf.soname ? ` (${elf.soname})` : ''}, not a program: run a program that loads it, or call into it with 'shimulator call --lib ${path}'`);
  }
  if (arch && arch !== elfArch) {
    throw new ProgramError(`${path} is an ${elfArch} program, but --arch says ${arch}: drop --arch, or build the program for ${arch}`);
  }
  return { guestPath: absolute, bytes, arch: elfArch };
}

/** The first bytes must say ELF, and x86: anything else gets a message that names what it is. */
function checkElfIdentity(bytes: Uint8Array, path: string): void {
  if (bytes.length < 20 || ELF_MAGIC.some((b, i) => bytes[i] !== b)) {
    const script = bytes[0] === 0x23 && bytes[1] === 0x21; // "#!"
    throw new ProgramError(
      script
        ? `${path} is a script (#!), not an ELF executable: run its interpreter's binary instead`
        : `${path} is not an ELF executable (no ELF magic number): shimulator runs x86 Linux programs`,
    );
  }
  const little = bytes[EI_DATA] === 1;
  const machine = little ? bytes[E_MACHINE]! | (bytes[E_MACHINE + 1]! << 8) : (bytes[E_MACHINE]! << 8) | bytes[E_MACHINE + 1]!;
  if (machine !== 0x03 && machine !== 0x3e) {
    const name = MACHINE_NAMES[machine] ?? `machine type 0x${machine.toString(16)}`;
    throw new ProgramError(`${path} is an ${name} program; shimulator runs x86 programs only (i386 and amd64)`);
  }
  if (bytes[EI_CLASS] !== 1 && bytes[EI_CLASS] !== 2) throw new ProgramError(`${path} has an invalid ELF class byte`);
}

function statOrThrow(path: string, what: string) {
  try {
    return statSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ProgramError(`${what} ${path} does not exist`);
    if (code === 'EACCES') throw new ProgramError(`${what} ${path} cannot be read (permission denied)`);
    throw new ProgramError(`${what} ${path} cannot be read: ${(error as Error).message}`);
  }
}

/**
 * The files of every mount, by guest path, read now (so the guest's view cannot change under it). Directories are
 * walked (regular files only: symbolic links are not followed, so a mount cannot reach outside itself).
 */
export function mountFiles(mounts: Mount[]): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  let count = 0;
  let total = 0;
  const add = (hostPath: string, guestPath: string) => {
    if (++count > MAX_MOUNT_FILES) throw new ProgramError(`the mounts hold more than ${MAX_MOUNT_FILES} files; mount a smaller directory`);
    const bytes = readBounded(hostPath, MAX_MOUNT_BYTES - total);
    total += bytes.length;
    files[guestPath] = bytes;
  };
  for (const mount of mounts) {
    const host = resolve(mount.host);
    const guest = mount.guest ?? host;
    if (!isAbsolute(guest) || !guest.startsWith('/')) throw new ProgramError(`--mount ${mount.host}:${guest}: the guest path must be absolute`);
    const stat = statOrThrow(host, 'mount');
    if (stat.isDirectory()) walk(host, posix.normalize(guest), add);
    else add(host, posix.normalize(guest));
  }
  return files;
}

function walk(hostDir: string, guestDir: string, add: (host: string, guest: string) => void): void {
  for (const name of readdirSync(hostDir).sort()) {
    const host = join(hostDir, name);
    const stat = lstatSync(host);
    if (stat.isDirectory()) walk(host, `${guestDir}/${name}`, add);
    else if (stat.isFile()) add(host, `${guestDir}/${name}`);
  }
}

function readBounded(path: string, room: number): Uint8Array {
  const size = statSync(path).size;
  if (size > room) throw new ProgramError(`the mounts hold more than ${MAX_MOUNT_BYTES} bytes; mount less`);
  const bytes = new Uint8Array(size);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, bytes, 0, size, 0);
  } finally {
    closeSync(fd);
  }
  return bytes;
}
