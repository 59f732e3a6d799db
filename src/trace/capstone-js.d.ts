/** The part of @alexaltea/capstone-js (Capstone 5, emscripten/WebAssembly; ships no types) that shimulator uses. */
declare module '@alexaltea/capstone-js' {
  export interface CapstoneInstruction {
    id: number;
    address: bigint;
    size: number;
    bytes: number[];
    mnemonic: string;
    op_str: string;
  }
  export interface CapstoneHandle {
    disasm(buffer: ArrayLike<number>, address: number | bigint, max?: number): CapstoneInstruction[];
    option(option: number, value: number): void;
    close(): void;
  }
  export interface CapstoneModule {
    Capstone: new (arch: number, mode: number) => CapstoneHandle;
    ARCH_X86: number;
    MODE_32: number;
    MODE_64: number;
    OPT_SYNTAX: number;
    OPT_SYNTAX_INTEL: number;
  }
  /** Emscripten module options (e.g. `wasmBinary`, `locateFile` for browsers). */
  const MCapstone: (options?: Record<string, unknown>) => Promise<CapstoneModule>;
  export default MCapstone;
}
