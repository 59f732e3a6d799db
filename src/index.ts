/** shimulator's public API. */
export { Machine, DEFAULT_CALL_BUDGET, DlopenError, MachineExitedError, UnknownLibraryError, loadAbiChecker } from './machine.ts';
export type { BootOptions, CallResult, CFunction, CallbackOptions, GuestThreadHandle, ThreadCall, ShimTestOptions, ShimTestResult } from './machine.ts';
export { out, vararg, OutBuffer, TypedValue, GuestPointer, ArgumentError } from './callspec/values.ts';
export { Callback, type CallbackFunction } from './callspec/callback.ts';
export { LongDouble, LongDoubleError } from './callspec/long-double.ts';
export type { HostValue, DecodedValue } from './callspec/values.ts';
export { Declarations, DeclarationError } from './callspec/parse.ts';
export { callSpec, CallSpecError } from './callspec/classify.ts';
export { renderCallSpec } from './callspec/render.ts';
export { sizeOf, alignOf, structLayout, LayoutError } from './callspec/layout.ts';
export type { CallSpec, CType, Prototype, Location, ArgSpec, ReturnSpec } from './callspec/types.ts';
export type { Arch } from './emu/arch.ts';
export { GuestFault, BudgetExceededError, EngineUnavailableError, EngineError } from './emu/errors.ts';
export { virtualCpuid } from './emu/cpuid.ts';
export type { CountingChoice, CountingInfo, CountingMode } from './emu/block-counter.ts';
export { NativeCounterUnavailableError, NATIVE_ENV } from './emu/native-counter.ts';
export { GuestExit } from './kernel/kernel.ts';
export { OutputLimitError, CapturedOutput, type OutputSink } from './kernel/output.ts';
export { GuestDeadlockError } from './kernel/threads.ts';
export { SnapshotError, SnapshotUnsupportedError, SnapshotMismatchError, ImageFormatError } from './snapshot/errors.ts';
export { MachineSnapshot } from './snapshot/machine-snapshot.ts';
export { BootImageCache, defaultCacheDir, type CacheOption } from './snapshot/image-cache.ts';
export { parseElf, ElfError } from './loader/elf.ts';
export type { ElfFile, ElfSymbol } from './loader/elf.ts';
export { LoaderError } from './loader/process.ts';
export { SymbolNotFoundError } from './loader/symbols.ts';
export { FixtureError } from './loader/fixtures.ts';
export { WallTimeoutError, TimeLimitError, DEFAULT_CALL_TIMEOUT_SECONDS } from './loader/limits.ts';
// The ABI checker's reports for long runs: grouped violations, call events (--calls), IFUNCs known up front.
export { groupViolations, formatViolationGroups } from './check/group.ts';
export type { ViolationGroup } from './check/group.ts';
export { callPrinter, formatCallLine, formatCallValue } from './check/calls.ts';
export type { CallEvent, CallValue } from './check/calls.ts';
export { precomputeIfuncImplementations } from './check/ifunc.ts';
export type { AbiReport, RuleId, Violation } from './check/rules.ts';
// Traces: record a call instruction by instruction, encode/decode, play back, print (src/trace).
export { recordTrace, activeRecording, TraceLimitError, DEFAULT_MAX_STEPS } from './trace/recorder.ts';
export type { RecordOptions, TraceRecording } from './trace/recorder.ts';
export { encodeTrace, decodeTrace, functionAt, TraceFormatError, TRACE_FORMAT, TRACE_VERSION } from './trace/format.ts';
export type {
  Trace, TraceRegister, TraceCode, TraceMemory, TraceWrite, TraceSyscall, TraceEvent, TraceRun, TraceFunction,
} from './trace/format.ts';
export { TracePlayer } from './trace/player.ts';
export type { PlayerInstruction } from './trace/player.ts';
export { printTrace } from './trace/print.ts';
export type { PrintOptions } from './trace/print.ts';
export { disassemble, loadDisassembler, DisassemblerNotLoadedError } from './trace/disassemble.ts';
export type { Disassembly } from './trace/disassemble.ts';
// The playground (src/playground): an HTTP server for the browser UI, and static lesson export. Loaded on first
// use, so that importing the library does not load esbuild and the HTTP server.
export type { Playground, PlaygroundOptions } from './playground/server.ts';
export type { ExportOptions } from './playground/export.ts';
export async function startPlayground(options?: import('./playground/server.ts').PlaygroundOptions): Promise<import('./playground/server.ts').Playground> {
  return (await import('./playground/server.ts')).startPlayground(options);
}
export async function exportLesson(id: string, outDir: string, options?: import('./playground/export.ts').ExportOptions): Promise<{ files: string[] }> {
  return (await import('./playground/export.ts')).exportLesson(id, outDir, options);
}
