/**
 * The calling thread's TLS layout (TLS variant II, see tls-watch.ts): the thread pointer, the TCB's fields, each
 * module's static TLS block — asked of the guest's own glibc (dlinfo(RTLD_DI_TLS_DATA)) — and errno's address.
 * A thread started later has the same layout at its own thread pointer.
 */
import { unsignedOf } from '../emu/bytes.ts';
import type { CallResult } from '../callspec/host-call.ts';
import { out, type HostValue } from '../callspec/values.ts';
import type { MappedObject, Process } from '../loader/process.ts';
import { TCB_FIELDS, type TlsLayout, type TlsModuleBlock } from './tls-watch.ts';

/** dlopen mode bits (glibc's bits/dlfcn.h): resolve lazily, and only find an object already loaded. */
const RTLD_LAZY = 1;
const RTLD_NOLOAD = 4;
/** dlinfo request: the address of the module's TLS block for the calling thread. */
const RTLD_DI_TLS_DATA = 10;

/** What reading the layout needs: the process, its loaded objects, and uninstrumented calls of libc functions. */
export interface TlsLayoutGuest {
  process: Process;
  objects(): MappedObject[];
  /** A host call of the libc function `proto` (never checked nor watched). */
  libc(proto: string, ...args: HostValue[]): CallResult;
  errnoAddress: number;
}

/** The main thread's TLS layout, read through guest calls (dlopen(RTLD_NOLOAD), dlinfo, dlclose per module). */
export function readTlsLayout(guest: TlsLayoutGuest): TlsLayout {
  const { process, libc } = guest;
  const arch = process.arch;
  const threadPointer = Number(libc('void *pthread_self(void)').value);
  const word = arch === 'amd64' ? 8 : 4;
  const modules: TlsModuleBlock[] = [];
  for (const object of guest.objects()) {
    if (!object.elf.tls || object.path === process.exe.path) continue;
    const handle = Number(libc('void *dlopen(const char *file, int mode)', object.path, RTLD_LAZY | RTLD_NOLOAD).value);
    if (handle === 0) continue;
    const info = libc('int dlinfo(void *handle, int request, void *arg)', handle, RTLD_DI_TLS_DATA, out(8));
    const start = Number(unsignedOf(info.out[2]!.subarray(0, word)));
    libc('int dlclose(void *handle)', handle);
    if (info.value !== 0 || start === 0) continue;
    const symbols: Record<number, string> = {};
    for (const symbol of object.elf.dynsym) if (symbol.type === 'TLS' && symbol.defined) symbols[symbol.value] ??= symbol.name;
    modules.push({ module: object.elf.soname ?? object.path, start, size: object.elf.tls.memsz, symbols });
  }
  const fields = Object.entries(TCB_FIELDS[arch]).map(([offset, name]) => ({
    offset: Number(offset),
    name,
    value: `0x${unsignedOf(process.engine.read(threadPointer + Number(offset), word)).toString(16)}`,
  }));
  return {
    arch,
    threadPointer,
    segment: arch === 'amd64' ? 'fs' : 'gs',
    selector: arch === 'i386' ? Number(process.engine.reg('gs')) : undefined,
    tcb: { start: threadPointer, fields },
    modules,
    errno: guest.errnoAddress,
  };
}

/** A started thread's TLS layout: the main thread's, moved to its thread pointer, with its own errno. */
export function threadTlsLayout(main: TlsLayout, handle: { threadPointer: number; errnoAddress: number }, process: Process): TlsLayout {
  const delta = handle.threadPointer - main.threadPointer;
  const word = process.arch === 'amd64' ? 8 : 4;
  return {
    ...main,
    threadPointer: handle.threadPointer,
    tcb: {
      start: handle.threadPointer,
      fields: main.tcb.fields.map((f) => ({ ...f, value: `0x${unsignedOf(process.engine.read(handle.threadPointer + f.offset, word)).toString(16)}` })),
    },
    modules: main.modules.map((m) => ({ ...m, start: m.start + delta })),
    errno: handle.errnoAddress,
  };
}
