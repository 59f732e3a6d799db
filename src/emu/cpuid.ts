/**
 * The virtual CPU: a pinned CPUID model, so glibc's feature checks and IFUNC choices are the same on every host.
 *
 * Model: "shimulator x86-64 baseline" — an Intel-compatible family 6 CPU with exactly the x86-64 baseline ISA
 * (psABI x86-64 level v1): FPU, TSC, CX8, CMOV, MMX, FXSR, SSE, SSE2, plus SYSCALL, NX and long mode. No SSE3+,
 * no AVX, no XSAVE: glibc therefore picks its SSE2 string functions and saves registers with FXSAVE in its lazy
 * binding trampoline, on amd64 and i386 alike. Unicorn 2.0.1's own CPUID (qemu64) reports no FPU/MMX, which makes
 * glibc's ld.so refuse to start ("CPU ISA level is lower than required"), hence this model.
 *
 * Cache topology (leaf 4) is a plain 32 KiB L1d/L1i, 256 KiB L2, 8 MiB L3, 64-byte lines, one core, so glibc's
 * memcpy thresholds are fixed values.
 */
import type { CpuidResult } from './engine.ts';

/** CPUID.1:EDX feature bits (Intel SDM vol. 2A, table 3-11). */
export const CPUID1_EDX = {
  FPU: 1 << 0,
  TSC: 1 << 4,
  CX8: 1 << 8,
  SEP: 1 << 11,
  CMOV: 1 << 15,
  CLFSH: 1 << 19,
  MMX: 1 << 23,
  FXSR: 1 << 24,
  SSE: 1 << 25,
  SSE2: 1 << 26,
} as const;

/** CPUID.80000001h:EDX bits. */
export const CPUID_EXT1_EDX = {
  SYSCALL: 1 << 11,
  NX: 1 << 20,
  LM: 1 << 29,
} as const;

const LEAF_VENDOR = 0x0;
const LEAF_FEATURES = 0x1;
const LEAF_CACHE_DESCRIPTORS = 0x2;
const LEAF_CACHE_PARAMETERS = 0x4;
const LEAF_EXT_MAX = 0x80000000;
const LEAF_EXT_FEATURES = 0x80000001;
const LEAF_BRAND_FIRST = 0x80000002;
const LEAF_BRAND_LAST = 0x80000004;
const LEAF_ADDRESS_SIZES = 0x80000008;

/** Highest basic leaf: 4, so glibc takes cache sizes from leaf 4 and skips topology leaf 0xb and XSAVE leaf 0xd. */
const MAX_BASIC_LEAF = LEAF_CACHE_PARAMETERS;

export const VENDOR = 'GenuineIntel';
export const BRAND = 'shimulator x86-64 baseline virtual CPU';
/** Family 6, model 0x0f (a Core 2 signature that glibc has no model-specific tuning for), stepping 0. */
export const FAMILY = 6;
export const MODEL = 0x0f;
export const STEPPING = 0;

const CACHE_LINE = 64;
/** Leaf 2 descriptor 0xff: "no descriptors here, use leaf 4". Low byte 1: leaf 2 needs one call. */
const LEAF2_USE_LEAF4 = 0x0000ff01;

interface CacheLevel {
  type: 1 | 2 | 3; // data, instruction, unified
  level: number;
  ways: number;
  sets: number;
}

const CACHES: CacheLevel[] = [
  { type: 1, level: 1, ways: 8, sets: 64 }, // 32 KiB L1d
  { type: 2, level: 1, ways: 8, sets: 64 }, // 32 KiB L1i
  { type: 3, level: 2, ways: 4, sets: 1024 }, // 256 KiB L2
  { type: 3, level: 3, ways: 16, sets: 8192 }, // 8 MiB L3
];

const FEATURES_EDX =
  CPUID1_EDX.FPU | CPUID1_EDX.TSC | CPUID1_EDX.CX8 | CPUID1_EDX.SEP | CPUID1_EDX.CMOV | CPUID1_EDX.CLFSH |
  CPUID1_EDX.MMX | CPUID1_EDX.FXSR | CPUID1_EDX.SSE | CPUID1_EDX.SSE2;

/** Packs a 12- or 16-byte ASCII string into little-endian register words. */
function words(text: string, count: number): number[] {
  const bytes = Buffer.alloc(count * 4);
  bytes.write(text, 'latin1');
  return Array.from({ length: count }, (_, i) => bytes.readUInt32LE(i * 4));
}

const NONE: CpuidResult = { eax: 0, ebx: 0, ecx: 0, edx: 0 };

function vendorLeaf(): CpuidResult {
  const [ebx, edx, ecx] = words(VENDOR, 3);
  return { eax: MAX_BASIC_LEAF, ebx: ebx!, ecx: ecx!, edx: edx! };
}

function featureLeaf(): CpuidResult {
  const signature = (FAMILY << 8) | (MODEL << 4) | STEPPING;
  const clflushLines = CACHE_LINE / 8; // EBX[15:8]: CLFLUSH line size in 8-byte units
  return { eax: signature, ebx: clflushLines << 8, ecx: 0, edx: FEATURES_EDX };
}

function cacheParameterLeaf(subleaf: number): CpuidResult {
  const cache = CACHES[subleaf];
  if (!cache) return NONE; // type 0: no more caches
  const selfInitializing = 1 << 8;
  return {
    eax: cache.type | (cache.level << 5) | selfInitializing,
    ebx: ((cache.ways - 1) << 22) | (CACHE_LINE - 1),
    ecx: cache.sets - 1,
    edx: 0,
  };
}

function brandLeaf(leaf: number): CpuidResult {
  const all = words(BRAND, 12);
  const base = (leaf - LEAF_BRAND_FIRST) * 4;
  return { eax: all[base]!, ebx: all[base + 1]!, ecx: all[base + 2]!, edx: all[base + 3]! };
}

/** Answers CPUID for (leaf, subleaf) from the pinned model. Unknown leaves answer zeros, like absent leaves do. */
export function virtualCpuid(leaf: number, subleaf: number): CpuidResult {
  switch (leaf) {
    case LEAF_VENDOR:
      return vendorLeaf();
    case LEAF_FEATURES:
      return featureLeaf();
    case LEAF_CACHE_DESCRIPTORS:
      return { eax: LEAF2_USE_LEAF4, ebx: 0, ecx: 0, edx: 0 };
    case LEAF_CACHE_PARAMETERS:
      return cacheParameterLeaf(subleaf);
    case LEAF_EXT_MAX:
      return { eax: LEAF_ADDRESS_SIZES, ebx: 0, ecx: 0, edx: 0 };
    case LEAF_EXT_FEATURES:
      return { eax: 0, ebx: 0, ecx: 0, edx: CPUID_EXT1_EDX.SYSCALL | CPUID_EXT1_EDX.NX | CPUID_EXT1_EDX.LM };
    case LEAF_ADDRESS_SIZES:
      return { eax: 0x3030, ebx: 0, ecx: 0, edx: 0 }; // 48-bit virtual and physical addresses
    default:
      if (leaf >= LEAF_BRAND_FIRST && leaf <= LEAF_BRAND_LAST) return brandLeaf(leaf);
      return NONE;
  }
}
