/** The two guest architectures shimulator emulates. */
export type Arch = 'i386' | 'amd64';

export const ARCHES: readonly Arch[] = ['amd64', 'i386'];

/** Size of a pointer (and of a general-purpose register) in bytes. */
export function pointerSize(arch: Arch): 4 | 8 {
  return arch === 'amd64' ? 8 : 4;
}

/** Debian's multiarch triplet: where the guest's shared libraries live (`/lib/<triplet>`). */
export function multiarchTriplet(arch: Arch): string {
  return arch === 'amd64' ? 'x86_64-linux-gnu' : 'i386-linux-gnu';
}

export function parseArch(name: string): Arch {
  if (name === 'amd64' || name === 'x86_64' || name === 'x86-64') return 'amd64';
  if (name === 'i386' || name === 'x86' || name === 'i686') return 'i386';
  throw new RangeError(`unknown architecture "${name}": use amd64 or i386`);
}
