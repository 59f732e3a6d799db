/**
 * The native Unicorn 2 library, bound through koffi: the C functions and hook prototypes shimulator uses, loaded once
 * per process. Only the engine (unicorn.ts) calls them.
 */
import koffi from 'koffi';
import { locateUnicorn } from './library.ts';

export interface Native {
  uc_open: koffi.KoffiFunction;
  uc_close: koffi.KoffiFunction;
  uc_strerror: koffi.KoffiFunction;
  uc_mem_map: koffi.KoffiFunction;
  uc_mem_map_ptr: koffi.KoffiFunction;
  uc_mem_unmap: koffi.KoffiFunction;
  uc_mem_protect: koffi.KoffiFunction;
  uc_mem_read: koffi.KoffiFunction;
  uc_mem_write: koffi.KoffiFunction;
  uc_reg_read: koffi.KoffiFunction;
  uc_reg_write: koffi.KoffiFunction;
  uc_reg_read_batch: koffi.KoffiFunction;
  uc_emu_start: koffi.KoffiFunction;
  uc_emu_stop: koffi.KoffiFunction;
  uc_hook_add: koffi.KoffiFunction;
  uc_hook_del: koffi.KoffiFunction;
  uc_context_alloc: koffi.KoffiFunction;
  uc_context_save: koffi.KoffiFunction;
  uc_context_restore: koffi.KoffiFunction;
  uc_context_free: koffi.KoffiFunction;
  uc_context_size: koffi.KoffiFunction;
  uc_ctl: koffi.KoffiFunction;
  uc_version: koffi.KoffiFunction;
  protos: {
    block: koffi.IKoffiCType;
    intr: koffi.IKoffiCType;
    syscall: koffi.IKoffiCType;
    cpuid: koffi.IKoffiCType;
    code: koffi.IKoffiCType;
    memAccess: koffi.IKoffiCType;
    memInvalid: koffi.IKoffiCType;
  };
}

let native: Native | undefined;

function bind(path: string): Native {
  const lib = koffi.load(path);
  koffi.opaque('uc_engine');
  koffi.opaque('uc_context');
  const f = (decl: string) => lib.func(decl);
  return {
    uc_open: f('int uc_open(int arch, int mode, _Out_ uc_engine **uc)'),
    uc_close: f('int uc_close(uc_engine *uc)'),
    uc_strerror: f('const char *uc_strerror(int code)'),
    uc_mem_map: f('int uc_mem_map(uc_engine *uc, uint64_t address, size_t size, uint32_t perms)'),
    // The host pointer is passed as an integer: it comes from host-memory.ts as a bigint address.
    uc_mem_map_ptr: f('int uc_mem_map_ptr(uc_engine *uc, uint64_t address, size_t size, uint32_t perms, uintptr_t ptr)'),
    uc_mem_unmap: f('int uc_mem_unmap(uc_engine *uc, uint64_t address, size_t size)'),
    uc_mem_protect: f('int uc_mem_protect(uc_engine *uc, uint64_t address, size_t size, uint32_t perms)'),
    uc_mem_read: f('int uc_mem_read(uc_engine *uc, uint64_t address, _Out_ uint8_t *bytes, size_t size)'),
    uc_mem_write: f('int uc_mem_write(uc_engine *uc, uint64_t address, const uint8_t *bytes, size_t size)'),
    uc_reg_read: f('int uc_reg_read(uc_engine *uc, int regid, _Out_ uint8_t *value)'),
    uc_reg_write: f('int uc_reg_write(uc_engine *uc, int regid, const uint8_t *value)'),
    // `vals` is an array of pointers (into memory from koffi.alloc), passed as the bytes of a BigUint64Array.
    uc_reg_read_batch: f('int uc_reg_read_batch(uc_engine *uc, const int *regs, const void *vals, int count)'),
    uc_emu_start: f('int uc_emu_start(uc_engine *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'),
    uc_emu_stop: f('int uc_emu_stop(uc_engine *uc)'),
    uc_hook_add: f(
      'int uc_hook_add(uc_engine *uc, _Out_ size_t *hh, int type, void *callback, void *user_data, uint64_t begin, uint64_t end, ...)',
    ),
    uc_hook_del: f('int uc_hook_del(uc_engine *uc, size_t hh)'),
    uc_context_alloc: f('int uc_context_alloc(uc_engine *uc, _Out_ uc_context **context)'),
    uc_context_save: f('int uc_context_save(uc_engine *uc, uc_context *context)'),
    uc_context_restore: f('int uc_context_restore(uc_engine *uc, uc_context *context)'),
    uc_context_free: f('int uc_context_free(uc_context *context)'),
    uc_context_size: f('size_t uc_context_size(uc_engine *uc)'),
    uc_ctl: f('int uc_ctl(uc_engine *uc, int control, ...)'),
    uc_version: f('unsigned int uc_version(unsigned int *major, unsigned int *minor)'),
    protos: {
      // Pointer parameters are declared uintptr_t: the hooks never use them, and koffi then passes plain numbers
      // instead of allocating a pointer object per call (0.39 → 0.13 µs per block callback, measured).
      block: koffi.proto('void shim_uc_block_cb(uintptr_t uc, uint64_t address, uint32_t size, uintptr_t user)'),
      intr: koffi.proto('void shim_uc_intr_cb(uintptr_t uc, uint32_t intno, uintptr_t user)'),
      syscall: koffi.proto('void shim_uc_syscall_cb(uintptr_t uc, uintptr_t user)'),
      cpuid: koffi.proto('int shim_uc_cpuid_cb(uintptr_t uc, uintptr_t user)'),
      code: koffi.proto('void shim_uc_code_cb(uintptr_t uc, uint64_t address, uint32_t size, uintptr_t user)'),
      memAccess: koffi.proto(
        'void shim_uc_mem_cb(uintptr_t uc, int type, uint64_t address, int size, int64_t value, uintptr_t user)',
      ),
      memInvalid: koffi.proto(
        'bool shim_uc_mem_invalid_cb(uintptr_t uc, int type, uint64_t address, int size, int64_t value, uintptr_t user)',
      ),
    },
  };
}

/** Loads libunicorn once per process (throws EngineUnavailableError with install instructions when missing). */
export function loadUnicorn(): Native {
  native ??= locateUnicorn(bind);
  return native;
}

/** The loaded Unicorn's version as "major.minor.patch". */
export function unicornVersion(): string {
  const v = loadUnicorn().uc_version(null, null) as number;
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}`;
}
