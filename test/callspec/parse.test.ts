import { typeName } from '../../src/callspec/layout.ts';
import { describe, expect, it } from 'vitest';
import { DeclarationError, Declarations, MAX_DECLARATION_NESTING } from '../../src/callspec/parse.ts';
import type { CType } from '../../src/callspec/types.ts';

const int = (name: string) => ({ kind: 'int', name }) as CType;
const ptr = (to: CType, isConst = false): CType => (isConst ? { kind: 'pointer', to, const: true } : { kind: 'pointer', to });

function errorOf(action: () => unknown): DeclarationError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(DeclarationError);
    return error as DeclarationError;
  }
  throw new Error('expected a DeclarationError');
}

describe('parseType: basic types and spellings', () => {
  const decls = new Declarations();
  const cases: Array<[string, CType]> = [
    ['unsigned', int('unsigned int')],
    ['signed', int('int')],
    ['long int', int('long')],
    ['long long int', int('long long')],
    ['unsigned long long', int('unsigned long long')],
    ['long unsigned int', int('unsigned long')],
    ['unsigned char', int('unsigned char')],
    ['signed char', int('signed char')],
    ['char', int('char')],
    ['short int', int('short')],
    ['unsigned short int', int('unsigned short')],
    ['_Bool', int('_Bool')],
    ['bool', int('_Bool')],
    ['double', { kind: 'float', name: 'double' }],
    ['long double', { kind: 'float', name: 'long double' }],
    ['const volatile int', int('int')],
    ['size_t', int('unsigned long')],
    ['ssize_t', int('long')],
    ['uint8_t', int('unsigned char')],
    ['int64_t', int('long long')],
    ['u_int', int('unsigned int')],
    ['bpf_u_int32', int('unsigned int')],
    ['off64_t', int('long long')],
    ['socklen_t', int('unsigned int')],
    ['void *', ptr({ kind: 'void' })],
    ['const char *', ptr(int('char'), true)],
    ['char const *', ptr(int('char'), true)],
    ['char *const', ptr(int('char'))],
    ['const char **', ptr(ptr(int('char'), true))],
    ['FILE *', ptr({ kind: 'struct', tag: '_IO_FILE' })],
    ['pcap_t *', ptr({ kind: 'struct', tag: 'pcap' })],
    ['int [4]', { kind: 'array', of: int('int'), length: 4 }],
    ['int (*)[3]', ptr({ kind: 'array', of: int('int'), length: 3 })],
  ];
  it.each(cases)('%s', (text, type) => {
    expect(decls.parseType(text)).toEqual(type);
  });

  it('function pointers', () => {
    expect(decls.parseType('int (*)(const void *, const void *)')).toEqual(
      ptr({
        kind: 'function',
        ret: int('int'),
        params: [
          { type: ptr({ kind: 'void' }, true), text: 'const void *' },
          { type: ptr({ kind: 'void' }, true), text: 'const void *' },
        ],
        variadic: false,
      }),
    );
  });

  it('rejects invalid combinations', () => {
    expect(errorOf(() => decls.parseType('unsigned double')).message).toBe('at column 1: "unsigned double" is not a valid type');
    expect(errorOf(() => decls.parseType('long long long')).message).toMatch(/not a valid type/);
    expect(errorOf(() => decls.parseType('int char')).message).toMatch(/not a valid type/);
  });
});

describe('parsePrototype', () => {
  const decls = new Declarations();

  it('snprintf', () => {
    const proto = decls.parsePrototype('int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
    expect(proto).toEqual({
      name: 'snprintf',
      ret: int('int'),
      params: [
        { name: 'buf', type: ptr(int('char')), text: 'char *buf' },
        { name: 'n', type: int('unsigned long'), text: 'unsigned long n' },
        { name: 'fmt', type: ptr(int('char'), true), text: 'const char *fmt' },
      ],
      variadic: true,
      text: 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)',
    });
  });

  it('(void), a trailing semicolon, comments and extra whitespace', () => {
    const proto = decls.parsePrototype('  const   char *pcap_lib_version( void ) /* version */ ;');
    expect(proto.name).toBe('pcap_lib_version');
    expect(proto.params).toEqual([]);
    expect(proto.ret).toEqual(ptr(int('char'), true));
    expect(proto.text).toBe('const char *pcap_lib_version( void )');
  });

  it('unnamed parameters and structs', () => {
    const proto = decls.parsePrototype('struct pair f(double, int, struct big)');
    expect(proto.ret).toEqual({ kind: 'struct', tag: 'pair' });
    expect(proto.params.map((p) => p.text)).toEqual(['double', 'int', 'struct big']);
    expect(proto.params.every((p) => p.name === undefined)).toBe(true);
  });

  it('signal: a function returning a function pointer', () => {
    const proto = decls.parsePrototype('void (*signal(int sig, void (*func)(int)))(int)');
    const handler: CType = ptr({ kind: 'function', ret: { kind: 'void' }, params: [{ type: int('int'), text: 'int' }], variadic: false });
    expect(proto.name).toBe('signal');
    expect(proto.ret).toEqual(handler);
    expect(proto.params).toEqual([
      { name: 'sig', type: int('int'), text: 'int sig' },
      { name: 'func', type: handler, text: 'void (*func)(int)' },
    ]);
  });

  it('array and function parameters decay to pointers', () => {
    const proto = decls.parsePrototype('int main(int argc, char *argv[], int cmp(int, int))');
    expect(proto.params[1].type).toEqual(ptr(ptr(int('char'))));
    expect(proto.params[2].type.kind).toBe('pointer');
    expect((proto.params[2].type as { to: CType }).to.kind).toBe('function');
  });

  it('va_list parameters are pointers', () => {
    const proto = decls.parsePrototype('int vsnprintf(char *restrict s, size_t n, const char *restrict fmt, va_list ap)');
    expect(proto.params[3].type).toEqual(ptr({ kind: 'void' }));
    expect(proto.params[0].name).toBe('s');
  });

  it('attributes and glibc decorations are ignored', () => {
    const proto = decls.parsePrototype('extern int puts (const char *__s) __attribute__((__nonnull__ (1))) __THROW;');
    expect(proto.name).toBe('puts');
    expect(proto.params[0].name).toBe('__s');
  });

  it('reports unknown type names with their column', () => {
    const error = errorOf(() => decls.parsePrototype('int f(int a, foo b)'));
    expect(error.message).toBe('at column 14: expected a type name, found "foo" (declare it with --decls)');
    expect(error.position).toBe(13);
    expect(error.column).toBe(14);
    expect(error.source).toBe('int f(int a, foo b)');
    expect(error.excerpt).toBe('int f(int a, foo b)\n             ^');
  });

  const bad: Array<[string, RegExp]> = [
    ['int f(int', /^at column 10: expected "," or "\)", found the end of the text$/],
    ['int x', /^at column 5: "x" is not declared as a function/],
    ['int (*fp)(int)', /"fp" is not declared as a function/],
    ['int f(...)', /^at column 7: "\.\.\." needs at least one named parameter/],
    ['int f(void, int)', /a parameter cannot have type void/],
    ['int f(int) junk', /^at column 12: expected the end of the declaration, found "junk"/],
    ['int f(int a[3)', /^at column 15: expected "\]"/],
    ['int f(int m[2][n])', /"n" is not a known constant/], // only the first dimension of a parameter decays
    ['f(int)', /^at column 1: expected a type name, found "f"/],
    ['int f(int @)', /^at column 11: unexpected character "@"/],
    ['typedef int t', /expected a prototype, found a typedef/],
    ['int _Complex f(void)', /^at column 1: "int _Complex" is not supported: _Complex takes float, double or long double/],
    ['_Float64 f(void)', /^at column 1: _Float64 types are not supported/],
    ['', /^at column 1: expected a type name, found the end of the text$/],
  ];
  it.each([
    ['int regexec(const void *re, const char *s, size_t nmatch, int pmatch[nmatch], int flags)', 3, 'int *'],
    ['int utimes(const char *file, const long times[static 2])', 1, 'const long *'],
    ['int f(int a[restrict 2])', 0, 'int *'],
    ['int f(int a[const])', 0, 'int *'],
    ['int f(int m[][4])', 0, 'int (*)[4]'],
  ])('C99 array parameters decay to pointers: %s', (text, index, type) => {
    expect(typeName(decls.parsePrototype(text).params[index]!.type)).toBe(type);
  });

  it.each(bad)('rejects %s', (text, message) => {
    expect(errorOf(() => decls.parsePrototype(text)).message).toMatch(message);
  });
});

describe('addDeclarations', () => {
  const header = `
    // A header-like file.
    #include <stdint.h>
    #define N 16
    typedef unsigned int bpf_u_int32;   /* redeclaring a built-in is fine */
    struct pt { double x, y; };
    typedef struct pt point;
    typedef struct later later_t;       // defined below
    struct later { int a; };
    enum color { RED, GREEN = 3, BLUE, MASK = 1 << 4 | BLUE };
    typedef enum { OFF, ON } state;
    struct node {
      struct node *next;
      const char name[16];
      unsigned flags : 3, : 0, more : 5;
      union { int i; float f; } u;
      struct { char a, b; };
      void (*callback)(struct node *, int);
    };
    struct packed { char c; int i; } __attribute__((packed));
    struct __attribute__((aligned(16))) aligned16 { char c; };
    struct pcap_pkthdr;
    int pcap_loop(pcap_t *, int, void (*)(u_char *, const struct pcap_pkthdr *, const u_char *), u_char *);
    extern double hypot(double, double), fabs(double);
    int counter;
  `;
  const decls = new Declarations();
  decls.addDeclarations(header);

  it('typedefs resolve to the struct definition, even when defined later', () => {
    expect(decls.parseType('point')).toEqual({
      kind: 'struct', tag: 'pt',
      fields: [{ name: 'x', type: { kind: 'float', name: 'double' } }, { name: 'y', type: { kind: 'float', name: 'double' } }],
    });
    expect(decls.parseType('later_t')).toEqual({ kind: 'struct', tag: 'later', fields: [{ name: 'a', type: int('int') }] });
  });

  it('enum constants', () => {
    expect(['RED', 'GREEN', 'BLUE', 'MASK'].map((n) => decls.enumConstant(n))).toEqual([0, 3, 4, 20]);
    expect(decls.enumConstant('ON')).toBe(1);
    expect(decls.parseType('enum color')).toEqual({ kind: 'enum', tag: 'color' });
    expect(decls.parseType('state')).toEqual({ kind: 'enum' });
  });

  it('nested members, bit-fields, arrays, function pointers; self-reference stays acyclic', () => {
    const node = decls.parseType('struct node');
    expect(node.kind).toBe('struct');
    const fields = (node as { fields: Array<{ name?: string; type: CType; bits?: number }> }).fields;
    expect(fields.map((f) => f.name)).toEqual(['next', 'name', 'flags', undefined, 'more', 'u', undefined, 'callback']);
    expect(fields[0].type).toEqual(ptr({ kind: 'struct', tag: 'node' }));
    expect(fields[1].type).toEqual({ kind: 'array', of: int('char'), length: 16 });
    expect(fields.map((f) => f.bits)).toEqual([undefined, undefined, 3, 0, 5, undefined, undefined, undefined]);
    expect(fields[5].type).toMatchObject({ kind: 'union', fields: [{ name: 'i' }, { name: 'f' }] });
    expect(fields[6].type).toMatchObject({ kind: 'struct', fields: [{ name: 'a' }, { name: 'b' }] });
    expect(fields[7].type).toMatchObject({ kind: 'pointer', to: { kind: 'function', params: [{ type: ptr({ kind: 'struct', tag: 'node' }) }, {}] } });
    expect(() => JSON.stringify(node)).not.toThrow();
  });

  it('packed and aligned attributes', () => {
    expect(decls.parseType('struct packed')).toMatchObject({ packed: true });
    expect(decls.parseType('struct aligned16')).toMatchObject({ align: 16 });
  });

  it('collects prototypes', () => {
    expect(decls.prototypeNames()).toEqual(['pcap_loop', 'hypot', 'fabs']);
    expect(decls.prototype('pcap_loop')!.params[2].type).toMatchObject({ kind: 'pointer', to: { kind: 'function' } });
    expect(decls.prototype('fabs')!.text).toBe('extern double hypot(double, double), fabs(double)');
  });

  it('declared-only structs stay incomplete', () => {
    expect(decls.parseType('struct pcap_pkthdr')).toEqual({ kind: 'struct', tag: 'pcap_pkthdr' });
  });

  it('errors carry line and column', () => {
    const scope = new Declarations();
    const error = errorOf(() => scope.addDeclarations('struct a {\n  int x;\n  mystery_t y;\n};'));
    expect(error.message).toBe('at line 3, column 3: expected a type name, found "mystery_t" (declare it with --decls)');
    expect(error.line).toBe(3);
  });

  const bad: Array<[string, RegExp]> = [
    ['struct s { int a : 0; };', /zero-width bit-field cannot have a name/],
    ['struct s { double d : 3; };', /bit-fields must have an integer or enum type/],
    ['struct s { int a; }; struct s { long a; };', /struct s is already defined differently/],
    ['struct s; union s *p;', /"s" was declared as struct s, not union/],
    ['int f(void) { return 0; }', /function bodies are not supported/],
    ['int a[-1];', /array length cannot be negative/],
    ['enum e { A = sizeof(int) };', /sizeof is not supported/],
    ['enum e { A = 0x100000000 };', /enumerator A = 4294967296 does not fit in 32 bits/],
    ['struct s { int a }', /expected "," or ";"/],
  ];
  it.each([
    ['int regexec(const void *re, const char *s, size_t nmatch, int pmatch[nmatch], int flags)', 3, 'int *'],
    ['int utimes(const char *file, const long times[static 2])', 1, 'const long *'],
    ['int f(int a[restrict 2])', 0, 'int *'],
    ['int f(int a[const])', 0, 'int *'],
    ['int f(int m[][4])', 0, 'int (*)[4]'],
  ])('C99 array parameters decay to pointers: %s', (text, index, type) => {
    expect(typeName(decls.parsePrototype(text).params[index]!.type)).toBe(type);
  });

  it.each(bad)('rejects %s', (text, message) => {
    expect(errorOf(() => new Declarations().addDeclarations(text)).message).toMatch(message);
  });

  it('identical redefinitions are accepted (a header added twice)', () => {
    const scope = new Declarations();
    scope.addDeclarations('struct s { int a; };');
    expect(() => scope.addDeclarations('struct s { int a; };')).not.toThrow();
  });
});

describe('built-in typedefs (parsed on first use, as if declared first)', () => {
  it('declare their tags before any use: a union or enum of that tag is refused', () => {
    expect(new Declarations().tag('struct', 'pcap')).toEqual({ kind: 'struct', tag: 'pcap' });
    expect(() => new Declarations().addDeclarations('union pcap { int x; };')).toThrow(/"pcap" was declared as struct pcap, not union/);
  });

  it('give way to a redefinition, and a defined tag completes them', () => {
    const d = new Declarations();
    d.addDeclarations('typedef unsigned int size_t; struct __dirstream { int fd; };');
    expect(d.typedef('size_t')).toEqual({ kind: 'int', name: 'unsigned int' });
    expect(d.typedef('DIR')).toEqual({ kind: 'struct', tag: '__dirstream', fields: [expect.objectContaining({ name: 'fd' })] });
    expect(d.typedef('ssize_t')).toEqual(new Declarations().typedef('ssize_t'));
  });
});

describe('nesting limit', () => {
  const deep = MAX_DECLARATION_NESTING * 8;
  const limit = new RegExp(`nests deeper than the parser's limit of ${MAX_DECLARATION_NESTING} levels`);

  it('refuses pathologically deep declarations with a DeclarationError naming the limit (not a host stack overflow)', () => {
    const cases = [
      `int f(int ${'*'.repeat(deep)}x)`,
      `int f(int ${'('.repeat(deep)}x${')'.repeat(deep)})`,
      `void f(${'void (*)('.repeat(deep)}int${')'.repeat(deep)})`,
      `struct s ${'{ struct '.repeat(deep)}{ int a; } ${'a; } '.repeat(deep)}f(void)`,
    ];
    for (const text of cases) expect(errorOf(() => new Declarations().parsePrototype(text)).message).toMatch(limit);
    const constants = `enum { A = ${'-'.repeat(deep)}1, B = ${'('.repeat(deep)}1${')'.repeat(deep)} };`;
    expect(errorOf(() => new Declarations().addDeclarations(constants)).message).toMatch(limit);
  });

  it('accepts nesting up to the limit', () => {
    const depth = MAX_DECLARATION_NESTING / 2;
    const proto = new Declarations().parsePrototype(`int f(int ${'*'.repeat(depth)}x, int (${'*'.repeat(depth)}y))`);
    expect(proto.params).toHaveLength(2);
  });
});
