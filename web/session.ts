/**
 * One loaded call: its CallSpec, its result and its trace player, plus what the views derive from them — where
 * the called function is entered and returns, which register or stack slot holds which argument, symbol names.
 */
import type { CallSpec, Location } from '../src/callspec/types.ts';
import { typeName } from '../src/callspec/layout.ts';
import { decodeTrace, type Trace } from '../src/trace/format.ts';
import { loadDisassembler } from '../src/trace/disassemble.ts';
import { TracePlayer } from '../src/trace/player.ts';
import { base64ToBytes, type Arch, type CallResponse, type CallResultJson } from './api.ts';

export interface SymbolInfo {
  name: string;
  address: number;
  size?: number;
  object?: string;
}

export interface Session {
  arch: Arch;
  spec: CallSpec;
  result: CallResultJson;
  player: TracePlayer;
  /** False when capstone could not be loaded: instructions show as bytes only. */
  disassembly: boolean;
  symbols: SymbolInfo[];
  /** The run that made the call (the trace may start with helper runs: errno lookup, TLS layout). */
  mainRun: { start: number; end: number };
  /** First position inside the called function (after the trampoline's call), if found. */
  entryStep?: number;
  /** First position back in the trampoline after the function returned. */
  returnStep?: number;
  /** The stack pointer at entry (the return address is stored there). */
  entrySp?: number;
  /** The guest faulted: why (the trace ends at the faulting instruction and the call has no result). */
  fault?: string;
}

export const POINTER_SIZE: Record<Arch, number> = { amd64: 8, i386: 4 };
export const SP: Record<Arch, string> = { amd64: 'rsp', i386: 'esp' };
export const PC: Record<Arch, string> = { amd64: 'rip', i386: 'eip' };

let disassemblerPromise: Promise<boolean> | undefined;

/** Loads capstone once; true when it works (capstone finds capstone.wasm next to its module). */
export function ensureDisassembler(): Promise<boolean> {
  disassemblerPromise ??= (async () => {
    const wasmUrl = (globalThis as { SHIMULATOR_CAPSTONE_WASM?: string }).SHIMULATOR_CAPSTONE_WASM;
    const options: Record<string, unknown> = {};
    if (wasmUrl) options.locateFile = (path: string) => (path.endsWith('.wasm') ? wasmUrl : path);
    try {
      await loadDisassembler(options);
      return true;
    } catch {
      return false;
    }
  })();
  return disassemblerPromise;
}

export async function openSession(arch: Arch, response: CallResponse): Promise<Session> {
  const disassembly = await ensureDisassembler();
  const trace = decodeTrace(base64ToBytes(response.trace));
  const player = new TracePlayer(trace);
  const result = response.result;
  const runs = trace.runs.map((r, i) => ({ start: r.step, end: i + 1 < trace.runs.length ? trace.runs[i + 1]!.step : trace.steps }));
  let main = runs.find((r) => r.end - r.start === result.instructions) ?? runs[runs.length - 1] ?? { start: 0, end: trace.steps };
  const session: Session = {
    arch: trace.arch,
    spec: response.spec,
    result,
    player,
    disassembly,
    symbols: withTraceFunctions(normaliseSymbols(response.symbols), trace),
    mainRun: main,
    fault: response.fault,
  };
  findEntry(session);
  player.seek(main.start);
  return session;
}

function findEntry(s: Session): void {
  const p = s.player;
  const target = s.symbols.find((sym) => sym.name === s.spec.function || sym.name.startsWith(`${s.spec.function}@`));
  for (let step = s.mainRun.start; step < s.mainRun.end; step++) {
    const pc = p.trace.pc[step]!;
    if (target && pc === target.address) {
      s.entryStep = step;
      break;
    }
    if (!target && p.depth(step) === 0 && step + 1 <= s.mainRun.end && p.depth(step + 1) === 1) {
      s.entryStep = step + 1;
      break;
    }
  }
  if (s.entryStep === undefined) return;
  const d = p.depth(s.entryStep);
  for (let step = s.entryStep + 1; step <= s.mainRun.end; step++) {
    if (p.depth(step) < d) {
      s.returnStep = step;
      break;
    }
  }
  const saved = p.step;
  p.seek(s.entryStep);
  s.entrySp = Number(p.registerBigInt(SP[s.arch]));
  p.seek(saved);
}

/**
 * The server's labels plus the functions the trace recorded (`trace.functions`, glibc's internal ones included),
 * whose sizes let `symbolize` name exactly the addresses inside a function. A label the server gave a start keeps
 * its name. Mapping labels (`[shimulator code]`, no object) are left to the server's `trampoline` and host labels.
 */
export function withTraceFunctions(symbols: SymbolInfo[], trace: Pick<Trace, 'functions'>): SymbolInfo[] {
  const byAddress = new Map(symbols.map((s) => [s.address, s]));
  for (const f of trace.functions ?? []) {
    if (f.object === '') continue;
    byAddress.set(f.address, { name: byAddress.get(f.address)?.name ?? f.name, address: f.address, size: f.size, object: f.object });
  }
  return [...byAddress.values()].sort((a, b) => a.address - b.address);
}

/** Accepts the shapes a symbol table may come in: an array of {name, address}, or a name → address map. */
export function normaliseSymbols(raw: unknown): SymbolInfo[] {
  const out: SymbolInfo[] = [];
  const num = (v: unknown): number | undefined =>
    typeof v === 'number' ? v : typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v) ? Number(v) : undefined;
  const add = (name: unknown, address: unknown, size?: unknown, object?: unknown) => {
    const a = num(address);
    if (typeof name === 'string' && a !== undefined) {
      out.push({ name, address: a, size: num(size), object: typeof object === 'string' ? object : undefined });
    }
  };
  const visit = (value: unknown, object?: string): void => {
    if (Array.isArray(value)) {
      for (const item of value) {
        if (item && typeof item === 'object') {
          const o = item as Record<string, unknown>;
          if (Array.isArray(o.symbols)) visit(o.symbols, (o.name ?? o.object ?? o.path) as string | undefined);
          else add(o.name, o.address ?? o.value ?? o.addr, o.size, o.object ?? o.library ?? object);
        } else if (Array.isArray(item)) add(item[0], item[1], item[2], object);
      }
    } else if (value && typeof value === 'object') {
      const o = value as Record<string, unknown>;
      if (Array.isArray(o.symbols)) return visit(o.symbols);
      if (Array.isArray(o.objects)) return visit(o.objects);
      for (const [name, v] of Object.entries(o)) {
        // `{"0x7ffff7e5c2a0": "snprintf"}`: address → name (the playground server's shape)
        if (typeof v === 'string' && num(name) !== undefined) add(v, name);
        else if (v && typeof v === 'object' && !Array.isArray(v)) {
          const s = v as Record<string, unknown>;
          add(name, s.address ?? s.value, s.size, s.object ?? s.library);
        } else add(name, v);
      }
    }
  };
  visit(raw);
  return out.sort((a, b) => a.address - b.address);
}

/** `snprintf+0x12` for an address, when a symbol is near below it. */
export function symbolize(symbols: SymbolInfo[], address: number): string | undefined {
  let lo = 0;
  let hi = symbols.length - 1;
  let best: SymbolInfo | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (symbols[mid]!.address <= address) {
      best = symbols[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (!best) return undefined;
  const offset = address - best.address;
  if (best.size !== undefined ? offset >= Math.max(best.size, 1) : offset > 0x4000) return undefined;
  return offset ? `${best.name}+0x${offset.toString(16)}` : best.name;
}

/** Register name → what the plan puts there (`arg 4 double`, `%al = 1`, `return int`). */
export function registerRoles(spec: CallSpec): Map<string, string> {
  const roles = new Map<string, string>();
  const add = (reg: string, label: string) => {
    const full = fullRegister(spec.arch, reg);
    roles.set(full, roles.has(full) ? `${roles.get(full)}, ${label}` : label);
  };
  for (const arg of spec.args) {
    for (const l of arg.locations) if (l.kind === 'reg') add(l.reg, `arg ${arg.index} ${typeName(arg.type)}`);
  }
  if (spec.hiddenPointer?.kind === 'reg') add(spec.hiddenPointer.reg, 'hidden return pointer');
  if (spec.al !== undefined) add('al', `%al = ${spec.al}`);
  return roles;
}

/** What the registers and the stack held at the callee's entry, read once per session (seeking costs). */
const entryState = new WeakMap<Session, { registers: Record<string, string>; stack: Map<number, string> }>();

function atEntry(s: Session): { registers: Record<string, string>; stack: Map<number, string> } | undefined {
  if (s.entryStep === undefined) return undefined;
  let state = entryState.get(s);
  if (!state) {
    const p = s.player;
    const here = p.step;
    p.seek(s.entryStep);
    const stack = new Map<number, string>();
    for (const address of stackRoles(s).keys()) stack.set(address, slotText(s, address));
    state = { registers: { ...p.registers() }, stack };
    p.seek(here);
    entryState.set(s, state);
  }
  return state;
}

/** A stack word as hex, `?` for bytes the trace does not know. */
function slotText(s: Session, address: number): string {
  const { bytes, known } = s.player.peek(address, POINTER_SIZE[s.arch]);
  return [...bytes].map((b, i) => (known[i] ? b.toString(16).padStart(2, '0') : '?')).join('');
}

/**
 * The argument labels true at the player's current step: a register or stack slot is labelled while it holds the
 * value it had at the callee's entry — not before the caller has set it up, not after the callee overwrote it.
 */
export function liveRoles(s: Session): { registers: Map<string, string>; stack: Map<number, string> } {
  const entry = atEntry(s);
  const registers = new Map<string, string>();
  const stack = new Map<number, string>();
  if (!entry) return { registers, stack };
  const now = s.player.registers();
  for (const [reg, label] of registerRoles(s.spec)) if (now[reg] !== undefined && now[reg] === entry.registers[reg]) registers.set(reg, label);
  for (const [address, label] of stackRoles(s)) if (slotText(s, address) === entry.stack.get(address)) stack.set(address, label);
  return { registers, stack };
}

/** Registers the return value comes back in. */
export function returnRegisters(spec: CallSpec): Map<string, string> {
  const roles = new Map<string, string>();
  const t = typeName(spec.ret.type);
  if (spec.ret.kind === 'x87') roles.set('st0', `return ${t}`);
  for (const l of spec.ret.locations) if (l.kind === 'reg') roles.set(fullRegister(spec.arch, l.reg), `return ${t}`);
  if (spec.ret.kind === 'memory') roles.set(spec.arch === 'amd64' ? 'rax' : 'eax', 'return: the hidden pointer');
  return roles;
}

const SUBREGISTERS: Record<string, string> = {
  al: 'ax', ah: 'ax', ax: 'ax', bl: 'bx', bx: 'bx', cl: 'cx', cx: 'cx', dl: 'dx', dx: 'dx',
  sil: 'si', si: 'si', dil: 'di', di: 'di', bp: 'bp', sp: 'sp',
};

/** `eax`/`al` → `rax` on amd64 (`eax` stays on i386); `r8d` → `r8`. */
export function fullRegister(arch: Arch, reg: string): string {
  const r = reg.toLowerCase();
  if (r.startsWith('xmm') || r.startsWith('st') || r.startsWith('ymm')) return r.replace(/^ymm/, 'xmm');
  if (/^r\d+[dwb]?$/.test(r)) return r.replace(/[dwb]$/, '');
  const base = SUBREGISTERS[r] ?? (r.length === 3 && (r[0] === 'e' || r[0] === 'r') ? r.slice(1) : r);
  return `${arch === 'amd64' ? 'r' : 'e'}${base}`;
}

export function locationText(l: Location): string {
  return l.kind === 'reg' ? l.reg : `stack+${l.stackOffset}`;
}

/** Stack slots at function entry: address → label, from the plan (arguments, return address, hidden pointer). */
export function stackRoles(s: Session): Map<number, string> {
  const roles = new Map<number, string>();
  if (s.entrySp === undefined) return roles;
  const ptr = POINTER_SIZE[s.arch];
  roles.set(s.entrySp, 'return address');
  const slot = (l: Location, label: string) => {
    if (l.kind !== 'stack') return;
    const first = s.entrySp! + ptr + l.stackOffset;
    const words = Math.max(1, Math.ceil(l.size / ptr));
    for (let w = 0; w < words; w++) roles.set(first + w * ptr, words > 1 ? `${label} [${w + 1}/${words}]` : label);
  };
  for (const arg of s.spec.args) for (const l of arg.locations) slot(l, `arg ${arg.index} ${typeName(arg.type)}`);
  if (s.spec.hiddenPointer) slot(s.spec.hiddenPointer, 'hidden return pointer');
  return roles;
}

/** An x87 80-bit extended value (10 bytes, little-endian) as a number. */
export function float80(bytes: Uint8Array): number {
  let mantissa = 0n;
  for (let i = 7; i >= 0; i--) mantissa = (mantissa << 8n) | BigInt(bytes[i] ?? 0);
  const se = (bytes[8] ?? 0) | ((bytes[9] ?? 0) << 8);
  const sign = se & 0x8000 ? -1 : 1;
  const exponent = se & 0x7fff;
  if (exponent === 0 && mantissa === 0n) return sign * 0;
  if (exponent === 0x7fff) return (mantissa << 1n) & 0xffffffffffffffffn ? NaN : sign * Infinity;
  return sign * Number(mantissa) / 2 ** 63 * 2 ** (exponent - 16383);
}

export function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n !== 0 && (Math.abs(n) < 1e-6 || Math.abs(n) >= 1e15)) return n.toExponential(6);
  return String(Number(n.toPrecision(12)));
}

export function hex(n: number | bigint, width = 0): string {
  return `0x${n.toString(16).padStart(width, '0')}`;
}
