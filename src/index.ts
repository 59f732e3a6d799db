/** shimulator's public API. */
export { Machine, DEFAULT_CALL_BUDGET, DlopenError, UnknownLibraryError } from './machine.ts';
export type { BootOptions, CallResult, CFunction } from './machine.ts';
export { out, vararg, OutBuffer, TypedValue, ArgumentError } from './callspec/values.ts';
export type { HostValue, DecodedValue } from './callspec/values.ts';
export { Declarations, DeclarationError } from './callspec/parse.ts';
export { callSpec, CallSpecError } from './callspec/classify.ts';
export { renderCallSpec } from './callspec/render.ts';
export { sizeOf, alignOf, structLayout, LayoutError } from './callspec/layout.ts';
export type { CallSpec, CType, Prototype, Location, ArgSpec, ReturnSpec } from './callspec/types.ts';
export type { Arch } from './emu/arch.ts';
export { GuestFault, BudgetExceededError, EngineUnavailableError, EngineError } from './emu/errors.ts';
export { virtualCpuid } from './emu/cpuid.ts';
export { GuestExit, GuestBlockedError } from './kernel/kernel.ts';
export { parseElf, ElfError } from './loader/elf.ts';
export type { ElfFile, ElfSymbol } from './loader/elf.ts';
export { LoaderError } from './loader/process.ts';
export { SymbolNotFoundError } from './loader/symbols.ts';
export { FixtureError } from './loader/fixtures.ts';
