/**
 * ELF notes (PT_NOTE segments, or SHT_NOTE sections in relocatable files) and the GNU ones we decode:
 * NT_GNU_BUILD_ID, NT_GNU_ABI_TAG and NT_GNU_PROPERTY_TYPE_0 (.note.gnu.property).
 *
 * Notes are informational (ld.so loads a library whose PT_NOTE overruns the file), so a broken note area ends
 * the notes read from it with a warning in `reader.warnings`, and a malformed GNU note is left undecoded.
 */
import {
  ABI_TAG_OS_NAMES, ELF_NOTE_GNU, GNU_PROPERTY_X86_FEATURE_1_AND, GNU_PROPERTY_X86_ISA_1_NEEDED,
  GNU_PROPERTY_X86_ISA_1_USED, NT_GNU_ABI_TAG, NT_GNU_BUILD_ID, NT_GNU_PROPERTY_TYPE_0, PT_NOTE, SHT_NOTE, hex,
} from './elf-constants.ts';
import type { ElfReader } from './elf-reader.ts';
import type { AbiTag, ElfNote, GnuProperties, GnuProperty, ProgramHeader, SectionHeader } from './elf-types.ts';

/** namesz, descsz, type. */
const NOTE_HEADER_SIZE = 12;
/** Words of an NT_GNU_ABI_TAG descriptor: OS, major, minor, patch. */
const ABI_TAG_SIZE = 16;
/** pr_type, pr_datasz. */
const PROPERTY_HEADER_SIZE = 8;

/** Note owner names are ASCII ("GNU", "Go", "stapsdt"); a byte-per-char decoder never fails on junk. */
const LATIN1 = new TextDecoder('latin1');

export function readNotes(
  reader: ElfReader, programHeaders: readonly ProgramHeader[], sections: readonly SectionHeader[],
): ElfNote[] {
  const notes: ElfNote[] = [];
  const segments = programHeaders.filter((ph) => ph.type === PT_NOTE);
  if (segments.length > 0) {
    for (const ph of segments) {
      reader.lenient(() => readNoteArea(reader, ph.offset, ph.filesz, ph.align, 'PT_NOTE segment', notes), undefined);
    }
  } else {
    // Relocatable objects have no program headers; their notes are only in sections.
    for (const s of sections) {
      if (s.type !== SHT_NOTE) continue;
      const what = `note section ${s.name}`;
      reader.lenient(() => readNoteArea(reader, s.offset, s.size, s.addralign, what, notes), undefined);
    }
  }
  return notes;
}

/**
 * Notes are padded to 4 bytes, except that 8-byte aligned note areas (.note.gnu.property on ELFCLASS64) pad
 * name and descriptor to 8, as glibc and binutils do.
 */
function readNoteArea(
  reader: ElfReader, offset: number, size: number, areaAlign: number, what: string, out: ElfNote[],
): void {
  const align = areaAlign === 8 ? 8 : 4;
  reader.need(offset, size, what);
  const end = offset + size;
  let at = offset;
  while (at + NOTE_HEADER_SIZE <= end) {
    const namesz = reader.u32(at);
    const descsz = reader.u32(at + 4);
    const type = reader.u32(at + 8);
    const nameAt = at + NOTE_HEADER_SIZE;
    // The padding is relative to the note's start: 12 header bytes + name, rounded up.
    const descAt = at + alignUp(NOTE_HEADER_SIZE + namesz, align);
    const next = descAt + alignUp(descsz, align);
    if (descAt + descsz > end) {
      reader.fail(`${what} at file offset ${hex(offset)}: note at ${hex(at)} (namesz ${namesz}, descsz ${descsz}) overruns it`);
    }
    const nameBytes = reader.bytes.subarray(nameAt, nameAt + namesz);
    const nul = nameBytes.indexOf(0);
    const name = LATIN1.decode(nul < 0 ? nameBytes : nameBytes.subarray(0, nul));
    out.push({ name, type, desc: reader.bytes.subarray(descAt, descAt + descsz) });
    at = next;
  }
}

function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

function gnuNote(notes: readonly ElfNote[], type: number): ElfNote | undefined {
  return notes.find((n) => n.name === ELF_NOTE_GNU && n.type === type);
}

/** NT_GNU_BUILD_ID as lowercase hex, as `readelf -n` and `file` print it. */
export function buildIdOf(notes: readonly ElfNote[]): string | undefined {
  const note = gnuNote(notes, NT_GNU_BUILD_ID);
  if (note === undefined) return undefined;
  return Array.from(note.desc, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function abiTagOf(reader: ElfReader, notes: readonly ElfNote[]): AbiTag | undefined {
  const note = gnuNote(notes, NT_GNU_ABI_TAG);
  if (note === undefined) return undefined;
  if (note.desc.length < ABI_TAG_SIZE) {
    reader.warnings.push(`NT_GNU_ABI_TAG note is ${note.desc.length} bytes, expected 16`);
    return undefined;
  }
  const word = (i: number): number => new DataView(note.desc.buffer, note.desc.byteOffset + i * 4, 4).getUint32(0, true);
  const os = word(0);
  return { os: ABI_TAG_OS_NAMES[os] ?? `OS ${os}`, version: `${word(1)}.${word(2)}.${word(3)}` };
}

/**
 * NT_GNU_PROPERTY_TYPE_0: a list of (pr_type, pr_datasz, data) padded to the word size. The x86 ISA and
 * feature properties are 32-bit masks.
 */
export function gnuPropertiesOf(reader: ElfReader, notes: readonly ElfNote[]): GnuProperties {
  const result: GnuProperties = { entries: [] };
  for (const note of notes) {
    if (note.name !== ELF_NOTE_GNU || note.type !== NT_GNU_PROPERTY_TYPE_0) continue;
    for (const property of reader.lenient(() => splitProperties(reader, note.desc), [])) {
      result.entries.push(property);
      const value = property.data.length >= 4 ? u32le(property.data) : undefined;
      if (property.type === GNU_PROPERTY_X86_ISA_1_NEEDED) result.x86IsaNeeded = value;
      if (property.type === GNU_PROPERTY_X86_ISA_1_USED) result.x86IsaUsed = value;
      if (property.type === GNU_PROPERTY_X86_FEATURE_1_AND) result.x86Feature1And = value;
    }
  }
  return result;
}

function splitProperties(reader: ElfReader, desc: Uint8Array): GnuProperty[] {
  const properties: GnuProperty[] = [];
  const view = new DataView(desc.buffer, desc.byteOffset, desc.byteLength);
  let at = 0;
  while (at + PROPERTY_HEADER_SIZE <= desc.length) {
    const type = view.getUint32(at, true);
    const size = view.getUint32(at + 4, true);
    const dataAt = at + PROPERTY_HEADER_SIZE;
    if (dataAt + size > desc.length) {
      reader.fail(`GNU property ${hex(type)}: pr_datasz ${size} overruns its NT_GNU_PROPERTY_TYPE_0 note`);
    }
    properties.push({ type, data: desc.subarray(dataAt, dataAt + size) });
    at = dataAt + alignUp(size, reader.wordSize);
  }
  return properties;
}

function u32le(bytes: Uint8Array): number {
  return (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
}
