/**
 * The built-in prototype catalog (src/catalog): it parses, names only functions the bundled libraries really
 * export, and a sample of prototypes has exactly the expected shape.
 *
 * Whether each prototype matches the real glibc/libpcap headers is checked by scripts/catalog/verify.sh (gcc -m64
 * and -m32 against the system headers), not here: CI machines may lack libpcap-dev and gcc-multilib.
 */
import { describe, expect, it } from 'vitest';
import { callSpec } from '../src/callspec/classify.ts';
import { sizeOf } from '../src/callspec/layout.ts';
import type { CType } from '../src/callspec/types.ts';
import {
  catalog, catalogDeclarations, catalogSections, lookupPrototype, parseSections, searchCatalog, splitStatements,
} from '../src/catalog/catalog.ts';
import type { CatalogEntry } from '../src/catalog/catalog.ts';
import type { Arch } from '../src/emu/arch.ts';
import { parseElf, type ElfFile } from '../src/loader/elf.ts';
import { findFixture, loadFixture } from '../src/loader/fixtures.ts';

const ARCHES: readonly Arch[] = ['amd64', 'i386'];

function entry(name: string): CatalogEntry {
  const found = lookupPrototype(name);
  if (!found) throw new Error(`${name} is not in the catalog`);
  return found;
}

function pointee(type: CType): CType {
  if (type.kind !== 'pointer') throw new Error(`not a pointer: ${JSON.stringify(type)}`);
  return type.to;
}

describe('catalog', () => {
  it('parses into more than 300 entries with unique names, from both libraries', () => {
    const entries = catalog();
    expect(entries.length).toBeGreaterThan(300);
    expect(new Set(entries.map((e) => e.name)).size).toBe(entries.length);
    const libc = entries.filter((e) => e.library === 'libc.so.6');
    const pcap = entries.filter((e) => e.library === 'libpcap.so.0.8');
    expect(libc.length).toBeGreaterThan(300);
    expect(pcap.length).toBeGreaterThan(80);
    expect(libc.length + pcap.length).toBe(entries.length);
    expect(catalog()).toBe(entries); // cached
  });

  it('records the header and the text of each prototype', () => {
    for (const e of catalog()) {
      expect(e.header, e.name).toMatch(/^([\w/]+\.h|\(none\))$/);
      expect(e.prototype.name).toBe(e.name);
      expect(e.text).toBe(e.prototype.text);
      expect(e.text).not.toMatch(/;|\n|\/\*/);
      expect(e.text, 'an empty parameter list must be written (void)').not.toMatch(/\(\s*\)/);
    }
    expect(entry('snprintf').header).toBe('stdio.h');
    expect(entry('strlen').header).toBe('string.h');
    expect(entry('bzero').header).toBe('strings.h');
    expect(entry('pthread_create').header).toBe('pthread.h');
    expect(entry('pcap_open_live').header).toBe('pcap.h');
    expect(entry('bpf_validate').header).toBe('pcap/bpf.h');
    expect(entry('pcap_nametoport').header).toBe('pcap/namedb.h');
    expect(entry('snprintf').text).toBe('int snprintf(char *str, size_t size, const char *format, ...)');
  });

  it.each(ARCHES)('names only functions that the %s fixtures export, each from its own library', (arch) => {
    const libraries = new Map<string, ElfFile>();
    for (const library of ['libc.so.6', 'libpcap.so.0.8'] as const) {
      libraries.set(library, parseElf(loadFixture(findFixture(arch, library)!), `${arch}/${library}`));
    }
    const problems: string[] = [];
    for (const e of catalog()) {
      const symbol = libraries.get(e.library)!.lookup(e.name);
      if (!symbol?.defined || (symbol.type !== 'FUNC' && symbol.type !== 'GNU_IFUNC')) problems.push(`${e.name} (${e.library})`);
      const other = e.library === 'libc.so.6' ? 'libpcap.so.0.8' : 'libc.so.6';
      if (libraries.get(other)!.lookup(e.name)?.defined) problems.push(`${e.name} is also exported by ${other}`);
    }
    expect(problems).toEqual([]);
  });

  it('covers every libc function that libpcap and the stub import', () => {
    for (const arch of ARCHES) {
      for (const name of ['libpcap.so.0.8', 'shimulator-stub']) {
        const elf = parseElf(loadFixture(findFixture(arch, name)!), name);
        const missing = elf.dynsym
          .filter((s) => !s.defined && s.type === 'FUNC' && s.version?.name.startsWith('GLIBC'))
          .map((s) => s.name)
          .filter((n) => lookupPrototype(n)?.library !== 'libc.so.6');
        expect(missing, `${arch} ${name}`).toEqual([]);
      }
    }
  });

  it('gives every prototype a calling convention on both arches', () => {
    for (const arch of ARCHES) {
      for (const e of catalog()) expect(() => callSpec(e.prototype, arch), `${e.name} on ${arch}`).not.toThrow();
    }
  });
});

describe('catalog prototypes', () => {
  it('snprintf is variadic with 3 fixed parameters', () => {
    const p = entry('snprintf').prototype;
    expect(p.variadic).toBe(true);
    expect(p.params.map((q) => q.name)).toEqual(['str', 'size', 'format']);
    expect(p.params[1].type).toEqual({ kind: 'int', name: 'unsigned long' });
    expect(p.params[2].type).toEqual({ kind: 'pointer', to: { kind: 'int', name: 'char' }, const: true });
    expect(p.ret).toEqual({ kind: 'int', name: 'int' });
    expect(entry('vsnprintf').prototype.variadic).toBe(false);
    expect(entry('vsnprintf').prototype.params[3].type).toEqual({ kind: 'pointer', to: { kind: 'void' } }); // va_list
  });

  it('pcap_compile takes 5 parameters ending with a bpf_u_int32 netmask', () => {
    const p = entry('pcap_compile').prototype;
    expect(p.variadic).toBe(false);
    expect(p.params.map((q) => q.name)).toEqual(['p', 'fp', 'str', 'optimize', 'netmask']);
    expect(pointee(p.params[0].type)).toEqual({ kind: 'struct', tag: 'pcap' });
    const program = pointee(p.params[1].type);
    expect(program).toMatchObject({ kind: 'struct', tag: 'bpf_program' });
    expect(sizeOf(program, 'amd64')).toBe(16);
    expect(sizeOf(program, 'i386')).toBe(8);
    expect(p.params[4].type).toEqual({ kind: 'int', name: 'unsigned int' });
    expect(entry('pcap_compile_nopcap').prototype.params).toHaveLength(6);
  });

  it('qsort takes its comparator as a function pointer', () => {
    const p = entry('qsort').prototype;
    expect(p.params).toHaveLength(4);
    const compar = pointee(p.params[3].type);
    const constVoid: CType = { kind: 'pointer', to: { kind: 'void' }, const: true };
    expect(compar).toEqual({
      kind: 'function',
      ret: { kind: 'int', name: 'int' },
      params: [{ type: constVoid, text: 'const void *' }, { type: constVoid, text: 'const void *' }],
      variadic: false,
    });
  });

  it('strtold returns long double; the float/double/long double families have their own types', () => {
    expect(entry('strtold').prototype.ret).toEqual({ kind: 'float', name: 'long double' });
    expect(entry('ldexpl').prototype.params[0].type).toEqual({ kind: 'float', name: 'long double' });
    expect(entry('frexpf').prototype.ret).toEqual({ kind: 'float', name: 'float' });
    expect(entry('modf').prototype.params[1].type).toEqual({ kind: 'pointer', to: { kind: 'float', name: 'double' } });
  });

  it("pcap_loop's callback is a pcap_handler: void (*)(u_char *, const struct pcap_pkthdr *, const u_char *)", () => {
    const p = entry('pcap_loop').prototype;
    expect(p.params.map((q) => q.text)).toEqual(['pcap_t *p', 'int cnt', 'pcap_handler callback', 'u_char *user']);
    const handler = pointee(p.params[2].type);
    if (handler.kind !== 'function') throw new Error('pcap_handler is not a function pointer');
    expect(handler.ret).toEqual({ kind: 'void' });
    expect(handler.params).toHaveLength(3);
    expect(handler.params[0].type).toEqual({ kind: 'pointer', to: { kind: 'int', name: 'unsigned char' } });
    const header = pointee(handler.params[1].type);
    expect(handler.params[1].type).toMatchObject({ kind: 'pointer', const: true });
    expect(header).toMatchObject({ kind: 'struct', tag: 'pcap_pkthdr' });
    expect(sizeOf(header, 'amd64')).toBe(24);
    expect(sizeOf(header, 'i386')).toBe(16);
    expect(handler.params[2].type).toEqual({ kind: 'pointer', to: { kind: 'int', name: 'unsigned char' }, const: true });
    expect(entry('pcap_dispatch').prototype.params[2].type).toEqual(p.params[2].type);
  });

  it('passes and returns structs by value where libc does', () => {
    expect(entry('div').prototype.ret).toMatchObject({ kind: 'struct', fields: [{ name: 'quot' }, { name: 'rem' }] });
    expect(entry('inet_ntoa').prototype.params[0].type).toMatchObject({ kind: 'struct', tag: 'in_addr' });
    expect(entry('lldiv').prototype.ret).toMatchObject({ kind: 'struct' });
  });

  it('keeps opaque library types incomplete', () => {
    expect(pointee(entry('fopen').prototype.ret)).toEqual({ kind: 'struct', tag: '_IO_FILE' });
    expect(pointee(entry('stat').prototype.params[1].type)).toEqual({ kind: 'struct', tag: 'stat' });
    expect(pointee(entry('pcap_dump_open').prototype.ret)).toEqual({ kind: 'struct', tag: 'pcap_dumper' });
  });
});

describe('searchCatalog', () => {
  it('ranks the exact name first', () => {
    expect(searchCatalog('snprintf')[0].name).toBe('snprintf');
    expect(searchCatalog('SNPRINTF')[0].name).toBe('snprintf');
    expect(searchCatalog('snprintf').map((e) => e.name)).toContain('vsnprintf');
  });

  it('finds pcap_* functions by prefix', () => {
    const names = searchCatalog('pcap_comp').map((e) => e.name);
    expect(names[0]).toBe('pcap_compile');
    expect(names).toContain('pcap_compile_nopcap');
    expect(names.every((n) => n.startsWith('pcap_comp'))).toBe(true);
  });

  it('ranks prefixes before word starts before other substrings, shorter names first', () => {
    const names = searchCatalog('open', 100).map((e) => e.name);
    expect(names[0]).toBe('open');
    expect(names.indexOf('opendir')).toBeLessThan(names.indexOf('pcap_open_live'));
    expect(names.indexOf('pcap_open_live')).toBeLessThan(names.indexOf('fopen'));
    expect(names.indexOf('fopen')).toBeLessThan(names.indexOf('fdopen'));
  });

  it('honours the limit and lists everything for an empty query', () => {
    expect(searchCatalog('str', 5)).toHaveLength(5);
    expect(searchCatalog('', 10000)).toHaveLength(catalog().length);
    expect(searchCatalog('no_such_function_anywhere')).toEqual([]);
  });
});

describe('catalog files', () => {
  it('have types sections and header sections, with flags', () => {
    const sections = catalogSections();
    expect(sections.filter((s) => s.kind === 'types').map((s) => s.file)).toEqual(['libc.h', 'libpcap.h']);
    const socket = sections.find((s) => s.header === 'sys/socket.h');
    expect(socket?.flags).toEqual(['nognu']);
  });

  it('splits sections into statements with their line numbers', () => {
    const [section] = parseSections('/* intro */\n/* @header a.h x */\nint f(void);\n\n/* c; */ int g(int a,\n  int b);\n', 'x.h', 'libc.so.6');
    expect(section).toMatchObject({ kind: 'header', header: 'a.h', flags: ['x'], line: 3 });
    expect(splitStatements(section)).toEqual([
      { text: 'int f(void);', line: 3 },
      { text: 'int g(int a,\n  int b);', line: 5 },
    ]);
  });

  it('provides a Declarations scope with the catalog types for parsing more prototypes', () => {
    const decls = catalogDeclarations();
    const proto = decls.parsePrototype('int my_cb(const struct pcap_pkthdr *h, struct tm *tm, pthread_mutex_t *m)');
    expect(proto.params).toHaveLength(3);
    expect(sizeOf(decls.parseType('struct tm'), 'amd64')).toBe(56);
    expect(sizeOf(decls.parseType('pthread_mutex_t'), 'amd64')).toBe(40);
    expect(sizeOf(decls.parseType('pthread_mutex_t'), 'i386')).toBe(24);
    expect(catalogDeclarations()).not.toBe(decls);
  });
});
