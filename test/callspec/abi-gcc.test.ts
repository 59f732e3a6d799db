/**
 * The call plans checked against GCC as the caller. Each prototype is declared in C with an asm label that points
 * it at a small assembly function, `capture`, which stores the argument registers and the top of the stack in a
 * buffer. The C program calls each function with known argument values and prints the capture together with
 * the memory image of every argument; the test then reads every Location of the CallSpec out of the capture.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arch } from '../../src/emu/arch.ts';
import { callSpec } from '../../src/callspec/classify.ts';
import { X87_EXTENDED_BYTES, sizeOf, structLayout } from '../../src/callspec/layout.ts';
import { Declarations } from '../../src/callspec/parse.ts';
import { renderCallSpec } from '../../src/callspec/render.ts';
import type { CType, Location, Prototype } from '../../src/callspec/types.ts';

const HEADER = `
struct pair { double d; int i; };
struct ipair { long i; double d; };
struct dd { double a, b; };
struct ll { long a, b; };
struct f3 { float a, b, c; };
struct fi { float f; int i; };
union fu { float f; int i; };
struct ld { long double x; };
struct big { long a, b, c; };
struct darr { double d[2]; };
struct c3 { char a, b, c; };
struct packed { char c; double d; } __attribute__((packed));
struct a16 { double d; } __attribute__((aligned(16)));
struct bits { unsigned a : 4; float f; };
struct mixed { char c; short s; float f; };
`;

interface Case {
  proto: string;
  /** Types of the variadic arguments, when the prototype has `...`. */
  variadic?: string[];
}

const CASES: Case[] = [
  { proto: 'void c1(char a, unsigned char b, short c, unsigned short d, _Bool e, int f, long g, long long h, signed char i)' },
  { proto: 'void c2(double a, float b, long double c, int d, double e, struct ld f)' },
  { proto: 'void c3(struct pair a, struct f3 b, struct ld c, struct big d, union fu e, struct c3 f, struct fi g)' },
  { proto: 'void c4(long a, long b, long c, long d, long e, struct ll s, long g, double x)' },
  { proto: 'void c5(double a, double b, double c, double d, double e, double f, double g, double h, double i, float j, struct dd k)' },
  { proto: 'struct big c6(int a, struct ipair b, char *c, long d, long e, long f, long g)' },
  { proto: 'int c7(const char *fmt, ...)', variadic: ['double', 'int', 'struct dd', 'long double', 'long', 'struct big', 'double'] },
  { proto: 'void c8(struct packed p, struct a16 q, struct bits r, struct darr s, struct dd t, struct dd u, struct mixed v, struct dd w)' },
  { proto: 'struct pair c9(struct ll a, int b, long double c, struct ld d, int e)' },
  { proto: 'long long c10(unsigned short a, long long b, float c, struct c3 d, struct mixed e)' },
  { proto: 'union fu c11(struct c3 a)' },
  { proto: 'int c12(int n, ...)', variadic: ['int'] },
];

/** Capture buffer layout (amd64): GPRs at 0, %rax at 48, %xmm0–7 at 64, then the stack from the first argument. */
const GPR_OFFSETS: Record<string, number> = { rdi: 0, rsi: 8, rdx: 16, rcx: 24, r8: 32, r9: 40, rax: 48 };
const XMM_BASE = 64;
const XMM_SIZE = 16;
const STACK_BASE: Record<Arch, number> = { amd64: 192, i386: 0 };
const STACK_BYTES = 256;
const DUMP_SIZE = 448;

const CAPTURE_ASM: Record<Arch, string> = {
  amd64: `
  .section .note.GNU-stack,"",@progbits
  .text
  .globl capture
capture:
  lea dump(%rip), %r11
  mov %rdi, 0(%r11)
  mov %rsi, 8(%r11)
  mov %rdx, 16(%r11)
  mov %rcx, 24(%r11)
  mov %r8, 32(%r11)
  mov %r9, 40(%r11)
  mov %rax, 48(%r11)
  movdqu %xmm0, 64(%r11)
  movdqu %xmm1, 80(%r11)
  movdqu %xmm2, 96(%r11)
  movdqu %xmm3, 112(%r11)
  movdqu %xmm4, 128(%r11)
  movdqu %xmm5, 144(%r11)
  movdqu %xmm6, 160(%r11)
  movdqu %xmm7, 176(%r11)
  mov %rdi, %rax
  lea 8(%rsp), %rsi
  lea 192(%r11), %rdi
  mov $${STACK_BYTES}, %ecx
  rep movsb
  ret
`,
  i386: `
  .section .note.GNU-stack,"",@progbits
  .text
  .globl capture, capture_sret
capture:
  push %esi
  push %edi
  lea 12(%esp), %esi
  lea dump, %edi
  mov $${STACK_BYTES}, %ecx
  rep movsb
  pop %edi
  pop %esi
  ret
capture_sret:
  push %esi
  push %edi
  lea 12(%esp), %esi
  lea dump, %edi
  mov $${STACK_BYTES}, %ecx
  rep movsb
  pop %edi
  pop %esi
  mov 4(%esp), %eax
  ret $4
`,
};

/** A C expression of type `type` with a recognisable value; aggregates are filled byte by byte instead. */
function scalarValue(type: CType, seed: number): string | undefined {
  if (type.kind === 'pointer') return `(void *)(unsigned long)0x${(0x10203040 + seed).toString(16)}`;
  if (type.kind === 'float') return { float: `${seed}.25f`, double: `${seed}.5`, 'long double': `${seed}.75L`, _Float16: `${seed}.5f16`, __float128: `${seed}.125Q` }[type.name];
  if (type.kind !== 'int') return undefined;
  const narrowSigned: Record<string, string> = { char: `-${seed}`, 'signed char': `-${seed}`, short: `-${seed * 300}` };
  const narrowUnsigned: Record<string, string> = { 'unsigned char': `${0xf0 + seed}`, 'unsigned short': `${0xf000 + seed}`, _Bool: '1' };
  return narrowSigned[type.name] ?? narrowUnsigned[type.name] ?? `(${type.name})(0x8877665544332211ULL + ${seed})`;
}

/** C spelling of a type for a variable declaration (only the kinds used in the cases). */
function cTypeName(type: CType): string {
  if (type.kind === 'pointer') return 'void *';
  if (type.kind === 'int' || type.kind === 'float') return type.name;
  if (type.kind === 'struct' || type.kind === 'union') return `${type.kind} ${type.tag}`;
  throw new Error(`unexpected type ${type.kind}`);
}

function cProgram(arch: Arch, protos: Prototype[], decls: Declarations): string {
  const lines = ['#include <stdio.h>', '#include <string.h>', HEADER, `unsigned char dump[${DUMP_SIZE}] __attribute__((aligned(16)));`];
  lines.push('static void hex(const void *p, unsigned long n) { const unsigned char *b = p; putchar(\'"\'); while (n--) printf("%02x", *b++); putchar(\'"\'); }');
  lines.push('static void fill(void *p, unsigned long n, int seed) { unsigned char *b = p; for (unsigned long i = 0; i < n; i++) b[i] = (unsigned char)(seed * 16 + i * 7 + 1); }');
  protos.forEach((proto, i) => {
    const sret = arch === 'i386' && (proto.ret.kind === 'struct' || proto.ret.kind === 'union');
    lines.push(`${proto.text} __asm__("${sret ? 'capture_sret' : 'capture'}");`);
    void i;
  });
  lines.push('int main(void) {', '  printf("[");');
  protos.forEach((proto, i) => {
    const types = [...proto.params.map((p) => p.type), ...(CASES[i].variadic ?? []).map((t) => decls.parseType(t))];
    lines.push(`  { /* ${proto.name} */`);
    types.forEach((type, j) => {
      const value = scalarValue(type, j + 1);
      lines.push(value === undefined
        ? `    ${cTypeName(type)} a${j}; fill(&a${j}, sizeof a${j}, ${j + 1});`
        : `    ${cTypeName(type)} a${j} = ${value};`);
    });
    const call = `${proto.name}(${types.map((_, j) => `a${j}`).join(', ')})`;
    lines.push(`    ${call};`);
    lines.push(`    printf("%s{\\"dump\\": ", ${i} ? ",\\n" : ""); hex(dump, sizeof dump); printf(", \\"args\\": [");`);
    types.forEach((_, j) => lines.push(`    ${j ? 'printf(", "); ' : ''}hex(&a${j}, sizeof a${j});`));
    lines.push('    printf("]}");', '  }');
  });
  lines.push('  printf("]\\n");', '  return 0;', '}');
  return lines.join('\n');
}

/** Which bytes of a value are meaningful (not padding), so uninitialised padding does not fail the comparison. */
function meaningfulBytes(type: CType, arch: Arch): boolean[] {
  const mask = new Array<boolean>(sizeOf(type, arch)).fill(false);
  const mark = (t: CType, offset: number) => {
    if (t.kind === 'float' && t.name === 'long double') {
      for (let i = 0; i < X87_EXTENDED_BYTES; i++) mask[offset + i] = true;
    } else if (t.kind === 'array') {
      const size = sizeOf(t.of, arch);
      for (let i = 0; i < t.length; i++) mark(t.of, offset + i * size);
    } else if (t.kind === 'struct' || t.kind === 'union') {
      for (const f of structLayout(t, arch).fields) {
        if (f.bits !== undefined) for (let i = 0; i < f.size; i++) mask[offset + f.offset + i] = true;
        else mark(f.type, offset + f.offset);
      }
    } else {
      for (let i = 0; i < sizeOf(t, arch); i++) mask[offset + i] = true;
    }
  };
  mark(type, 0);
  return mask;
}

function bytes(hex: string): number[] {
  return hex.match(/../g)!.map((b) => parseInt(b, 16));
}

/** The bytes a Location designates in the capture. */
function captured(dump: number[], arch: Arch, location: Location): number[] {
  if (location.kind === 'stack') {
    const at = STACK_BASE[arch] + location.stackOffset;
    return dump.slice(at, at + location.size);
  }
  const at = location.reg.startsWith('xmm') ? XMM_BASE + XMM_SIZE * Number(location.reg.slice(3)) : GPR_OFFSETS[location.reg];
  return dump.slice(at, at + location.size);
}

function hasMultilibGcc(): boolean {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const GCC_FLAGS: Record<Arch, string[]> = { amd64: ['-m64'], i386: ['-m32'] };

for (const arch of ['amd64', 'i386'] as const) {
  describe.skipIf(!hasMultilibGcc())(`${arch}: call plans agree with gcc as the caller`, () => {
    const decls = new Declarations();
    decls.addDeclarations(HEADER);
    const protos = CASES.map((c) => decls.parsePrototype(c.proto));
    let results: Array<{ dump: string; args: string[] }> = [];
    let dir = '';

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), `callspec-abi-${arch}-`));
      writeFileSync(join(dir, 'calls.c'), cProgram(arch, protos, decls));
      writeFileSync(join(dir, 'capture.s'), CAPTURE_ASM[arch]);
      const binary = join(dir, 'calls');
      execFileSync('gcc', [...GCC_FLAGS[arch], '-O1', '-w', '-fno-pic', '-no-pie', '-o', binary, join(dir, 'calls.c'), join(dir, 'capture.s')]);
      results = JSON.parse(execFileSync(binary, { encoding: 'utf8' }));
    });

    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it.each(CASES.map((c, i) => [c.proto, i] as const))('%s', (_, i) => {
      const variadic = (CASES[i].variadic ?? []).map((t) => decls.parseType(t));
      const spec = callSpec(protos[i], arch, variadic);
      const dump = bytes(results[i].dump);
      const context = `\n${renderCallSpec(spec)}`;
      spec.args.forEach((arg, j) => {
        const image = bytes(results[i].args[j]);
        const mask = meaningfulBytes(arg.type, arch);
        for (const location of arg.locations) {
          const got = captured(dump, arch, location);
          for (let k = 0; k < location.size; k++) {
            if (!mask[location.offset + k]) continue;
            expect(got[k], `arg ${arg.index} byte ${location.offset + k} in ${JSON.stringify(location)}${context}`).toBe(image[location.offset + k]);
          }
          if (arg.extension !== 'none') {
            const negative = (image[arg.size - 1] & 0x80) !== 0;
            const fill = arg.extension === 'sign' && negative ? 0xff : 0;
            const whole = captured(dump, arch, { ...location, size: 4 });
            expect(whole.slice(arg.size), `arg ${arg.index} extension${context}`).toEqual(new Array(4 - arg.size).fill(fill));
          }
        }
      });
      if (spec.al !== undefined) expect(dump[GPR_OFFSETS.rax], `%al${context}`).toBe(spec.al);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Return values: gcc-compiled functions return known values; an assembly `probe` calls them (passing a hidden
// buffer when asked) and stores the return registers, %st0, and on i386 how far %esp moved during the call.

const RETURN_TYPES = [
  'char', 'unsigned short', 'int', 'long', 'long long', 'void *', 'float', 'double', 'long double',
  'struct pair', 'struct ipair', 'struct dd', 'struct ll', 'struct f3', 'struct fi', 'union fu', 'struct ld',
  'struct big', 'struct c3', 'struct mixed', 'struct packed', 'struct darr',
];

/** Probe capture layout: rax/eax at 0, rdx/edx at 8, xmm0 at 16, xmm1 at 32, st0 at 48, esp delta at 64. */
const RET_OFFSETS: Record<string, number> = { rax: 0, eax: 0, rdx: 8, edx: 8, xmm0: 16, xmm1: 32, st0: 48 };
const ESP_DELTA_OFFSET = 64;

const PROBE_ASM: Record<Arch, string> = {
  amd64: `
  .section .note.GNU-stack,"",@progbits
  .text
  .globl probe
probe:
  push %rbx
  mov %rdx, %rbx
  mov %rdi, %rax
  mov %rsi, %rdi
  call *%rax
  lea rdump(%rip), %r11
  mov %rax, 0(%r11)
  mov %rdx, 8(%r11)
  movdqu %xmm0, 16(%r11)
  movdqu %xmm1, 32(%r11)
  test %rbx, %rbx
  jz 1f
  fstpt 48(%r11)
1:
  pop %rbx
  ret
`,
  i386: `
  .section .note.GNU-stack,"",@progbits
  .text
  .globl probe
probe:
  push %ebx
  push %esi
  mov 12(%esp), %eax
  mov 16(%esp), %ecx
  mov 20(%esp), %esi
  mov %esp, %ebx
  test %ecx, %ecx
  jz 1f
  push %ecx
1:
  call *%eax
  mov %esp, %ecx
  sub %ebx, %ecx
  mov %ebx, %esp
  mov %eax, rdump
  mov %edx, rdump+8
  mov %ecx, rdump+64
  test %esi, %esi
  jz 2f
  fstpt rdump+48
2:
  pop %esi
  pop %ebx
  ret
`,
};

/** The types GCC returns on the x87 stack (the probe must pop %st0 for them). */
const X87_RETURNS: Record<Arch, string[]> = { amd64: ['long double', 'struct ld'], i386: ['float', 'double', 'long double'] };

function returnProgram(arch: Arch, decls: Declarations): string {
  const lines = ['#include <stdio.h>', '#include <string.h>', HEADER, 'unsigned char rdump[80] __attribute__((aligned(16)));'];
  lines.push('static void hex(const void *p, unsigned long n) { const unsigned char *b = p; putchar(\'"\'); while (n--) printf("%02x", *b++); putchar(\'"\'); }');
  lines.push('static void fill(void *p, unsigned long n, int seed) { unsigned char *b = p; for (unsigned long i = 0; i < n; i++) b[i] = (unsigned char)(seed * 16 + i * 7 + 1); }');
  lines.push('void probe(void *fn, void *hidden, long x87);');
  RETURN_TYPES.forEach((text, i) => {
    const type = decls.parseType(text);
    const value = scalarValue(type, i + 1);
    lines.push(`__attribute__((noinline)) ${text} r${i}(void) { ${text} v${value === undefined ? `; fill(&v, sizeof v, ${i + 1})` : ` = ${value}`}; return v; }`);
  });
  lines.push('int main(void) {', '  static unsigned char buffer[256];', '  printf("[");');
  RETURN_TYPES.forEach((text, i) => {
    const memory = text.startsWith('struct') || text.startsWith('union');
    const x87 = X87_RETURNS[arch].includes(text);
    lines.push(`  { ${text} e = r${i}(); memset(rdump, 0, sizeof rdump); memset(buffer, 0, sizeof buffer);`);
    lines.push(`    probe((void *)r${i}, ${memory ? 'buffer' : '0'}, ${x87 ? 1 : 0});`);
    lines.push(`    printf("%s{\\"dump\\": ", ${i} ? ",\\n" : ""); hex(rdump, sizeof rdump); printf(", \\"value\\": "); hex(&e, sizeof e);`);
    lines.push(`    printf(", \\"buffer\\": "); hex(buffer, sizeof e); printf(", \\"bufferAddress\\": \\"%lx\\"}", (unsigned long)buffer); }`);
  });
  lines.push('  printf("]\\n");', '  return 0;', '}');
  return lines.join('\n');
}

/** An x87 80-bit extended value (little-endian bytes) as a JavaScript number. */
function fromExtended(b: number[]): number {
  const exponent = ((b[9] & 0x7f) << 8) | b[8];
  let mantissa = 0n;
  for (let i = 7; i >= 0; i--) mantissa = (mantissa << 8n) | BigInt(b[i]);
  const sign = b[9] & 0x80 ? -1 : 1;
  return sign * Number(mantissa) * 2 ** (exponent - 16383 - 63);
}

function littleEndian(b: number[]): bigint {
  return b.reduceRight((acc, byte) => (acc << 8n) | BigInt(byte), 0n);
}

for (const arch of ['amd64', 'i386'] as const) {
  describe.skipIf(!hasMultilibGcc())(`${arch}: return values agree with gcc as the callee`, () => {
    const decls = new Declarations();
    decls.addDeclarations(HEADER);
    let results: Array<{ dump: string; value: string; buffer: string; bufferAddress: string }> = [];
    let dir = '';

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), `callspec-ret-${arch}-`));
      writeFileSync(join(dir, 'returns.c'), returnProgram(arch, decls));
      writeFileSync(join(dir, 'probe.s'), PROBE_ASM[arch]);
      const binary = join(dir, 'returns');
      execFileSync('gcc', [...GCC_FLAGS[arch], '-O1', '-w', '-fno-pic', '-no-pie', '-o', binary, join(dir, 'returns.c'), join(dir, 'probe.s')]);
      results = JSON.parse(execFileSync(binary, { encoding: 'utf8' }));
    });

    afterAll(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it.each(RETURN_TYPES.map((t, i) => [t, i] as const))('%s', (text, i) => {
      const spec = callSpec(decls.parsePrototype(`${text} f(void)`), arch);
      const ret = spec.ret;
      const dump = bytes(results[i].dump);
      const value = bytes(results[i].value);
      const mask = meaningfulBytes(ret.type, arch);
      const context = `\n${renderCallSpec(spec)}`;
      const expectedKind = text.startsWith('struct') || text.startsWith('union')
        ? (arch === 'i386' || ret.kind === 'memory' ? 'memory' : ret.kind)
        : ret.kind;
      expect(ret.kind).toBe(expectedKind);
      if (ret.kind === 'memory') {
        const pointerSize = arch === 'amd64' ? 8 : 4;
        expect(littleEndian(dump.slice(0, pointerSize)), `returned address${context}`).toBe(BigInt('0x' + results[i].bufferAddress));
        const buffer = bytes(results[i].buffer);
        value.forEach((byte, k) => mask[k] && expect(buffer[k], `buffer byte ${k}${context}`).toBe(byte));
        if (arch === 'i386') expect(littleEndian(dump.slice(ESP_DELTA_OFFSET, ESP_DELTA_OFFSET + 4)), `bytes popped${context}`).toBe(0n);
        expect(spec.calleePops).toBe(arch === 'i386' ? 4 : 0);
        return;
      }
      if (arch === 'i386') expect(littleEndian(dump.slice(ESP_DELTA_OFFSET, ESP_DELTA_OFFSET + 4)), `bytes popped${context}`).toBe(0n);
      for (const location of ret.locations) {
        if (location.kind !== 'reg') throw new Error('return values live in registers');
        const at = RET_OFFSETS[location.reg];
        if (location.reg === 'st0') {
          const st0 = dump.slice(at, at + X87_EXTENDED_BYTES);
          if (ret.type.kind === 'float' && ret.type.name !== 'long double') {
            const view = new DataView(new Uint8Array(value).buffer);
            const expected = ret.type.name === 'float' ? view.getFloat32(0, true) : view.getFloat64(0, true);
            expect(fromExtended(st0), `st0${context}`).toBe(expected);
          } else {
            expect(st0, `st0${context}`).toEqual(value.slice(0, X87_EXTENDED_BYTES));
          }
          continue;
        }
        for (let k = 0; k < location.size; k++) {
          if (!mask[location.offset + k]) continue;
          expect(dump[at + k], `${location.reg} byte ${k}${context}`).toBe(value[location.offset + k]);
        }
      }
    });
  });
}
