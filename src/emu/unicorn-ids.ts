/**
 * Numeric ids from the installed Unicorn 2.0.1 headers (`unicorn/unicorn.h`, `unicorn/x86.h`).
 * They were printed by compiling a C program against those headers, not counted by hand: the enums have gaps and
 * aliases. If Unicorn is upgraded, regenerate them the same way (see scripts/unicorn-ids.c).
 */

export const UC_ARCH_X86 = 4;
export const UC_MODE_32 = 1 << 2;
export const UC_MODE_64 = 1 << 3;

/** Memory permissions (uc_prot). */
export const UC_PROT_NONE = 0;
export const UC_PROT_READ = 1;
export const UC_PROT_WRITE = 2;
export const UC_PROT_EXEC = 4;
export const UC_PROT_ALL = 7;

/** Hook types (uc_hook_type). */
export const UC_HOOK_INTR = 1 << 0;
export const UC_HOOK_INSN = 1 << 1;
export const UC_HOOK_CODE = 1 << 2;
export const UC_HOOK_BLOCK = 1 << 3;
export const UC_HOOK_MEM_READ_UNMAPPED = 1 << 4;
export const UC_HOOK_MEM_WRITE_UNMAPPED = 1 << 5;
export const UC_HOOK_MEM_FETCH_UNMAPPED = 1 << 6;
export const UC_HOOK_MEM_READ_PROT = 1 << 7;
export const UC_HOOK_MEM_WRITE_PROT = 1 << 8;
export const UC_HOOK_MEM_FETCH_PROT = 1 << 9;
export const UC_HOOK_MEM_READ = 1 << 10;
export const UC_HOOK_MEM_WRITE = 1 << 11;
export const UC_HOOK_INSN_INVALID = 1 << 14;
export const UC_HOOK_MEM_INVALID = 0x3f0;

/** Instruction ids for UC_HOOK_INSN (uc_x86_insn). */
export const UC_X86_INS_CPUID = 113;
export const UC_X86_INS_SYSCALL = 699;

/** uc_ctl requests, already combined with UC_CTL_READ/WRITE(type, nr). */
export const UC_CTL_TB_REQUEST_CACHE_RW = -939524088;
export const UC_CTL_TB_REMOVE_CACHE_W = 1207959561;
export const UC_CTL_TB_FLUSH_W = 1073741834;

/** uc_err codes. */
export const UC_ERR = {
  OK: 0,
  NOMEM: 1,
  ARCH: 2,
  HANDLE: 3,
  MODE: 4,
  VERSION: 5,
  READ_UNMAPPED: 6,
  WRITE_UNMAPPED: 7,
  FETCH_UNMAPPED: 8,
  HOOK: 9,
  INSN_INVALID: 10,
  MAP: 11,
  WRITE_PROT: 12,
  READ_PROT: 13,
  FETCH_PROT: 14,
  ARG: 15,
  READ_UNALIGNED: 16,
  WRITE_UNALIGNED: 17,
  FETCH_UNALIGNED: 18,
  HOOK_EXIST: 19,
  RESOURCE: 20,
  EXCEPTION: 21,
} as const;

/** x86 register ids (uc_x86_reg) for the registers shimulator reads or writes. */
export const X86_REG = {
  eax: 19, ebx: 21, ecx: 22, edx: 24, esi: 29, edi: 23, ebp: 20, esp: 30, eip: 26, eflags: 25,
  rax: 35, rbx: 37, rcx: 38, rdx: 40, rsi: 43, rdi: 39, rbp: 36, rsp: 44, rip: 41, rflags: 253,
  r8: 106, r9: 107, r10: 108, r11: 109, r12: 110, r13: 111, r14: 112, r15: 113,
  cs: 11, ds: 17, es: 28, fs: 32, gs: 33, ss: 49,
  cr0: 50, cr4: 54,
  fpsw: 31, fpcw: 246, fptag: 247, mxcsr: 249,
  fs_base: 250, gs_base: 251,
  gdtr: 243,
  st0: 114, st1: 115, st2: 116, st3: 117, st4: 118, st5: 119, st6: 120, st7: 121,
  xmm0: 122, xmm1: 123, xmm2: 124, xmm3: 125, xmm4: 126, xmm5: 127, xmm6: 128, xmm7: 129,
  xmm8: 130, xmm9: 131, xmm10: 132, xmm11: 133, xmm12: 134, xmm13: 135, xmm14: 136, xmm15: 137,
} as const;
