/**
 * Memory: mmap/munmap/mprotect/brk on the guest's address space (src/kernel/address-space.ts).
 */
import { PROT_ALL } from '../../emu/engine.ts';
import { EngineError } from '../../emu/errors.ts';
import { HostMemoryError } from '../../emu/host-memory.ts';
import { AddressSpaceError, PAGE_SIZE, pageUp } from '../address-space.ts';
import { ERRNO, ErrnoError } from '../errno.ts';
import type { Kernel } from '../kernel.ts';
import { num, s32, type SyscallTable } from '../syscall.ts';
import { isPipe } from './files.ts';

const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_FIXED_NOREPLACE = 0x100000;
/** The largest single mapping the guest may ask for (the emulator backs guest memory with host memory). */
const MAX_MAPPING_BYTES = 4 * 1024 * 1024 * 1024;

export function mmap(k: Kernel, address: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
  if (length === 0) throw new ErrnoError(ERRNO.EINVAL);
  const space = k.options.space;
  // Check the source before touching the address space, so a failed call leaves no mapping behind.
  let data: Uint8Array | undefined;
  let label = '[anon]';
  if ((flags & MAP_ANONYMOUS) === 0) {
    const node = k.files.file(fd).node;
    if (!node || node.isDirectory || isPipe(node)) throw new ErrnoError(ERRNO.ENODEV);
    data = node.contents();
    label = node.path;
  }
  if (length > MAX_MAPPING_BYTES) throw new ErrnoError(ERRNO.ENOMEM);
  let start: number;
  if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0) {
    if (address % PAGE_SIZE !== 0) throw new ErrnoError(ERRNO.EINVAL);
    if ((flags & MAP_FIXED_NOREPLACE) !== 0 && space.overlaps(address, length)) throw new ErrnoError(ERRNO.EEXIST);
    asErrno(() => space.mapFixed(address, length, prot, label));
    start = address;
  } else {
    start = asErrno(() => space.mapAnywhere(length, prot, label, address));
  }
  if (data) {
    // Straight into the backing memory: the requested protection may forbid writes, and needs no second re-sync.
    const end = Math.min(data.length, offset + length);
    if (offset < end) space.fill(start, data.subarray(offset, end));
  }
  return start;
}

/**
 * Runs an address-space change; a refusal (no room, memory limit, too many regions) or a failure of the engine or
 * the host to back it becomes ENOMEM, Linux's answer — never a raw engine error out of a system call.
 */
function asErrno<T>(change: () => T): T {
  try {
    return change();
  } catch (error) {
    if (error instanceof AddressSpaceError || error instanceof EngineError || error instanceof HostMemoryError) {
      throw new ErrnoError(ERRNO.ENOMEM);
    }
    throw error;
  }
}

export const MEMORY_SYSCALLS: SyscallTable = {
  mmap: (k, a) =>
    k.arch === 'amd64'
      ? mmap(k, num(a[0]!), num(a[1]!), s32(a[2]!), s32(a[3]!), s32(a[4]!), num(a[5]!))
      : mmap(k, num(a[0]!), num(a[1]!), s32(a[2]!), s32(a[3]!), s32(a[4]!), 0), // old_mmap: not used by glibc
  mmap2: (k, a) => mmap(k, num(a[0]!), num(a[1]!), s32(a[2]!), s32(a[3]!), s32(a[4]!), num(a[5]!) * PAGE_SIZE),
  munmap: (k, a) => {
    if (num(a[0]!) % PAGE_SIZE !== 0) throw new ErrnoError(ERRNO.EINVAL);
    asErrno(() => k.options.space.unmap(num(a[0]!), num(a[1]!)));
    return 0;
  },
  mprotect: (k, a) => {
    if (num(a[0]!) % PAGE_SIZE !== 0) throw new ErrnoError(ERRNO.EINVAL);
    if (!asErrno(() => k.options.space.protect(num(a[0]!), pageUp(num(a[1]!)), s32(a[2]!) & PROT_ALL))) {
      throw new ErrnoError(ERRNO.ENOMEM);
    }
    return 0;
  },
  madvise: () => 0,
  brk: (k, a) => asErrno(() => k.options.space.brk(num(a[0]!))),
};
