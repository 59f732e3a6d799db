/**
 * Byte layouts of the kernel structures the syscall layer fills, per architecture (from the Linux UAPI headers:
 * asm/stat.h, linux/stat.h, linux/utsname.h, linux/time_types.h).
 */
import type { Arch } from '../emu/arch.ts';
import type { Timespec } from './clock.ts';
import type { VfsNode } from './vfs.ts';
import { VFS_DEVICE } from './vfs.ts';

const BLOCK_SIZE = 4096;
const SECTOR = 512;

export interface FileStat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  size: number;
  mtime: Timespec;
}

export function statOf(node: VfsNode, mtime: Timespec): FileStat {
  return { dev: VFS_DEVICE, ino: node.inode, mode: node.mode, nlink: node.isDirectory ? 2 : 1, size: node.size, mtime: node.mtime ?? mtime };
}

const blocks = (size: number) => Math.ceil(size / SECTOR);

/** amd64 `struct stat` (144 bytes), used by fstat/newfstatat. */
export function encodeStat64Amd64(s: FileStat): Uint8Array {
  const b = new DataView(new ArrayBuffer(144));
  b.setBigUint64(0, BigInt(s.dev), true);
  b.setBigUint64(8, BigInt(s.ino), true);
  b.setBigUint64(16, BigInt(s.nlink), true);
  b.setUint32(24, s.mode, true);
  b.setBigInt64(48, BigInt(s.size), true);
  b.setBigInt64(56, BigInt(BLOCK_SIZE), true);
  b.setBigInt64(64, BigInt(blocks(s.size)), true);
  for (const offset of [72, 88, 104]) {
    b.setBigInt64(offset, s.mtime.seconds, true);
    b.setBigInt64(offset + 8, s.mtime.nanoseconds, true);
  }
  return new Uint8Array(b.buffer);
}

/** i386 `struct stat64` (96 bytes), used by fstat64/fstatat64. */
export function encodeStat64I386(s: FileStat): Uint8Array {
  const b = new DataView(new ArrayBuffer(96));
  b.setBigUint64(0, BigInt(s.dev), true);
  b.setUint32(12, s.ino, true); // __st_ino (truncated)
  b.setUint32(16, s.mode, true);
  b.setUint32(20, s.nlink, true);
  b.setBigInt64(44, BigInt(s.size), true);
  b.setUint32(52, BLOCK_SIZE, true);
  b.setBigUint64(56, BigInt(blocks(s.size)), true);
  for (const offset of [64, 72, 80]) {
    b.setUint32(offset, Number(s.mtime.seconds), true);
    b.setUint32(offset + 4, Number(s.mtime.nanoseconds), true);
  }
  b.setBigUint64(88, BigInt(s.ino), true);
  return new Uint8Array(b.buffer);
}

export function encodeStat(arch: Arch, s: FileStat): Uint8Array {
  return arch === 'amd64' ? encodeStat64Amd64(s) : encodeStat64I386(s);
}

/** STATX_BASIC_STATS: the fields filled below. */
const STATX_BASIC_STATS = 0x7ff;

/** `struct statx` (256 bytes, the same on both architectures). */
export function encodeStatx(s: FileStat): Uint8Array {
  const b = new DataView(new ArrayBuffer(256));
  b.setUint32(0, STATX_BASIC_STATS, true);
  b.setUint32(4, BLOCK_SIZE, true);
  b.setUint32(16, s.nlink, true);
  b.setUint16(28, s.mode, true);
  b.setBigUint64(32, BigInt(s.ino), true);
  b.setBigUint64(40, BigInt(s.size), true);
  b.setBigUint64(48, BigInt(blocks(s.size)), true);
  for (const offset of [64, 80, 96, 112]) {
    b.setBigInt64(offset, s.mtime.seconds, true);
    b.setUint32(offset + 8, Number(s.mtime.nanoseconds), true);
  }
  b.setUint32(136, s.dev >>> 8, true); // dev major
  b.setUint32(140, s.dev & 0xff, true); // dev minor
  return new Uint8Array(b.buffer);
}

/** A timespec whose fields are `wordSize` bytes each (i386 clock_gettime: 4; amd64 and the *_time64 calls: 8). */
export function encodeTimespec(t: Timespec, wordSize: 4 | 8): Uint8Array {
  const b = new DataView(new ArrayBuffer(wordSize * 2));
  if (wordSize === 8) {
    b.setBigInt64(0, t.seconds, true);
    b.setBigInt64(8, t.nanoseconds, true);
  } else {
    b.setInt32(0, Number(t.seconds), true);
    b.setInt32(4, Number(t.nanoseconds), true);
  }
  return new Uint8Array(b.buffer);
}

const UTS_FIELD = 65;

/** `struct new_utsname`: six 65-byte strings. */
export function encodeUtsname(fields: string[]): Uint8Array {
  const out = new Uint8Array(UTS_FIELD * 6);
  fields.forEach((text, i) => out.set(new TextEncoder().encode(text.slice(0, UTS_FIELD - 1)), i * UTS_FIELD));
  return out;
}

/** Packs unsigned words of `wordSize` bytes (rlimit pairs, affinity masks, linux_dirent64 pieces). */
export function encodeWords(values: (number | bigint)[], wordSize: 4 | 8): Uint8Array {
  const b = new DataView(new ArrayBuffer(values.length * wordSize));
  values.forEach((v, i) => {
    if (wordSize === 8) b.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(v)), true);
    else b.setUint32(i * 4, Number(BigInt.asUintN(32, BigInt(v))), true);
  });
  return new Uint8Array(b.buffer);
}

const DT_DIR = 4;
const DT_REG = 8;

/** One `struct linux_dirent64` record (d_ino, d_off, d_reclen, d_type, d_name), 8-byte aligned. */
export function encodeDirent64(ino: number, nextOffset: number, name: string, isDirectory: boolean): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const length = Math.ceil((19 + nameBytes.length + 1) / 8) * 8;
  const b = new DataView(new ArrayBuffer(length));
  b.setBigUint64(0, BigInt(ino), true);
  b.setBigInt64(8, BigInt(nextOffset), true);
  b.setUint16(16, length, true);
  b.setUint8(18, isDirectory ? DT_DIR : DT_REG);
  new Uint8Array(b.buffer).set(nameBytes, 19);
  return new Uint8Array(b.buffer);
}
