/**
 * x86 instruction lengths, for finding instruction boundaries in a translated block without a disassembler (the
 * engine needs them synchronously, inside a block hook; Capstone only loads asynchronously).
 *
 * Deliberately partial: it knows the legacy one-byte map, the 0F two-byte map and the 0F 38 / 0F 3A three-byte
 * maps with legacy, REX and 32/64-bit addressing. For everything else — VEX/EVEX/XOP, 3DNow!, far pointers, mov
 * to/from control registers (whose ModRM ignores mod), 16-bit addressing, a REX followed by another prefix,
 * 16-bit relative branches (Intel and QEMU disagree on them in 64-bit mode) — it answers `undefined` ("unknown")
 * rather than guess: a wrong length would make the caller patch bytes in the middle of an instruction.
 */
import type { Arch } from './arch.ts';

/** The architectural limit: longer encodings raise #GP / #UD. */
export const MAX_INSTRUCTION_BYTES = 15;

/** What follows an opcode. */
const Imm = {
  None: 0,
  /** imm8 / rel8 */
  Byte: 1,
  /** imm16 */
  Word: 2,
  /** imm16 or imm32 by operand size (imm32 also with REX.W) */
  Z: 3,
  /** 16-, 32- or 64-bit immediate by operand size (mov r, imm: B8+r) */
  V: 4,
  /** rel16/32 of a near branch: with a 0x66 prefix, unknown */
  Rel: 5,
  /** enter: imm16 then imm8 */
  Enter: 6,
  /** moffs of A0–A3: address-size wide */
  Moffs: 7,
  /** F6/F7 (group 3): an immediate (Byte / Z) only for /0 and /1 (test) */
  Group3: 8,
} as const;
type Imm = (typeof Imm)[keyof typeof Imm];

interface Form {
  modrm: boolean;
  imm: Imm;
}

/** undefined: unknown (the decoder gives up); 'prefix' and 'escape' are handled before the table is consulted. */
type Entry = Form | 'prefix' | 'escape' | undefined;

const NONE: Form = { modrm: false, imm: Imm.None };
const MODRM: Form = { modrm: true, imm: Imm.None };
const form = (modrm: boolean, imm: Imm): Form => ({ modrm, imm });

function fill(table: Entry[], from: number, to: number, entry: Entry): void {
  for (let op = from; op <= to; op++) table[op] = entry;
}

/** The one-byte opcode map; `amd64` marks the opcodes that are invalid (or prefixes) in 64-bit mode. */
function oneByteMap(arch: Arch): Entry[] {
  const t: Entry[] = new Array(256).fill(undefined);
  const legacyOnly = (op: number, entry: Entry) => (t[op] = arch === 'amd64' ? undefined : entry);
  for (let base = 0x00; base <= 0x38; base += 8) {
    // add/or/adc/sbb/and/sub/xor/cmp: r/m forms, then al, imm8 and eAX, imm16/32
    fill(t, base, base + 3, MODRM);
    t[base + 4] = form(false, Imm.Byte);
    t[base + 5] = form(false, Imm.Z);
    // push/pop es cs ss ds, daa das aaa aas: one byte on i386, invalid on amd64
    legacyOnly(base + 6, NONE);
    legacyOnly(base + 7, NONE);
  }
  t[0x0f] = 'escape';
  for (const op of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) t[op] = 'prefix';
  fill(t, 0x40, 0x4f, arch === 'amd64' ? 'prefix' : NONE); // REX, or inc/dec
  fill(t, 0x50, 0x5f, NONE);
  legacyOnly(0x60, NONE);
  legacyOnly(0x61, NONE);
  // 0x62 bound / EVEX: unknown
  t[0x63] = MODRM; // arpl / movsxd
  t[0x68] = form(false, Imm.Z);
  t[0x69] = form(true, Imm.Z);
  t[0x6a] = form(false, Imm.Byte);
  t[0x6b] = form(true, Imm.Byte);
  fill(t, 0x6c, 0x6f, NONE);
  fill(t, 0x70, 0x7f, form(false, Imm.Byte));
  t[0x80] = form(true, Imm.Byte);
  t[0x81] = form(true, Imm.Z);
  legacyOnly(0x82, form(true, Imm.Byte));
  t[0x83] = form(true, Imm.Byte);
  fill(t, 0x84, 0x8e, MODRM);
  t[0x8f] = MODRM; // pop r/m (only /0: other reg values are AMD's XOP, checked in `instructionLength`)
  fill(t, 0x90, 0x99, NONE);
  // 0x9a call far ptr16:32: unknown
  fill(t, 0x9b, 0x9f, NONE);
  fill(t, 0xa0, 0xa3, form(false, Imm.Moffs));
  fill(t, 0xa4, 0xa7, NONE);
  t[0xa8] = form(false, Imm.Byte);
  t[0xa9] = form(false, Imm.Z);
  fill(t, 0xaa, 0xaf, NONE);
  fill(t, 0xb0, 0xb7, form(false, Imm.Byte));
  fill(t, 0xb8, 0xbf, form(false, Imm.V));
  t[0xc0] = form(true, Imm.Byte);
  t[0xc1] = form(true, Imm.Byte);
  t[0xc2] = form(false, Imm.Word);
  t[0xc3] = NONE;
  // 0xc4, 0xc5: VEX (or les/lds on i386): unknown
  t[0xc6] = form(true, Imm.Byte);
  t[0xc7] = form(true, Imm.Z);
  t[0xc8] = form(false, Imm.Enter);
  t[0xc9] = NONE;
  t[0xca] = form(false, Imm.Word);
  fill(t, 0xcb, 0xcc, NONE);
  t[0xcd] = form(false, Imm.Byte);
  legacyOnly(0xce, NONE);
  t[0xcf] = NONE;
  fill(t, 0xd0, 0xd3, MODRM);
  legacyOnly(0xd4, form(false, Imm.Byte));
  legacyOnly(0xd5, form(false, Imm.Byte));
  // 0xd6 salc: unknown
  t[0xd7] = NONE;
  fill(t, 0xd8, 0xdf, MODRM); // x87
  fill(t, 0xe0, 0xe7, form(false, Imm.Byte)); // loop*, jcxz, in/out imm8
  t[0xe8] = form(false, Imm.Rel);
  t[0xe9] = form(false, Imm.Rel);
  // 0xea jmp far: unknown
  t[0xeb] = form(false, Imm.Byte);
  fill(t, 0xec, 0xef, NONE);
  t[0xf1] = NONE;
  fill(t, 0xf4, 0xf5, NONE);
  t[0xf6] = form(true, Imm.Group3);
  t[0xf7] = form(true, Imm.Group3);
  fill(t, 0xf8, 0xfd, NONE);
  fill(t, 0xfe, 0xff, MODRM);
  return t;
}

/** The two-byte map (0F xx). 0F 38 and 0F 3A are the three-byte maps: all ModRM, 0F 3A with an imm8. */
const TWO_BYTE_MAP: Entry[] = (() => {
  const t: Entry[] = new Array(256).fill(undefined);
  fill(t, 0x00, 0x03, MODRM); // group 6, group 7 (mod = 3 forms such as rdtscp keep the same length), lar, lsl
  fill(t, 0x05, 0x09, NONE); // syscall, clts, sysret, invd, wbinvd
  t[0x0b] = NONE; // ud2
  t[0x0d] = MODRM; // prefetch
  fill(t, 0x10, 0x1f, MODRM); // SSE moves, prefetch hints, hint nops (endbr64)
  fill(t, 0x28, 0x2f, MODRM);
  fill(t, 0x30, 0x35, NONE); // wrmsr, rdtsc, rdmsr, rdpmc, sysenter, sysexit
  t[0x37] = NONE; // getsec
  t[0x38] = 'escape';
  t[0x3a] = 'escape';
  fill(t, 0x40, 0x6f, MODRM); // cmovcc, SSE/MMX
  fill(t, 0x70, 0x73, form(true, Imm.Byte)); // pshuf*, shift groups 12–14
  fill(t, 0x74, 0x76, MODRM);
  t[0x77] = NONE; // emms
  fill(t, 0x7c, 0x7f, MODRM);
  fill(t, 0x80, 0x8f, form(false, Imm.Rel)); // jcc rel32
  fill(t, 0x90, 0x9f, MODRM); // setcc
  fill(t, 0xa0, 0xa2, NONE); // push fs, pop fs, cpuid
  t[0xa3] = MODRM;
  t[0xa4] = form(true, Imm.Byte);
  t[0xa5] = MODRM;
  fill(t, 0xa8, 0xaa, NONE); // push gs, pop gs, rsm
  t[0xab] = MODRM;
  t[0xac] = form(true, Imm.Byte);
  fill(t, 0xad, 0xaf, MODRM); // shrd cl, group 15 (fences, fxsave…), imul
  fill(t, 0xb0, 0xb7, MODRM);
  // 0xb8: popcnt with F3, jmpe without: checked in `instructionLength`
  t[0xb8] = MODRM;
  t[0xb9] = MODRM;
  t[0xba] = form(true, Imm.Byte);
  fill(t, 0xbb, 0xc1, MODRM);
  t[0xc2] = form(true, Imm.Byte);
  t[0xc3] = MODRM;
  fill(t, 0xc4, 0xc6, form(true, Imm.Byte));
  t[0xc7] = MODRM; // group 9
  fill(t, 0xc8, 0xcf, NONE); // bswap
  fill(t, 0xd0, 0xfe, MODRM);
  return t;
})();

const ONE_BYTE_MAPS: Record<Arch, Entry[]> = { amd64: oneByteMap('amd64'), i386: oneByteMap('i386') };

const PREFIX_OPERAND_SIZE = 0x66;
const PREFIX_ADDRESS_SIZE = 0x67;
const PREFIX_REP = 0xf3;
const OPCODE_POP_RM = 0x8f;
/** 0F 3A: every instruction has an imm8 (0F 38: none). */
const THREE_BYTE_MAP_WITH_IMM8 = 0x3a;
const OPCODE_POPCNT = 0xb8;
const MODRM_MOD_REGISTER = 3;
const MODRM_RM_SIB = 4;
const MODRM_RM_DISP32 = 5;
const SIB_BASE_DISP32 = 5;

/**
 * The length of the instruction at `bytes[offset]`, or undefined when this decoder does not know the encoding or
 * the bytes end first.
 */
export function instructionLength(bytes: Uint8Array, offset: number, arch: Arch): number | undefined {
  const end = Math.min(bytes.length, offset + MAX_INSTRUCTION_BYTES);
  let at = offset;
  let operandSize16 = false;
  let addressSizeOverride = false;
  let rep = false;
  let rexW = false;
  let rexSeen = false;
  const oneByte = ONE_BYTE_MAPS[arch];
  // Prefixes. A REX must come last: one followed by another prefix is ignored by Intel but not by QEMU.
  for (;;) {
    if (at >= end) return undefined;
    const b = bytes[at]!;
    if (oneByte[b] !== 'prefix') break;
    if (rexSeen) return undefined;
    if (arch === 'amd64' && b >= 0x40 && b <= 0x4f) {
      rexSeen = true;
      rexW = (b & 8) !== 0;
    }
    operandSize16 ||= b === PREFIX_OPERAND_SIZE;
    addressSizeOverride ||= b === PREFIX_ADDRESS_SIZE;
    rep ||= b === PREFIX_REP;
    at++;
  }
  // 16-bit addressing has a different ModRM layout: not decoded.
  if (addressSizeOverride && arch === 'i386') return undefined;

  let opcode = bytes[at++]!;
  let entry = oneByte[opcode];
  if (entry === 'escape') {
    if (at >= end) return undefined;
    opcode = bytes[at++]!;
    entry = TWO_BYTE_MAP[opcode];
    if (entry === 'escape') {
      const map = opcode;
      if (at >= end) return undefined;
      at++; // the third opcode byte
      entry = form(true, map === THREE_BYTE_MAP_WITH_IMM8 ? Imm.Byte : Imm.None);
    } else if (opcode === OPCODE_POPCNT && !rep) {
      return undefined;
    }
  } else if (opcode === OPCODE_POP_RM && at < end && ((bytes[at]! >> 3) & 7) !== 0) {
    return undefined; // XOP
  }
  if (typeof entry !== 'object') return undefined;

  let reg = 0;
  if (entry.modrm) {
    const length = modrmLength(bytes, at, end);
    if (length === undefined) return undefined;
    reg = (bytes[at]! >> 3) & 7;
    at += length;
  }
  const immediate = immediateLength(entry.imm, reg, opcode, { operandSize16, rexW, addressSizeOverride, arch });
  if (immediate === undefined) return undefined;
  at += immediate;
  return at <= end ? at - offset : undefined;
}

/** Bytes of ModRM, SIB and displacement (32/64-bit addressing) at `bytes[at]`. */
function modrmLength(bytes: Uint8Array, at: number, end: number): number | undefined {
  if (at >= end) return undefined;
  const modrm = bytes[at]!;
  const mod = modrm >> 6;
  const rm = modrm & 7;
  if (mod === MODRM_MOD_REGISTER) return 1;
  let length = 1;
  if (rm === MODRM_RM_SIB) {
    if (at + 1 >= end) return undefined;
    length++;
    if (mod === 0 && (bytes[at + 1]! & 7) === SIB_BASE_DISP32) length += 4;
  } else if (mod === 0 && rm === MODRM_RM_DISP32) {
    length += 4; // disp32 (rip-relative on amd64)
  }
  if (mod === 1) length += 1;
  if (mod === 2) length += 4;
  return length;
}

interface OperandSizes {
  operandSize16: boolean;
  rexW: boolean;
  addressSizeOverride: boolean;
  arch: Arch;
}

function immediateLength(imm: Imm, reg: number, opcode: number, s: OperandSizes): number | undefined {
  const z = s.operandSize16 && !s.rexW ? 2 : 4;
  switch (imm) {
    case Imm.None:
      return 0;
    case Imm.Byte:
      return 1;
    case Imm.Word:
      return 2;
    case Imm.Z:
      return z;
    case Imm.V:
      return s.rexW ? 8 : z;
    case Imm.Rel:
      return s.operandSize16 ? undefined : 4;
    case Imm.Enter:
      return 3;
    case Imm.Moffs:
      return s.arch === 'amd64' ? (s.addressSizeOverride ? 4 : 8) : 4;
    case Imm.Group3:
      if (reg > 1) return 0;
      return opcode === 0xf6 ? 1 : z;
  }
}
