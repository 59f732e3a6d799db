/**
 * Parsed ELF files shared by every process of this host process: a bundled fixture's bytes are one cached array
 * (fixtures.ts), so each new machine — a cached boot, a reset, a test's fresh machine — would otherwise parse the
 * same ld.so and libc again (~1 ms and ~5–10 ms of CPU). A parse depends only on the bytes and the name, and an
 * ElfFile is never changed after it is made (its lazy parts are computed from the bytes alone), so sharing one is
 * the same as parsing again. Keyed by the bytes' identity (a WeakMap: gone with them), then by name.
 */
import { type ElfFile, parseElf, type ParseOptions } from './elf.ts';

const parsed = new WeakMap<Uint8Array, Map<string, ElfFile>>();

/**
 * `parseElf(bytes, name, options)`, once per bytes array and name (one caller, Process.elfAt, always gives the same
 * options for a name); errors are not remembered (they are thrown again).
 */
export function parseElfOnce(bytes: Uint8Array, name: string, options: ParseOptions = {}): ElfFile {
  let byName = parsed.get(bytes);
  let elf = byName?.get(name);
  if (elf === undefined) {
    elf = parseElf(bytes, name, options);
    if (byName === undefined) parsed.set(bytes, (byName = new Map()));
    byName.set(name, elf);
  }
  return elf;
}
