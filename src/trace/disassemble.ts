/**
 * x86 disassembly (Intel syntax) with Capstone 5 (@alexaltea/capstone-js, a WebAssembly build that runs in Node
 * and in browsers). Used when traces are printed or played back, never while recording.
 *
 * Capstone's emscripten loader can only start asynchronously, so initialisation is an explicit, lazy step:
 * `await loadDisassembler()` (idempotent; compiles the ~3 MB WebAssembly module once, ~30 ms) before the
 * synchronous `disassemble`. In a browser, pass `{ locateFile }` or `{ wasmBinary }` to say where capstone.wasm is.
 */
import type { CapstoneHandle, CapstoneInstruction } from '@alexaltea/capstone-js';
import type { Arch } from '../emu/arch.ts';

export interface Disassembly {
  mnemonic: string;
  operands: string;
  /** `mnemonic operands` (just the mnemonic when there are none). */
  text: string;
  /** Bytes the instruction takes (1 for undecodable bytes). */
  size: number;
}

export class DisassemblerNotLoadedError extends Error {
  override name = 'DisassemblerNotLoadedError';
  constructor() {
    super('the disassembler is not loaded yet: await loadDisassembler() (or use TracePlayer.open) first');
  }
}

let handles: Record<Arch, CapstoneHandle> | undefined;
let loading: Promise<void> | undefined;

/** Loads Capstone (once). Options go to the emscripten module (`locateFile`, `wasmBinary`). */
export function loadDisassembler(options?: Record<string, unknown>): Promise<void> {
  loading ??= (async () => {
    const { default: MCapstone } = await import('@alexaltea/capstone-js');
    const cs = await MCapstone(options ?? {});
    const open = (mode: number) => {
      const handle = new cs.Capstone(cs.ARCH_X86, mode);
      handle.option(cs.OPT_SYNTAX, cs.OPT_SYNTAX_INTEL);
      return handle;
    };
    handles = { amd64: open(cs.MODE_64), i386: open(cs.MODE_32) };
  })().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

export function disassemblerLoaded(): boolean {
  return handles !== undefined;
}

/** Disassembles the first instruction in `bytes`, located at guest `address`. */
export function disassemble(bytes: Uint8Array, address: number, arch: Arch): Disassembly {
  if (!handles) throw new DisassemblerNotLoadedError();
  let insn;
  try {
    insn = handles[arch].disasm(bytes, address, 1)[0];
  } catch {
    insn = undefined; // Capstone throws for bytes it cannot decode
  }
  if (!insn) {
    const text = `(bad) ${bytes.length > 0 ? `0x${bytes[0]!.toString(16).padStart(2, '0')}` : ''}`.trim();
    return { mnemonic: '(bad)', operands: '', text, size: 1 };
  }
  const mnemonic = insn.mnemonic;
  const operands = insn.op_str;
  return { mnemonic, operands, text: operands ? `${mnemonic} ${operands}` : mnemonic, size: insn.size };
}

/**
 * Disassembles up to `count` consecutive instructions from `bytes` (located at guest `address`), stopping early at
 * bytes Capstone cannot decode. Each gets its byte offset from `address`.
 */
export function disassembleRun(bytes: Uint8Array, address: number, arch: Arch, count: number): (Disassembly & { offset: number })[] {
  if (!handles) throw new DisassemblerNotLoadedError();
  let insns: CapstoneInstruction[];
  try {
    insns = handles[arch].disasm(bytes, address, count);
  } catch {
    insns = []; // the first instruction is undecodable
  }
  let offset = 0;
  return insns.map((insn) => {
    const at = offset;
    offset += insn.size;
    return { mnemonic: insn.mnemonic, operands: insn.op_str, text: insn.op_str ? `${insn.mnemonic} ${insn.op_str}` : insn.mnemonic, size: insn.size, offset: at };
  });
}
