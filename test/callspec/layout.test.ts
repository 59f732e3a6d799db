/**
 * Layouts checked against GCC: the same declarations are compiled with `gcc -m64` and `gcc -m32`, and the
 * programs print sizeof, _Alignof, offsetof and, for bit-fields, the bits a field set to all ones occupies.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arch } from '../../src/emu/arch.ts';
import { LayoutError, alignOf, sizeOf, structLayout, typeName } from '../../src/callspec/layout.ts';
import { Declarations } from '../../src/callspec/parse.ts';
import type { CType } from '../../src/callspec/types.ts';

const HEADER = `
enum color { RED, GREEN, BLUE };
struct a { char c; int i; };
struct b { char c; long long x; };
struct c { char c; double d; };
struct d { char c; long double ld; };
struct e { short s; char c; };
struct f { char name[16]; int n; };
struct g { int a : 3; int b : 5; char c; int d : 30; };
struct h { char c; long long x : 40; int y : 20; };
struct i { unsigned a : 1; unsigned : 0; unsigned b : 1; };
struct j { char c; union { int i; double d; } u; };
union k { char c[5]; int i; };
struct l { int x; struct { char a; short b; } inner; char z; };
struct m { char c; void *p; long l; float f; };
struct n { char a; struct { double d; }; };
struct p { char c; int i; } __attribute__((packed));
struct q { char c; } __attribute__((aligned(16)));
struct r { char c; short s : 9; char d; };
struct s { _Bool b; enum color e; char c; };
struct t { long double a; char b; };
struct u { char c; unsigned long long x : 3; };
struct v { char a; int : 4; char b; };
struct w { char c; long long x : 60; };
struct x { short a : 10; short b : 10; };
union y { char c; int bits : 7; };
struct z { struct a inner[3]; char tail; };
struct pair { double d; int i; };
struct f3 { float a, b, c; };
struct big { long a, b, c; };
`;

const STRUCTS = [...HEADER.matchAll(/^(struct|union) (\w+) /gm)].map((m) => `${m[1]} ${m[2]}`);

interface GccField {
  name: string;
  offset?: number;
  bitPos?: number;
  bits?: number;
}

interface GccLayout {
  size: number;
  align: number;
  fields: GccField[];
}

/** C that prints one JSON object per struct, from GCC's point of view. */
function cProgram(decls: Declarations): string {
  const lines = ['#include <stdio.h>', '#include <stddef.h>', '#include <string.h>', HEADER, 'int main(void) {', '  int first = 1;', '  printf("{");'];
  for (const name of STRUCTS) {
    const fields = structLayout(decls.parseType(name), 'amd64').fields.filter((f) => f.name !== undefined);
    lines.push(`  { ${name} v; unsigned char *bytes = (unsigned char *)&v; (void)bytes;`);
    lines.push(`    printf("%s\\"${name}\\": {\\"size\\": %zu, \\"align\\": %zu, \\"fields\\": [", first ? "" : ",", sizeof(${name}), _Alignof(${name})); first = 0;`);
    fields.forEach((f, i) => {
      const comma = i ? ',' : '';
      if (f.bits === undefined) {
        lines.push(`    printf("${comma}{\\"name\\": \\"${f.name}\\", \\"offset\\": %zu}", offsetof(${name}, ${f.name}));`);
      } else {
        // Set the bit-field to all ones in a zeroed object and look where the ones are.
        lines.push(`    memset(&v, 0, sizeof v); v.${f.name} = -1;`);
        lines.push(`    { int lo = -1, n = 0; for (int bit = 0; bit < (int)sizeof v * 8; bit++) if (bytes[bit / 8] >> (bit % 8) & 1) { if (lo < 0) lo = bit; n++; }`);
        lines.push(`      printf("${comma}{\\"name\\": \\"${f.name}\\", \\"bitPos\\": %d, \\"bits\\": %d}", lo, n); }`);
      }
    });
    lines.push('    printf("]}"); }');
  }
  lines.push('  printf("}\\n");', '  return 0;', '}');
  return lines.join('\n');
}

function hasGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const GCC_FLAGS: Record<Arch, string> = { amd64: '-m64', i386: '-m32' };

describe.skipIf(!hasGcc())('structLayout agrees with gcc', () => {
  const decls = new Declarations();
  decls.addDeclarations(HEADER);
  const gcc: Partial<Record<Arch, Record<string, GccLayout>>> = {};
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'callspec-layout-'));
    const source = join(dir, 'layout.c');
    writeFileSync(source, cProgram(decls));
    for (const arch of ['amd64', 'i386'] as const) {
      const binary = join(dir, `layout-${arch}`);
      execFileSync('gcc', [GCC_FLAGS[arch], '-std=gnu11', '-w', '-o', binary, source]);
      gcc[arch] = JSON.parse(execFileSync(binary, { encoding: 'utf8' }));
    }
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const arch of ['amd64', 'i386'] as const) {
    it.each(STRUCTS)(`${arch}: %s`, (name) => {
      const expected = gcc[arch]![name];
      const type = decls.parseType(name);
      const layout = structLayout(type, arch);
      const actual: GccLayout = {
        size: layout.size,
        align: layout.align,
        fields: layout.fields.filter((f) => f.name !== undefined).map((f) =>
          f.bits === undefined ? { name: f.name!, offset: f.offset } : { name: f.name!, bitPos: f.offset * 8 + f.bitOffset!, bits: f.bits },
        ),
      };
      expect(actual).toEqual(expected);
      expect(sizeOf(type, arch)).toBe(expected.size);
      expect(alignOf(type, arch)).toBe(expected.align);
    });
  }
});

describe('scalar sizes', () => {
  const decls = new Declarations();
  const table: Array<[string, number, number, number, number]> = [
    // type, i386 size, i386 align, amd64 size, amd64 align
    ['_Bool', 1, 1, 1, 1],
    ['char', 1, 1, 1, 1],
    ['short', 2, 2, 2, 2],
    ['int', 4, 4, 4, 4],
    ['long', 4, 4, 8, 8],
    ['size_t', 4, 4, 8, 8],
    ['long long', 8, 4, 8, 8],
    ['float', 4, 4, 4, 4],
    ['double', 8, 4, 8, 8],
    ['long double', 12, 4, 16, 16],
    ['void *', 4, 4, 8, 8],
    ['enum color', 4, 4, 4, 4],
    ['int [5]', 20, 4, 20, 4],
  ];
  decls.addDeclarations('enum color { RED };');
  it.each(table)('%s', (text, size32, align32, size64, align64) => {
    const type = decls.parseType(text);
    expect([sizeOf(type, 'i386'), alignOf(type, 'i386'), sizeOf(type, 'amd64'), alignOf(type, 'amd64')]).toEqual([size32, align32, size64, align64]);
  });
});

describe('types without a size', () => {
  const decls = new Declarations();
  decls.addDeclarations('struct flex { int n; char data[]; }; struct zero { int n; char data[0]; }; struct bad { char c : 9; };');
  const message = (type: CType) => {
    try {
      sizeOf(type, 'amd64');
    } catch (error) {
      expect(error).toBeInstanceOf(LayoutError);
      return (error as Error).message;
    }
    throw new Error('expected a LayoutError');
  };

  it('incomplete structs', () => {
    expect(message(decls.parseType('pcap_t'))).toBe('struct pcap has no definition; only pointers to it can be passed');
  });
  it('void and functions', () => {
    expect(message(decls.parseType('void'))).toBe('void has no size; only pointers to it can be passed');
    expect(message(decls.parseType('int (int)'))).toBe('a function (int (int)) has no size; pass a pointer to it');
  });
  it('flexible and zero-length array members', () => {
    expect(message(decls.parseType('struct flex'))).toMatch(/^struct flex: field `data` is a flexible array member \(char \[\]\)/);
    expect(message(decls.parseType('struct zero'))).toMatch(/^struct zero: field `data` is a zero-length array \(char \[0\]\)/);
  });
  it('bit-fields wider than their type', () => {
    expect(message(decls.parseType('struct bad'))).toBe('struct bad: bit-field `c` is 9 bits wide, but char has only 8');
  });
});

describe('typeName', () => {
  const decls = new Declarations();
  it.each(['const char *', 'void (*)(int)', 'int (*)[3]', 'struct pcap *', 'int *(*)(const void *, ...)', 'char *[4]'])('%s', (text) => {
    expect(typeName(decls.parseType(text))).toBe(text);
  });
});
