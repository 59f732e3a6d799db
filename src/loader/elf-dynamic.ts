/**
 * The dynamic section (PT_DYNAMIC) and the dynamic string table. Everything is located by virtual address, as the
 * dynamic linker does, so section-stripped files work. Like ld.so, we read entries up to DT_NULL whatever
 * p_filesz says, skip entries whose tag or value cannot be an address (with a warning), and let DT_STRTAB run to
 * the end of its segment when DT_STRSZ is 0 or too large (ld.so never reads DT_STRSZ).
 */
import {
  DF_1_NAMES, DF_NAMES, DT_AUXILIARY, DT_FILTER, DT_FINI_ARRAY, DT_FINI_ARRAYSZ, DT_FLAGS, DT_FLAGS_1,
  DT_INIT_ARRAY, DT_INIT_ARRAYSZ, DT_NEEDED, DT_NULL, DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ, DT_RPATH, DT_RUNPATH,
  DT_SONAME, DT_STRSZ, DT_STRTAB, DYNAMIC_TAG_NAMES, PT_DYNAMIC, flagNames, hex, nameOf,
} from './elf-constants.ts';
import type { ElfReader } from './elf-reader.ts';
import type { AddressMap } from './elf-segments.ts';
import type { AddressRange, DynamicEntry, DynamicFlags, ProgramHeader } from './elf-types.ts';

export interface DynamicInfo {
  entries: DynamicEntry[];
  /** File offset and size of DT_STRTAB, when present. */
  strtab?: { offset: number; size: number };
  needed: string[];
  soname?: string;
  rpath?: string;
  runpath?: string;
  /** DT_AUXILIARY / DT_FILTER library names. */
  auxiliary: string[];
  filters: string[];
  initArray?: AddressRange;
  finiArray?: AddressRange;
  preinitArray?: AddressRange;
  flags: DynamicFlags;
  /** The DT_STRTAB string at `value`, e.g. a DT_NEEDED or vda_name field; `what` names the field in errors. */
  string(value: number, what: string): string;
}

/** The value of the first entry with `tag` (the usual rule; only DT_NEEDED and friends repeat). */
export function dynamicValue(entries: readonly DynamicEntry[], tag: number): number | undefined {
  return entries.find((e) => e.tag === tag)?.value;
}

export function readDynamic(
  reader: ElfReader, programHeaders: readonly ProgramHeader[], map: AddressMap,
): DynamicInfo | undefined {
  const index = programHeaders.findIndex((ph) => ph.type === PT_DYNAMIC);
  if (index < 0) return undefined;
  const ph = programHeaders[index]!;
  const where = `PT_DYNAMIC (program header ${index})`;
  const offset = map.range(ph.vaddr, 1, where);
  const size = Math.min(ph.filesz, map.segmentFileEnd(ph.vaddr)! - offset);
  if (size < ph.filesz) reader.warnings.push(`${where}: p_filesz ${hex(ph.filesz)} runs past its PT_LOAD segment`);
  const entries = readEntries(reader, offset, size);

  const strtab = stringTable(reader, entries, map);
  // ld.so reads names past DT_STRSZ without a second thought; a name beyond the segment is still refused.
  const strtabEnd = strtab && map.segmentFileEnd(dynamicValue(entries, DT_STRTAB)!)!;
  const str = (value: number, what: string): string => {
    if (strtab === undefined || strtabEnd === undefined) return reader.fail(`${what} is set but there is no DT_STRTAB`);
    if (strtab.offset + value >= strtabEnd) {
      reader.fail(`${what}: string offset ${hex(value)} is past the end of DT_STRTAB's segment (DT_STRSZ ${hex(strtab.size)})`);
    }
    return reader.cString(strtab.offset + value, strtabEnd, what);
  };
  const strings = (tag: number): string[] =>
    entries.filter((e) => e.tag === tag).map((e) => str(e.value, nameOf(DYNAMIC_TAG_NAMES, tag, 'DT_')));
  const optionalString = (tag: number): string | undefined => strings(tag)[0];

  const flags = dynamicValue(entries, DT_FLAGS) ?? 0;
  const flags1 = dynamicValue(entries, DT_FLAGS_1) ?? 0;
  return {
    entries,
    strtab,
    needed: strings(DT_NEEDED),
    soname: optionalString(DT_SONAME),
    rpath: optionalString(DT_RPATH),
    runpath: optionalString(DT_RUNPATH),
    auxiliary: strings(DT_AUXILIARY),
    filters: strings(DT_FILTER),
    initArray: arrayRange(entries, DT_INIT_ARRAY, DT_INIT_ARRAYSZ),
    finiArray: arrayRange(entries, DT_FINI_ARRAY, DT_FINI_ARRAYSZ),
    preinitArray: arrayRange(entries, DT_PREINIT_ARRAY, DT_PREINIT_ARRAYSZ),
    flags: { flags, flags1, names: flagNames(DF_NAMES, flags), names1: flagNames(DF_1_NAMES, flags1) },
    string: str,
  };
}

/** Elf_Dyn entries up to DT_NULL (or the end of the segment, which readelf and ld.so also tolerate). */
function readEntries(reader: ElfReader, offset: number, size: number): DynamicEntry[] {
  const entrySize = reader.wordSize * 2;
  const entries: DynamicEntry[] = [];
  for (let at = offset; at + entrySize <= offset + size; at += entrySize) {
    // d_tag is signed, but every tag we know is positive; a huge tag or value is corruption, which ld.so ignores
    // for tags it does not know and we skip for all (a tag that mattered shows up missing).
    const entry = reader.lenient<DynamicEntry | undefined>(() => {
      const tag = reader.word(at, 'dynamic tag');
      const value = reader.word(at + reader.wordSize, 'dynamic value');
      return { tag, tagName: nameOf(DYNAMIC_TAG_NAMES, tag, 'DT_'), value };
    }, undefined);
    if (entry === undefined) continue;
    entries.push(entry);
    if (entry.tag === DT_NULL) break;
  }
  return entries;
}

function stringTable(
  reader: ElfReader, entries: readonly DynamicEntry[], map: AddressMap,
): { offset: number; size: number } | undefined {
  const address = dynamicValue(entries, DT_STRTAB);
  if (address === undefined) return undefined;
  const size = dynamicValue(entries, DT_STRSZ);
  const offset = map.range(address, 1, 'DT_STRTAB');
  const toSegmentEnd = map.segmentFileEnd(address)! - offset;
  // Without a usable DT_STRSZ the table may run to the end of its segment.
  if (size === undefined || size === 0 || size > toSegmentEnd) {
    if (size !== undefined) reader.warnings.push(`DT_STRSZ ${hex(size)} does not fit DT_STRTAB's segment: ignored`);
    return { offset, size: toSegmentEnd };
  }
  return { offset, size };
}

function arrayRange(entries: readonly DynamicEntry[], addressTag: number, sizeTag: number): AddressRange | undefined {
  const vaddr = dynamicValue(entries, addressTag);
  if (vaddr === undefined) return undefined;
  return { vaddr, size: dynamicValue(entries, sizeTag) ?? 0 };
}
