/**
 * Symbols of the running process. The list of loaded objects comes from the guest itself — ld.so's link map,
 * reached through `_r_debug` — so libraries that the guest dlopens appear here too. Lookup follows the global
 * scope's order (the executable, then libraries in load order), like ld.so's own symbol resolution.
 */
import { bundledFunctions } from './debug-symbols.ts';
import { ElfError, type ElfFile, type ElfSymbol } from './elf.ts';
import type { MappedObject, Process } from './process.ts';

/** Offsets in glibc's `struct r_debug` and `struct link_map` (public part, <link.h>), in pointer-size words. */
const R_DEBUG_R_MAP_WORD = 1; // after `int r_version` (padded to a word)
const LINK_MAP_L_ADDR = 0;
const LINK_MAP_L_NAME = 1;
const LINK_MAP_L_NEXT = 3;
/** A link map longer than this is corrupt (or the walk is lost): stop instead of looping. */
const MAX_LINK_MAP_ENTRIES = 4096;

export class SymbolNotFoundError extends Error {
  override name = 'SymbolNotFoundError';
}

export interface ResolvedSymbol {
  name: string;
  address: number;
  symbol: ElfSymbol;
  object: MappedObject;
}

export class SymbolTable {
  /**
   * Loaded objects our reader refused (the guest's ld.so is more forgiving, e.g. about a damaged dynamic table),
   * by guest path: they are left out of lookups so that one bad library does not break the others.
   */
  readonly unreadable = new Map<string, ElfError>();

  constructor(private readonly process: Process) {
    process.objectsProvider = () => this.objects();
  }

  /** Reads a pointer-sized word from guest memory. */
  private word(address: number): number {
    const size = this.process.arch === 'amd64' ? 8 : 4;
    const bytes = this.process.engine.read(address, size);
    const view = new DataView(bytes.buffer, bytes.byteOffset, size);
    return size === 8 ? Number(view.getBigUint64(0, true)) : view.getUint32(0, true);
  }

  /** The C string at a guest address (at most 4 KiB; reading stops at unmapped memory). */
  readCString(address: number): string {
    const out: number[] = [];
    for (let at = address; out.length < 4096; at++) {
      const b = this.process.engine.read(at, 1)[0]!;
      if (b === 0) break;
      out.push(b);
    }
    return new TextDecoder().decode(Uint8Array.from(out));
  }

  /** The loaded objects in link-map order (the executable first). Falls back to stub + ld.so before boot ends. */
  objects(): MappedObject[] {
    const p = this.process;
    if (!p.interp) return [p.exe]; // a static program: no link map
    const interp = p.interp;
    const rDebug = interp.elf.lookup('_r_debug');
    if (!rDebug) return [p.exe, interp];
    const ptr = p.arch === 'amd64' ? 8 : 4;
    let map = this.word(interp.base + rDebug.value + R_DEBUG_R_MAP_WORD * ptr);
    if (map === 0) return [p.exe, interp];
    const objects: MappedObject[] = [];
    for (let i = 0; map !== 0 && i < MAX_LINK_MAP_ENTRIES; i++) {
      const base = this.word(map + LINK_MAP_L_ADDR * ptr);
      const namePtr = this.word(map + LINK_MAP_L_NAME * ptr);
      const name = namePtr ? this.readCString(namePtr) : '';
      if (name === '') objects.push(p.exe);
      else if (name === interp.path || name.endsWith(interp.path.split('/').pop()!)) objects.push({ ...interp, path: name });
      else if (p.vfs.lookup(name)) {
        const elf = this.readableElf(name);
        if (elf) objects.push({ path: name, base, elf });
      }
      map = this.word(map + LINK_MAP_L_NEXT * ptr);
    }
    return objects;
  }

  /** The parsed object at a guest path, or undefined (remembered, so it is parsed once) if it is malformed. */
  private readableElf(path: string): ElfFile | undefined {
    if (this.unreadable.has(path)) return undefined;
    try {
      return this.process.elfAt(path);
    } catch (error) {
      if (!(error instanceof ElfError)) throw error;
      this.unreadable.set(path, error);
      return undefined;
    }
  }

  /** The loaded object whose path or SONAME matches `name` (`libc.so.6`, or a full path). */
  object(name: string): MappedObject | undefined {
    return this.objects().find(
      (o) => o.path === name || o.elf.soname === name || o.path.split('/').pop() === name,
    );
  }

  /** Resolves `name` (optionally `name@VERSION`) in one object, or in the global scope when `library` is omitted. */
  lookup(name: string, library?: string): ResolvedSymbol | undefined {
    const [symbolName, version] = splitVersion(name);
    const scope = library ? [this.object(library)].filter((o): o is MappedObject => o !== undefined) : this.objects();
    for (const object of scope) {
      const symbol = object.elf.lookup(symbolName, version);
      if (symbol && symbol.defined && symbol.type !== 'TLS') {
        return { name: symbolName, address: object.base + symbol.value, symbol, object };
      }
    }
    return undefined;
  }

  /** Like `lookup`, but throws a SymbolNotFoundError that says where it looked. */
  require(name: string, library?: string): ResolvedSymbol {
    const found = this.lookup(name, library);
    if (found) return found;
    const where = library
      ? this.object(library)
        ? `in ${library}`
        : `: ${library} is not loaded (loaded: ${this.objects().map((o) => o.elf.soname ?? o.path).join(', ')})`
      : 'in any loaded object';
    throw new SymbolNotFoundError(`symbol ${name} not found ${where}; check the spelling, or load the library that defines it with --lib`);
  }
}

/** The function (or, for data, the object symbol) an address is in: where it starts, its size and the offset. */
export interface Located {
  name: string;
  /** Absolute start address (the object's base + the symbol's value). */
  address: number;
  size: number;
  offset: number;
  object: MappedObject;
}

/**
 * The named symbol an address is inside, among the loaded `objects`. Functions come from the bundled debug
 * symbols when the object's build id has a table (glibc's internal functions too), else from the object's own
 * .dynsym/.symtab; data symbols (`stdin`) from the object. Only a symbol the address is inside counts: a stripped
 * library's internal function has none, and "the nearest exported symbol +75 KiB" would name the wrong function.
 */
export function locate(objects: readonly MappedObject[], address: number): Located | undefined {
  const object = objects.find((o) => address >= o.base + o.elf.loadSpan.start && address < o.base + o.elf.loadSpan.end);
  if (object === undefined) return undefined;
  const vaddr = address - object.base;
  const fn = bundledFunctions(object.elf.arch, object.elf.buildId)?.at(vaddr);
  if (fn) return { name: fn.symbol.name, address: object.base + fn.symbol.start, size: fn.symbol.size, offset: fn.offset, object };
  const near = object.elf.nearestSymbol(vaddr);
  if (near && (near.offset < near.symbol.size || (near.symbol.size === 0 && near.offset === 0))) {
    return { name: near.symbol.name, address: object.base + near.symbol.value, size: near.symbol.size, offset: near.offset, object };
  }
  return undefined;
}

function splitVersion(name: string): [string, string | undefined] {
  const at = name.indexOf('@');
  if (at < 0) return [name, undefined];
  return [name.slice(0, at), name.slice(at).replace(/^@+/, '')];
}
