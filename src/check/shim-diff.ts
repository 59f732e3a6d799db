/**
 * Shim under test: when a user's trampoline transfers control to its target, every argument piece must be where
 * the target's CallSpec says. This compares, piece by piece, what the reference placement puts there with what the
 * shim actually put there, and when a piece is wrong, looks for it elsewhere ("arg 2 expected in xmm1, found in
 * xmm0"). Pure: the CPU state comes through a reader.
 */
import type { ArgSpec, CallSpec, Location } from '../callspec/types.ts';

/** Reads the state at the target's first instruction (sp points at the return address). */
export interface EntryReader {
  /** Register contents, little-endian: 8 bytes for GPRs (4 on i386), 16 for xmm. */
  register(name: string): Uint8Array;
  /** Bytes of the outgoing argument area: `offset` is relative to the stack pointer before the call. */
  stack(offset: number, size: number): Uint8Array;
}

export interface ArgumentDiff {
  /** 0-based argument index. */
  index: number;
  text: string;
  /** Where the spec puts this piece, e.g. `xmm0`, `stack+8`, `rdi`. */
  expectedIn: string;
  expected: string;
  actual: string;
  /** Other places that hold the expected bytes (the likely mix-up). */
  foundIn: string[];
  message: string;
}


const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

function locationName(location: Location): string {
  return location.kind === 'reg' ? location.reg : `stack+${location.stackOffset}`;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The bytes a piece should occupy (narrow integers are compared by their own bytes only). */
function expectedPiece(arg: ArgSpec, location: Location, image: Uint8Array): Uint8Array {
  return image.subarray(location.offset, location.offset + location.size);
}

function actualPiece(reader: EntryReader, location: Location): Uint8Array {
  return location.kind === 'reg'
    ? reader.register(location.reg).subarray(0, location.size)
    : reader.stack(location.stackOffset, location.size);
}

/** Where else the expected bytes are: the other places this call's arguments use (registers and stack slots). */
function search(reader: EntryReader, spec: CallSpec, wanted: Uint8Array, except: string): string[] {
  const found: string[] = [];
  const registers = new Set(spec.args.flatMap((a) => a.locations.flatMap((l) => (l.kind === 'reg' ? [l.reg] : []))));
  for (const reg of registers) {
    if (reg !== except && same(reader.register(reg).subarray(0, wanted.length), wanted)) found.push(reg);
  }
  const slot = spec.arch === 'amd64' ? 8 : 4;
  for (let offset = 0; offset + wanted.length <= spec.stackSize; offset += slot) {
    const name = `stack+${offset}`;
    if (name !== except && same(reader.stack(offset, wanted.length), wanted)) found.push(name);
  }
  return found;
}

/** The rule part of an argument's reason ("first SSE-class argument register (psABI …)"). */
function rule(arg: ArgSpec): string {
  const colon = arg.reason.indexOf(': ');
  return colon >= 0 ? arg.reason.slice(colon + 2) : arg.reason;
}

/** Diffs every argument piece of `spec` against what a shim put in place. `images` are the reference images. */
export function diffArguments(spec: CallSpec, images: Uint8Array[], reader: EntryReader): ArgumentDiff[] {
  const diffs: ArgumentDiff[] = [];
  spec.args.forEach((arg, index) => {
    for (const location of arg.locations) {
      const expected = expectedPiece(arg, location, images[index]!);
      const actual = actualPiece(reader, location);
      if (same(expected, actual)) continue;
      const where = locationName(location);
      const foundIn = search(reader, spec, expected, where);
      const found = foundIn.length > 0 ? `, found in ${foundIn.join(' and ')}` : ', not found in any argument register or stack slot';
      diffs.push({
        index,
        text: arg.text,
        expectedIn: where,
        expected: hex(expected),
        actual: hex(actual),
        foundIn,
        message: `arg ${index + 1} \`${arg.text}\` expected in ${where}${found} (${where} holds ${hex(actual)}, expected ${hex(expected)}; the rule: ${rule(arg)})`,
      });
    }
  });
  return diffs;
}
