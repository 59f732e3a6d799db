/**
 * Why a change to the guest's address space was refused. The memory system calls answer all of them with ENOMEM,
 * as Linux does (no room, over the limit, too many mappings).
 */
export class AddressSpaceError extends Error {
  override name = 'AddressSpaceError';
}

/** No free range is large enough below the mmap top. */
export class OutOfAddressSpaceError extends AddressSpaceError {
  override name = 'OutOfAddressSpaceError';
}

/** The guest's accessible mappings would exceed the process's memory limit. */
export class MemoryLimitError extends AddressSpaceError {
  override name = 'MemoryLimitError';
}

/** The engine would need more regions than it can hold (Linux's vm.max_map_count, here a limit of QEMU's). */
export class TooManyRegionsError extends AddressSpaceError {
  override name = 'TooManyRegionsError';
}
