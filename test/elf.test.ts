/**
 * The ELF reader against real files (the host's glibc, the same Debian 2.36 build shimulator bundles, and small
 * programs compiled here), cross-checked with binutils' readelf; then truncated, corrupted and fuzzed copies:
 * damage to what ld.so needs fails with an ElfError that says what is wrong, damage to what it ignores (section
 * headers, notes, e_entry) is read past with a warning. test/elf-fuzz.test.ts fuzzes further.
 */
import { fixtureEntries, findFixture, loadFixture } from '../src/loader/fixtures.ts';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElfError, parseElf, type ElfFile, type ElfSymbol } from '../src/loader/elf.ts';
import {
  DT_GNU_HASH, DT_JMPREL, DT_PLTGOT, DT_STRSZ, DT_STRTAB, DT_SYMENT, DT_VERDEF, DT_VERSYM, GNU_PROPERTY_X86_FEATURE_1_IBT, GNU_PROPERTY_X86_FEATURE_1_SHSTK,
  GNU_PROPERTY_X86_ISA_1_BASELINE, PT_DYNAMIC, PT_NOTE,
} from '../src/loader/elf-constants.ts';

const LIBC64 = '/lib/x86_64-linux-gnu/libc.so.6';
const LIBC32 = '/usr/lib32/libc.so.6';
const LD64 = '/lib64/ld-linux-x86-64.so.2';
const LD32 = ['/usr/lib32/ld-linux.so.2', '/lib/ld-linux.so.2'].find((p) => existsSync(p)) ?? '/usr/lib32/ld-linux.so.2';

const haveReadelf = spawnSync('readelf', ['--version']).status === 0;
const haveGcc = spawnSync('gcc', ['--version']).status === 0;

const cache = new Map<string, ElfFile>();
function load(path: string): ElfFile {
  let elf = cache.get(path);
  if (elf === undefined) {
    elf = parseElf(readFileSync(path), path.split('/').pop());
    cache.set(path, elf);
  }
  return elf;
}

function readelf(...args: string[]): string {
  return execFileSync('readelf', ['-W', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
}

// -------------------------------------------------------------------------------------------------------------
// readelf output parsers
// -------------------------------------------------------------------------------------------------------------

interface ReadelfSymbol {
  index: number;
  value: number;
  size: number;
  type: string;
  bind: string;
  vis: string;
  ndx: string;
  name: string;
}

function readelfDynsyms(path: string): { count: number; symbols: ReadelfSymbol[] } {
  const out = readelf('--dyn-syms', path);
  const count = Number(/Symbol table '\.dynsym' contains (\d+) entr/.exec(out)![1]);
  const symbols: ReadelfSymbol[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+): ([0-9a-f]+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+) ?(.*)$/.exec(line);
    if (!m) continue;
    symbols.push({
      index: Number(m[1]), value: parseInt(m[2]!, 16), size: Number(m[3]), type: m[4]!, bind: m[5]!, vis: m[6]!,
      ndx: m[7]!, name: m[8]!.replace(/ \(\d+\)$/, ''),
    });
  }
  return { count, symbols };
}

/** Our symbol in readelf's notation: name@@VERSION (default), name@VERSION (hidden or undefined). */
function readelfName(s: ElfSymbol): string {
  // readelf leaves out the version of a version's own marker symbol (GLIBC_2.0 ABS in ld.so).
  if (s.version === undefined || s.version.name === s.name) return s.name;
  return `${s.name}${s.defined && !s.version.hidden ? '@@' : '@'}${s.version.name}`;
}

const READELF_TYPE: Record<string, string> = { IFUNC: 'GNU_IFUNC' };
const READELF_BIND: Record<string, string> = { UNIQUE: 'GNU_UNIQUE' };
function readelfNdx(ndx: string): number {
  if (ndx === 'UND') return 0;
  if (ndx === 'ABS') return 0xfff1;
  if (ndx === 'COM') return 0xfff2;
  return Number(ndx);
}

interface ReadelfReloc {
  offset: number;
  type: string;
  symbol?: string;
  addend?: number;
}

function readelfRelocs(path: string): Map<string, ReadelfReloc[]> {
  const tables = new Map<string, ReadelfReloc[]>();
  let current: ReadelfReloc[] | undefined;
  let relr = false;
  for (const line of readelf('-r', path).split('\n')) {
    const header = /^Relocation section '([^']+)' at offset/.exec(line);
    if (header) {
      current = [];
      tables.set(header[1]!, current);
      relr = header[1]!.includes('relr');
      continue;
    }
    if (current === undefined) continue;
    if (relr) {
      const m = /^([0-9a-f]{8,16})\b/.exec(line);
      if (m) current.push({ offset: parseInt(m[1]!, 16), type: 'RELATIVE' });
      continue;
    }
    const m = /^([0-9a-f]+)\s+[0-9a-f]+\s+(R_\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const rest = m[3]!.trim();
    const reloc: ReadelfReloc = { offset: parseInt(m[1]!, 16), type: m[2]! };
    const withSymbol = /^[0-9a-f]+\s+(\S+)(?:\s+([+-])\s+([0-9a-f]+))?$/.exec(rest);
    if (withSymbol) {
      reloc.symbol = withSymbol[1]!.replace(/@.*$/, '');
      if (withSymbol[2]) reloc.addend = (withSymbol[2] === '-' ? -1 : 1) * parseInt(withSymbol[3]!, 16);
    } else if (/^[0-9a-f]+$/.test(rest)) {
      reloc.addend = parseInt(rest, 16);
    }
    current.push(reloc);
  }
  return tables;
}

function readelfDynamic(path: string): { count: number; entries: { tag: number; name: string; text: string }[] } {
  const out = readelf('-d', path);
  const count = Number(/contains (\d+) entr/.exec(out)![1]);
  const entries = [...out.matchAll(/^\s*0x([0-9a-f]+)\s+\((\w+)\)\s+(.*)$/gm)].map((m) => ({
    tag: parseInt(m[1]!, 16), name: m[2]!, text: m[3]!.trim(),
  }));
  return { count, entries };
}

function readelfLoads(path: string): { type: string; offset: number; vaddr: number; filesz: number; memsz: number; align: number }[] {
  return [...readelf('-l', path).matchAll(
    /^\s+(\w+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+) [RWE ]{3} 0x([0-9a-f]+)$/gm,
  )].map((m) => ({
    type: m[1]!, offset: parseInt(m[2]!, 16), vaddr: parseInt(m[3]!, 16), filesz: parseInt(m[4]!, 16),
    memsz: parseInt(m[5]!, 16), align: parseInt(m[6]!, 16),
  }));
}

function readelfBuildId(path: string): string | undefined {
  return /Build ID: ([0-9a-f]+)/.exec(readelf('-n', path))?.[1];
}

function readelfVersions(path: string): { defined: string[]; needed: Map<string, string[]> } {
  const out = readelf('-V', path);
  const defined = [...out.matchAll(/Rev: \d+\s+Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)/g)]
    .filter((m) => m[1] !== 'BASE')
    .map((m) => m[2]!);
  const needed = new Map<string, string[]>();
  let file = '';
  for (const line of out.split('\n')) {
    const f = /File: (\S+)\s+Cnt:/.exec(line);
    if (f) needed.set((file = f[1]!), []);
    const v = /^\s+0x[0-9a-f]+:\s+Name: (\S+)\s+Flags:/.exec(line);
    if (v) needed.get(file)!.push(v[1]!);
  }
  return { defined, needed };
}

// -------------------------------------------------------------------------------------------------------------
// Generic cross-checks against readelf
// -------------------------------------------------------------------------------------------------------------

function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** A linear scan with lookup's documented semantics, to check the hash-table walk. */
function linearLookup(elf: ElfFile, name: string, version?: string): ElfSymbol | undefined {
  return elf.dynsym.find(
    (s) =>
      s.name === name && s.defined && s.bind !== 'LOCAL' &&
      (version === undefined ? s.version?.hidden !== true : s.version?.name === version),
  );
}

/** `where` is a function because compiled files only exist once beforeAll has run. */
function crossCheck(where: string | (() => string)): void {
  const pathOf = (): string => (typeof where === 'string' ? where : where());
  const elf = (): ElfFile => load(pathOf());

  it('has the dynamic symbols readelf lists, with values, kinds and versions', () => {
    const { count, symbols } = readelfDynsyms(pathOf());
    expect(elf().dynsym).toHaveLength(count);
    expect(symbols).toHaveLength(count);
    for (const r of symbols) {
      const s = elf().dynsym[r.index]!;
      expect({ name: readelfName(s), value: s.value, size: s.size, type: s.type, bind: s.bind, vis: s.visibility, ndx: s.shndx })
        .toEqual({
          name: r.name, value: r.value, size: r.size, type: READELF_TYPE[r.type] ?? r.type,
          bind: READELF_BIND[r.bind] ?? r.bind, vis: r.vis, ndx: readelfNdx(r.ndx),
        });
      expect(s.defined).toBe(r.ndx !== 'UND');
    }
  });

  it('has the dynamic entries readelf lists', () => {
    const { count, entries } = readelfDynamic(pathOf());
    expect(elf().dynamic).toHaveLength(count);
    entries.forEach((r, i) => {
      const e = elf().dynamic[i]!;
      expect([e.tag, e.tagName]).toEqual([r.tag, `DT_${r.name}`]);
      if (/^0x[0-9a-f]+$/.test(r.text)) expect(e.value).toBe(parseInt(r.text, 16));
      if (/^\d+ \(bytes\)$/.test(r.text)) expect(e.value).toBe(parseInt(r.text, 10));
    });
    const needed = entries.filter((r) => r.name === 'NEEDED').map((r) => /\[(.*)\]/.exec(r.text)![1]);
    expect(elf().needed).toEqual(needed);
    const soname = entries.find((r) => r.name === 'SONAME');
    expect(elf().soname).toBe(soname ? /\[(.*)\]/.exec(soname.text)![1] : undefined);
  });

  it('has the relocations readelf lists, table by table (DT_RELR expanded to R_*_RELATIVE)', () => {
    const expected = readelfRelocs(pathOf());
    const tables = [...new Set(elf().relocations.map((r) => r.table))];
    expect(tables.sort()).toEqual([...expected.keys()].sort());
    for (const [table, rows] of expected) {
      const ours = elf().relocations.filter((r) => r.table === table);
      expect(ours, table).toHaveLength(rows.length);
      rows.forEach((row, i) => {
        const r = ours[i]!;
        expect(r.offset).toBe(row.offset);
        if (row.type === 'RELATIVE') {
          expect(r.typeName).toMatch(/^R_(X86_64|386)_RELATIVE$/);
          expect(r.addend).toBeUndefined();
          return;
        }
        expect(r.typeName).toBe(row.type);
        expect(r.symbolName).toBe(row.symbol);
        if (table.startsWith('.rela')) expect(r.addend).toBe(row.addend ?? 0);
        else expect(r.addend).toBeUndefined();
      });
    }
  });

  it('maps every PT_LOAD address to its file offset, and finds PT_TLS as readelf does', () => {
    const headers = readelfLoads(pathOf());
    expect(elf().programHeaders.map((p) => p.typeName.replace(/^PT_/, ''))).toEqual(headers.map((h) => h.type));
    for (const h of headers.filter((x) => x.type === 'LOAD')) {
      expect(elf().vaddrToOffset(h.vaddr)).toBe(h.offset);
      expect(elf().vaddrToOffset(h.vaddr + h.filesz - 1)).toBe(h.offset + h.filesz - 1);
      if (h.memsz > h.filesz) expect(elf().vaddrToOffset(h.vaddr + h.filesz)).toBeUndefined(); // .bss
    }
    const tls = headers.find((h) => h.type === 'TLS');
    expect(elf().tls).toEqual(tls && { offset: tls.offset, vaddr: tls.vaddr, filesz: tls.filesz, memsz: tls.memsz, align: tls.align });
  });

  it('has the build id and version tables readelf shows', () => {
    expect(elf().buildId).toBe(readelfBuildId(pathOf()));
    const versions = readelfVersions(pathOf());
    expect(elf().versionDefinitions).toEqual(versions.defined);
    expect(new Map(elf().versionsNeeded.map((n) => [n.file, n.versions]))).toEqual(versions.needed);
  });

  it('finds every dynamic symbol through the hash table exactly as a linear scan does', () => {
    expect(elf().hashTable).toBe('gnu');
    const names = new Set(elf().dynsym.map((s) => s.name).filter((n) => n !== ''));
    for (const name of names) {
      expect(elf().lookup(name), name).toBe(linearLookup(elf(), name));
      for (const s of elf().dynsym) {
        if (s.name === name && s.version) expect(elf().lookup(name, s.version.name)).toBe(linearLookup(elf(), name, s.version.name));
      }
    }
    for (const absent of ['', 'no_such_symbol', 'snprintf ', 'SNPRINTF', 'memcpy_', '_'.repeat(300)]) {
      expect(elf().lookup(absent)).toBeUndefined();
    }
  });
}

// -------------------------------------------------------------------------------------------------------------
// Real files
// -------------------------------------------------------------------------------------------------------------

describe.skipIf(!haveReadelf)('amd64 libc.so.6', () => {
  const libc = () => load(LIBC64);

  it('identifies the file', () => {
    expect(libc()).toMatchObject({
      arch: 'amd64', bits: 64, type: 'DYN', soname: 'libc.so.6', needed: ['ld-linux-x86-64.so.2'],
      interp: '/lib64/ld-linux-x86-64.so.2', phentsize: 56,
    });
    expect(libc().phnum).toBe(libc().programHeaders.length);
    expect(libc().sections.find((s) => s.name === '.dynsym')?.entsize).toBe(24); // elfy misreads this one
    expect(libc().dynamicFlags.names).toEqual(['STATIC_TLS']);
    expect(libc().abiTag).toEqual({ os: 'Linux', version: '3.2.0' });
    expect(libc().gnuProperties.x86IsaNeeded).toBe(GNU_PROPERTY_X86_ISA_1_BASELINE);
    expect(libc().gnuStack).toEqual({ flags: 6, executable: false });
    expect(libc().initArray?.size).toBeGreaterThan(0);
  });

  it('distinguishes default and hidden versions', () => {
    expect(readelfName(libc().lookup('snprintf')!)).toBe('snprintf@@GLIBC_2.2.5');
    const memcpy = libc().lookup('memcpy')!;
    expect(readelfName(memcpy)).toBe('memcpy@@GLIBC_2.14');
    expect(memcpy.type).toBe('GNU_IFUNC');
    const old = libc().lookup('memcpy', 'GLIBC_2.2.5')!;
    expect(readelfName(old)).toBe('memcpy@GLIBC_2.2.5');
    expect(old.value).not.toBe(memcpy.value);
    expect(libc().lookup('memcpy', 'GLIBC_2.14')).toBe(memcpy);
    expect(libc().lookup('memcpy', 'GLIBC_9.9')).toBeUndefined();
    // Undefined references are not definitions.
    expect(libc().dynsym.find((s) => s.name === '_dl_argv')?.defined).toBe(false);
    expect(libc().lookup('_dl_argv')).toBeUndefined();
    expect(libc().lookup('errno')?.type).toBe('TLS');
  });

  it('has the relocation kinds glibc needs', () => {
    const kinds = countBy(libc().relocations, (r) => r.typeName);
    for (const kind of ['R_X86_64_RELATIVE', 'R_X86_64_IRELATIVE', 'R_X86_64_GLOB_DAT', 'R_X86_64_JUMP_SLOT', 'R_X86_64_TPOFF64', 'R_X86_64_64']) {
      expect(kinds[kind], kind).toBeGreaterThan(0);
    }
    const slot = libc().relocations.find((r) => r.typeName === 'R_X86_64_JUMP_SLOT')!;
    expect(slot.table).toBe('.rela.plt');
    expect(slot.symbolName).toBeTruthy();
  });

  it('finds the symbol around an address', () => {
    const snprintf = libc().lookup('snprintf')!;
    expect(libc().nearestSymbol(snprintf.value + 5)).toEqual({ symbol: snprintf, offset: 5 });
    expect(libc().nearestSymbol(snprintf.value)?.offset).toBe(0);
    expect(libc().nearestSymbol(0)).toBeUndefined();
    const stdin = libc().lookup('stdin')!;
    expect(libc().nearestSymbol(stdin.value + 4)?.symbol.name).toBe('stdin');
  });

  it('reads the same tables from a section-stripped copy', () => {
    const bytes = new Uint8Array(readFileSync(LIBC64));
    const view = new DataView(bytes.buffer);
    view.setBigUint64(40, 0n, true); // e_shoff
    view.setUint16(60, 0, true); // e_shnum
    view.setUint16(62, 0, true); // e_shstrndx
    const stripped = parseElf(bytes, 'stripped-libc.so.6');
    expect(stripped.sections).toEqual([]);
    expect(stripped.symtab).toEqual([]);
    expect(stripped.dynsym).toEqual(libc().dynsym);
    expect(stripped.relocations).toEqual(libc().relocations);
    expect(stripped.buildId).toBe(libc().buildId);
  });

  it('loads quickly', () => {
    const bytes = readFileSync(LIBC64);
    const start = performance.now();
    parseElf(bytes, 'libc.so.6');
    expect(performance.now() - start).toBeLessThan(500);
  });

  crossCheck(LIBC64);
});

describe.skipIf(!haveReadelf || !existsSync(LIBC32))('i386 libc.so.6', () => {
  const libc = () => load(LIBC32);

  it('identifies the file', () => {
    expect(libc()).toMatchObject({
      arch: 'i386', bits: 32, type: 'DYN', soname: 'libc.so.6', needed: ['ld-linux.so.2'], interp: '/lib/ld-linux.so.2',
    });
  });

  it('has i386 versions and REL relocations without addends', () => {
    expect(readelfName(libc().lookup('snprintf')!)).toBe('snprintf@@GLIBC_2.0');
    const kinds = countBy(libc().relocations, (r) => r.typeName);
    for (const kind of ['R_386_RELATIVE', 'R_386_GLOB_DAT', 'R_386_JUMP_SLOT', 'R_386_TLS_TPOFF', 'R_386_IRELATIVE', 'R_386_32']) {
      expect(kinds[kind], kind).toBeGreaterThan(0);
    }
    expect(libc().relocations.every((r) => r.addend === undefined)).toBe(true);
    expect(new Set(libc().relocations.map((r) => r.table))).toEqual(new Set(['.rel.dyn', '.rel.plt', '.relr.dyn']));
  });

  crossCheck(LIBC32);
});

describe.skipIf(!haveReadelf)('dynamic linkers', () => {
  crossCheck(LD64);

  it('amd64 ld.so is its own interpreter-less DSO', () => {
    const ld = load(LD64);
    expect(ld).toMatchObject({ soname: 'ld-linux-x86-64.so.2', needed: [], interp: undefined });
    expect(ld.lookup('_dl_catch_exception')?.version?.name).toBe('GLIBC_PRIVATE');
  });

  describe.skipIf(!existsSync(LD32))('i386', () => {
    crossCheck(LD32);

    it('maps addresses of a segment whose offset differs from its address', () => {
      const ld = load(LD32);
      const data = ld.programHeaders.find((p) => p.typeName === 'PT_LOAD' && p.offset !== p.vaddr)!;
      expect(data).toBeDefined();
      expect(ld.vaddrToOffset(data.vaddr + 0x10)).toBe(data.offset + 0x10);
      expect(ld.loadSpan.start).toBe(0);
      expect(ld.loadSpan.end % 0x1000).toBe(0);
      expect(ld.loadSpan.end).toBeGreaterThanOrEqual(data.vaddr + data.memsz);
    });
  });
});

/** The bundled libpcap (and a library of its closure), written out so readelf can read them too. */
const BUNDLED_DIR = mkdtempSync(join(tmpdir(), 'shim-elf-fixtures-'));
const BUNDLED = (['amd64', 'i386'] as const).flatMap((arch) =>
  ['libpcap.so.0.8', 'libdbus-1.so.3'].map((name) => {
    const path = join(BUNDLED_DIR, `${arch}-${name}`);
    writeFileSync(path, loadFixture(findFixture(arch, name)!));
    return { arch, name, path };
  }),
);
afterAll(() => rmSync(BUNDLED_DIR, { recursive: true, force: true }));

for (const lib of BUNDLED) {
  describe.skipIf(!haveReadelf)(`bundled ${lib.name} (${lib.arch})`, () => {
    it('reads its identity and exports', () => {
      const elf = load(lib.path);
      expect(elf.soname).toBe(lib.name);
      expect(elf.arch).toBe(lib.arch);
      if (lib.name === 'libpcap.so.0.8') {
        expect(elf.lookup('pcap_open_live')?.type).toBe('FUNC');
        expect(elf.needed).toContain('libdbus-1.so.3');
      }
    });
    crossCheck(lib.path);
  });
}

// -------------------------------------------------------------------------------------------------------------
// Programs compiled here
// -------------------------------------------------------------------------------------------------------------

const PROGRAM = `
#include <stdio.h>
__thread int shim_tls = 3;
int shim_counter[16];
int *shim_tls_address(void) { return &shim_tls; }
int shim_answer(int x) { return x * 2 + shim_counter[0]; }
int main(void) { printf("%d\\n", shim_answer(*shim_tls_address())); return 0; }
`;

describe.skipIf(!haveGcc || !haveReadelf)(`compiled programs${haveGcc ? '' : ' (skipped: gcc not found)'}`, () => {
  let dir = '';
  const out = (name: string): string => join(dir, name);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shim-elf-'));
    writeFileSync(out('t.c'), PROGRAM);
    const gcc = (...args: string[]): void => {
      execFileSync('gcc', [...args, out('t.c')], { stdio: 'pipe' });
    };
    for (const bits of ['64', '32']) {
      gcc(`-m${bits}`, '-o', out(`exe${bits}`));
      gcc(`-m${bits}`, '-no-pie', '-o', out(`nopie${bits}`));
      gcc(`-m${bits}`, '-shared', '-fPIC', '-o', out(`lib${bits}.so`));
      gcc(`-m${bits}`, '-c', '-fcf-protection', '-o', out(`obj${bits}.o`));
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const bits of [64, 32] as const) {
    const arch = bits === 64 ? 'amd64' : 'i386';

    describe(`${arch}`, () => {
      it('reads a PIE executable with its .symtab', () => {
        const exe = parseElf(readFileSync(out(`exe${bits}`)), `exe${bits}`);
        expect(exe).toMatchObject({ arch, bits, type: 'DYN', needed: ['libc.so.6'] });
        expect(exe.interp).toBe(bits === 64 ? '/lib64/ld-linux-x86-64.so.2' : '/lib/ld-linux.so.2');
        expect(exe.dynamicFlags.names1).toContain('PIE');
        expect(exe.buildId).toBe(readelfBuildId(out(`exe${bits}`)));
        const main = exe.symtab.find((s) => s.name === 'main')!;
        expect(main).toMatchObject({ type: 'FUNC', bind: 'GLOBAL', defined: true });
        expect(exe.entry).toBe(exe.symtab.find((s) => s.name === '_start')!.value);
        expect(exe.nearestSymbol(main.value + 3)).toEqual({ symbol: main, offset: 3 });
        const answer = exe.symtab.find((s) => s.name === 'shim_answer')!;
        expect(exe.nearestSymbol(answer.value + answer.size - 1)?.symbol).toBe(answer);
        const counter = exe.symtab.find((s) => s.name === 'shim_counter')!;
        expect(counter).toMatchObject({ type: 'OBJECT', size: 64 });
        expect(exe.nearestSymbol(counter.value + 60)?.symbol).toBe(counter);
        expect(exe.symtab.find((s) => s.name === 'shim_tls')?.type).toBe('TLS');
        expect(exe.tls).toMatchObject({ filesz: 4, memsz: 4 });
        // Static symbols count as readelf counts them.
        const symtabCount = Number(/Symbol table '\.symtab' contains (\d+)/.exec(readelf('-s', out(`exe${bits}`)))![1]);
        expect(exe.symtab).toHaveLength(symtabCount);
      });

      it('reads a non-PIE executable', () => {
        const exe = parseElf(readFileSync(out(`nopie${bits}`)), `nopie${bits}`);
        expect(exe.type).toBe('EXEC');
        expect(exe.loadSpan.start).toBe(bits === 64 ? 0x400000 : 0x8048000);
        const interp = exe.programHeaders.find((p) => p.typeName === 'PT_INTERP')!;
        expect(exe.readCString(interp.offset)).toBe(exe.interp);

        // An executable exports nothing, so its GNU hash table hashes no symbol and GNU ld writes symoffset = 1
        // although undefined symbols follow; without section headers the relocations must size .dynsym.
        const { bytes, view } = copyOf(out(`nopie${bits}`));
        if (bits === 64) {
          view.setBigUint64(40, 0n, true);
          view.setUint32(60, 0, true); // e_shnum, e_shstrndx
        } else {
          view.setUint32(32, 0, true);
          view.setUint32(48, 0, true);
        }
        const stripped = parseElf(bytes, `stripped-nopie${bits}`);
        expect(stripped.sections).toEqual([]);
        expect(stripped.dynsym).toEqual(exe.dynsym);
        expect(stripped.relocations).toEqual(exe.relocations);
        expect(stripped.lookup('printf')).toBeUndefined();
      });

      it('reads the dynamic TLS relocations of a shared object', () => {
        const lib = parseElf(readFileSync(out(`lib${bits}.so`)), `lib${bits}.so`);
        const tls = lib.relocations.filter((r) => r.symbolName === 'shim_tls').map((r) => r.typeName);
        expect(tls.sort()).toEqual(
          bits === 64 ? ['R_X86_64_DTPMOD64', 'R_X86_64_DTPOFF64'] : ['R_386_TLS_DTPMOD32', 'R_386_TLS_DTPOFF32'],
        );
        expect(lib.lookup('shim_answer')?.type).toBe('FUNC');
        expect(lib.lookup('shim_tls')?.type).toBe('TLS');
        expect(lib.lookup('shim_counter')).toMatchObject({ type: 'OBJECT', size: 64 });
        expect(lib.lookup('printf')).toBeUndefined(); // only referenced
        expect(lib.versionsNeeded.find((n) => n.file === 'libc.so.6')?.versions).toContain(bits === 64 ? 'GLIBC_2.2.5' : 'GLIBC_2.0');
      });

      it('reads the GNU property note of a relocatable object (no program headers)', () => {
        const obj = parseElf(readFileSync(out(`obj${bits}.o`)), `obj${bits}.o`);
        expect(obj).toMatchObject({ type: 'REL', programHeaders: [], dynamic: [], dynsym: [], loadSpan: { start: 0, end: 0 } });
        expect(obj.gnuProperties.x86Feature1And).toBe(GNU_PROPERTY_X86_FEATURE_1_IBT | GNU_PROPERTY_X86_FEATURE_1_SHSTK);
        expect(obj.symtab.map((s) => s.name)).toEqual(expect.arrayContaining(['main', 'shim_answer', 'shim_tls']));
        expect(obj.sections.find((s) => s.name === '.text')?.addralign).toBe(1);
      });

      crossCheck(() => out(`lib${bits}.so`));
    });
  }
});

// -------------------------------------------------------------------------------------------------------------
// Malformed input
// -------------------------------------------------------------------------------------------------------------

function expectElfError(bytes: Uint8Array, pattern: RegExp, name = 'broken.so'): ElfError {
  let caught: unknown;
  try {
    parseElf(bytes, name);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected an ElfError matching ${pattern}`).toBeInstanceOf(ElfError);
  const error = caught as ElfError;
  expect(error.message).toMatch(pattern);
  expect(error.message.startsWith(`${name}: `)).toBe(true);
  expect(error.file).toBe(name);
  return error;
}

function copyOf(path: string): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(readFileSync(path));
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/** File offset of the dynamic entry with `tag` in a (parsed, intact) file. */
function dynamicEntryOffset(elf: ElfFile, tag: number): number {
  const dyn = elf.programHeaders.find((p) => p.type === PT_DYNAMIC)!;
  const size = elf.bits === 64 ? 16 : 8;
  const index = elf.dynamic.findIndex((e) => e.tag === tag);
  expect(index).toBeGreaterThanOrEqual(0);
  return elf.vaddrToOffset(dyn.vaddr)! + index * size;
}

describe('malformed input', () => {
  it('rejects truncated copies of libc, naming the truncation', () => {
    const full = new Uint8Array(readFileSync(LIBC64));
    const cases: [number, RegExp][] = [
      [0, /not an ELF file|truncated: ELF identification/],
      [3, /truncated: ELF identification needs 16 bytes, file has 3/],
      [10, /truncated: ELF identification needs 16 bytes, file has 10/],
      [63, /truncated: ELF header \(64 bytes for ELFCLASS64\) extends past end of file/],
      [100, /truncated: program header 0 extends past end of file \(offset 0x40, file size 0x64\)/],
      [300, /truncated: program header 4 extends past end of file/],
      [4096, /truncated: PT_LOAD \(program header 2\) segment extends past end of file/],
      [full.length >> 1, /truncated: PT_LOAD \(program header 3\) segment extends past end of file/],
    ];
    for (const [size, pattern] of cases) expectElfError(full.subarray(0, size), pattern, 'libc.so.6');
  });

  it('reads a copy of libc without its section header table, as ld.so would, with a warning', () => {
    const full = new Uint8Array(readFileSync(LIBC64));
    const elf = parseElf(full.subarray(0, full.length - 1), 'libc.so.6');
    expect(elf.sections).toEqual([]);
    expect(elf.warnings.join('\n')).toMatch(/truncated: section header 63 extends past end of file/);
    expect(elf.lookup('abs')).toBeDefined();
    expect(elf.dynsym.length).toBe(load(LIBC64).dynsym.length);
    expect(load(LIBC64).warnings).toEqual([]);
  });

  it.skipIf(!existsSync(LIBC32))('rejects truncated copies of i386 libc', () => {
    const full = new Uint8Array(readFileSync(LIBC32));
    expectElfError(full.subarray(0, 51), /truncated: ELF header \(52 bytes for ELFCLASS32\)/);
    expectElfError(full.subarray(0, 60), /truncated: program header 0 extends past end of file/);
    expectElfError(full.subarray(0, full.length >> 1), /truncated: .* extends past end of file/);
  });

  it('rejects bad identification bytes', () => {
    const patch = (offset: number, value: number): Uint8Array => {
      const { bytes } = copyOf(LIBC64);
      bytes[offset] = value;
      return bytes;
    };
    expectElfError(patch(0, 0x7e), /not an ELF file \(bad magic\)/);
    expectElfError(new TextEncoder().encode('#!/bin/sh\necho hi\n'), /not an ELF file \(bad magic\)/);
    expectElfError(patch(4, 3), /invalid ELF class 3/);
    expectElfError(patch(4, 0), /invalid ELF class 0/);
    expectElfError(patch(5, 2), /big-endian ELF is not supported/);
    expectElfError(patch(5, 7), /invalid ELF data encoding 7/);
    expectElfError(patch(6, 2), /unsupported ELF version 2/);
  });

  it('rejects other machines with a readable name', () => {
    const machine = (path: string, value: number): Uint8Array => {
      const { bytes, view } = copyOf(path);
      view.setUint16(18, value, true);
      return bytes;
    };
    expectElfError(machine(LIBC64, 183), /unsupported machine EM_AARCH64 \(183\): shimulator runs i386 and amd64 objects/);
    expectElfError(machine(LIBC64, 243), /unsupported machine EM_RISCV \(243\)/);
    expectElfError(machine(LIBC64, 4242), /unsupported machine 4242: shimulator runs i386 and amd64 objects/);
    expectElfError(machine(LIBC64, 3), /ELFCLASS64 with machine EM_386/);
    if (existsSync(LIBC32)) expectElfError(machine(LIBC32, 62), /x32 objects/);
  });

  it('rejects header tables outside the file or of the wrong shape', () => {
    let c = copyOf(LIBC64);
    c.view.setBigUint64(32, BigInt(c.bytes.length + 100), true);
    expectElfError(c.bytes, /program header table offset 0x[0-9a-f]+ is past end of file/);

    c = copyOf(LIBC64);
    c.view.setUint16(54, 32, true);
    expectElfError(c.bytes, /e_phentsize is 32, expected 56/);

    c = copyOf(LIBC64);
    c.view.setBigUint64(64 + 56 * 2 + 16, 1n << 62n, true); // p_vaddr of program header 2, a PT_LOAD
    expectElfError(c.bytes, /PT_LOAD \(program header 2\) p_vaddr .* does not fit in 53 bits/);
  });

  it('reads past broken metadata that ld.so ignores, with a warning for each', () => {
    const intact = load(LIBC64);
    const lenient = (patch: (c: { bytes: Uint8Array; view: DataView }) => void, warning: RegExp): ElfFile => {
      const c = copyOf(LIBC64);
      patch(c);
      const elf = parseElf(c.bytes, 'libc.so.6');
      expect(elf.warnings.join('\n')).toMatch(warning);
      expect(elf.lookup('abs')?.value).toBe(intact.lookup('abs')!.value);
      return elf;
    };
    let elf = lenient((c) => c.view.setBigUint64(40, BigInt(c.bytes.length), true), /section header table offset .* past end of file/);
    expect(elf.sections).toEqual([]);
    expect(elf.symtab).toEqual([]);
    elf = lenient((c) => c.view.setUint16(62, 200, true), /e_shstrndx 200 is not a section/);
    expect(elf.sections.length).toBe(intact.sections.length);
    expect(elf.sections.every((s) => s.name === '')).toBe(true);
    elf = lenient((c) => c.view.setBigUint64(24, 1n << 60n, true), /e_entry .* does not fit in 53 bits/);
    expect(elf.entry).toBe(0);
    const note = intact.programHeaders.find((p) => p.type === PT_NOTE)!;
    elf = lenient((c) => c.view.setUint32(note.offset + 4, 0x1000, true), /PT_NOTE segment .* overruns it/);
    // The first PT_NOTE (.note.gnu.property) is dropped; the build id, in another PT_NOTE, is still read.
    expect(elf.gnuProperties.entries).toEqual([]);
    expect(elf.buildId).toBe(intact.buildId);
    const noteIndex = intact.programHeaders.indexOf(note);
    elf = lenient((c) => c.view.setBigUint64(64 + 56 * noteIndex + 8, BigInt(c.bytes.length) * 2n, true), /PT_NOTE segment/);
    expect(elf.notes.length).toBeLessThan(intact.notes.length);
  });

  it('reads the dynamic section as ld.so does: DT_SYMENT and DT_STRSZ are not trusted, junk entries are skipped', () => {
    const libc = load(LIBC64);
    const patched = (tag: number, value: bigint): ElfFile => {
      const c = copyOf(LIBC64);
      c.view.setBigUint64(dynamicEntryOffset(libc, tag) + 8, value, true);
      return parseElf(c.bytes, 'libc.so.6');
    };
    for (const elf of [patched(DT_SYMENT, 0n), patched(DT_STRSZ, 0n), patched(DT_STRSZ, 1n << 40n), patched(DT_PLTGOT, 1n << 60n)]) {
      expect(elf.warnings.length).toBeGreaterThan(0);
      expect(elf.soname).toBe('libc.so.6');
      expect(elf.lookup('abs')?.value).toBe(libc.lookup('abs')!.value);
    }
  });

  it('rejects corrupt dynamic tables', () => {
    const libc = load(LIBC64);

    let c = copyOf(LIBC64);
    c.view.setBigUint64(dynamicEntryOffset(libc, DT_STRTAB) + 8, 0x7fff0000n, true);
    expectElfError(c.bytes, /DT_STRTAB at 0x7fff0000 .* is not inside the file-backed part of any PT_LOAD segment/);

    const gnuHash = libc.vaddrToOffset(libc.dynamicValue(DT_GNU_HASH)!)!;
    c = copyOf(LIBC64);
    c.view.setUint32(gnuHash, 0, true);
    expectElfError(c.bytes, /DT_GNU_HASH has no buckets/);
    c = copyOf(LIBC64);
    c.view.setUint32(gnuHash + 8, 0x10000000, true);
    expectElfError(c.bytes, /DT_GNU_HASH: .* extend past the end of their segment/);

    const versym = libc.vaddrToOffset(libc.dynamicValue(DT_VERSYM)!)!;
    c = copyOf(LIBC64);
    c.view.setUint16(versym + 2 * 100, 0x7000, true);
    expectElfError(c.bytes, /dynamic symbol 100 \(.*\) has version index 28672/);

    const verdef = libc.vaddrToOffset(libc.dynamicValue(DT_VERDEF)!)!;
    c = copyOf(LIBC64);
    c.view.setUint16(verdef, 2, true);
    expectElfError(c.bytes, /DT_VERDEF entry 0: unsupported vd_version 2/);

    const plt = libc.relocations.findIndex((r) => r.table === '.rela.plt');
    const jmprel = libc.vaddrToOffset(libc.dynamicValue(DT_JMPREL)!)!;
    expect(plt).toBeGreaterThan(0);
    c = copyOf(LIBC64);
    c.view.setUint32(jmprel + 12, 0xffffff, true); // r_info symbol half of the first .rela.plt entry
    expectElfError(c.bytes, /\.rela\.plt relocation 0 refers to symbol 16777215, but \.dynsym has 3044/);
  });

  it('never fails with anything but an ElfError on fuzzed files', () => {
    let seed = 0x5eed;
    const random = (n: number): number => {
      // xorshift32: deterministic, so a failure can be replayed.
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const originals = [LD64, LD32].filter((p) => existsSync(p)).map((p) => new Uint8Array(readFileSync(p)));
    let failures = 0;
    let successes = 0;
    for (let round = 0; round < 600; round++) {
      const original = originals[round % originals.length]!;
      const bytes = original.slice(0, round % 7 === 0 ? random(original.length) : original.length);
      // Mostly the first pages, where the headers and the dynamic tables live.
      const span = round % 3 === 0 ? bytes.length : Math.min(bytes.length, 0x1000);
      for (let flips = 1 + random(8); flips > 0 && span > 0; flips--) bytes[random(span)] = random(256);
      try {
        const elf = parseElf(bytes, `fuzz-${round}`);
        void elf.symtab;
        for (const s of elf.dynsym.slice(0, 50)) {
          elf.lookup(s.name);
          elf.nearestSymbol(s.value);
        }
        successes++;
      } catch (error) {
        if (!(error instanceof ElfError)) throw new Error(`round ${round}: ${String(error)}`, { cause: error });
        expect(error.message.startsWith(`fuzz-${round}: `)).toBe(true);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(0);
    expect(successes).toBeGreaterThan(0);
  });
});

describe('deferred tables (deferTables: the bundled fixtures, verified against the manifest)', () => {
  it.each(['amd64', 'i386'] as const)('%s: every lookup, then the tables, equal a whole parse; looked-up symbols stay the ones in dynsym', (arch) => {
    for (const entry of fixtureEntries(arch)) {
      const bytes = loadFixture(entry);
      if (bytes[0] !== 0x7f || bytes[1] !== 0x45) continue; // not an ELF file
      const whole = parseElf(bytes, entry.guestPath);
      const deferred = parseElf(bytes, entry.guestPath, { deferTables: true });
      const returned: ElfSymbol[] = [];
      for (const symbol of whole.dynsym) {
        if (!symbol.defined || symbol.bind === 'LOCAL') continue;
        const found = deferred.lookup(symbol.name);
        expect(found, `${entry.name} ${symbol.name}`).toEqual(whole.lookup(symbol.name));
        if (found) returned.push(found);
        if (symbol.version) expect(deferred.lookup(symbol.name, symbol.version.name)).toEqual(whole.lookup(symbol.name, symbol.version.name));
      }
      expect(deferred.lookup('no_such_symbol_anywhere')).toBeUndefined();
      expect(deferred.dynsym).toEqual(whole.dynsym);
      expect(deferred.relocations).toEqual(whole.relocations);
      expect(deferred.versionDefinitionEntries).toEqual(whole.versionDefinitionEntries);
      expect(deferred.versionsNeeded).toEqual(whole.versionsNeeded);
      for (const symbol of returned) expect(deferred.dynsym).toContain(symbol);
    }
  });
});
