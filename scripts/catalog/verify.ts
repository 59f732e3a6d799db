/**
 * Check the built-in catalog (src/catalog/*.h) against the truth. Run through scripts/catalog/verify.sh.
 *
 * (a) Every catalog function is a defined function symbol (default version) of its library in the bundled
 *     fixtures of both arches.
 * (b) For each arch (gcc -m64 / -m32), a C file includes the real glibc and libpcap headers, then
 *     - for each struct/union/enum the catalog defines: static assertions that its size, alignment, and the
 *       offset and size of each member (except `__`-prefixed private ones) are what shimulator's layout
 *       computes from the catalog's definition, and that enumerators have the catalog's values;
 *     - for every typedef name the catalog uses (size_t, off_t, … from the parser's built-ins included): its size,
 *       and for integer types its signedness;
 *     - every plain typedef of the catalog, verbatim (C11 lets a typedef be repeated only with the same type),
 *       after checking that the real headers define that name;
 *     - for every catalog prototype: a check that the real headers declare the function, then the prototype
 *       verbatim. gcc rejects a redeclaration whose type differs from the real one ("conflicting types").
 *     Sections flagged `nognu` go into a file compiled without _GNU_SOURCE, sections flagged `fortify` into
 *     one compiled with -O2 -D_FORTIFY_SOURCE=2; flags `builtin`, `isoc99`, `redirect=F` and `undeclared`
 *     choose the reference a function is checked against when the headers do not declare it under its own
 *     name (see generate()). `#line` directives make gcc report problems at the catalog's own file and line.
 *
 * (c) The symbol gcc references for each function is its own name, or (for functions the headers rename with an
 *     asm label, like sscanf → __isoc99_sscanf) another catalog function.
 *
 * Usage: tsx scripts/catalog/verify.ts [--keep]   (--keep: leave the generated C files and print their paths)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arch } from '../../src/emu/arch.ts';
import { alignOf, sizeOf, structLayout } from '../../src/callspec/layout.ts';
import type { CType } from '../../src/callspec/types.ts';
import { catalog, catalogDeclarations, catalogSections, lookupPrototype, splitStatements } from '../../src/catalog/catalog.ts';
import type { CatalogSection, CatalogStatement } from '../../src/catalog/catalog.ts';
import { parseElf } from '../../src/loader/elf.ts';
import { findFixture, loadFixture } from '../../src/loader/fixtures.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CATALOG_DIR = fileURLToPath(new URL('../../src/catalog/', import.meta.url));
const ARCHES: readonly Arch[] = ['amd64', 'i386'];
const GCC_FLAGS: Record<Arch, string> = { amd64: '-m64', i386: '-m32' };

/** Headers included before anything else (types the catalog uses that no `@header` section names). */
const BASE_INCLUDES = ['stddef.h', 'stdarg.h', 'stdint.h', 'sys/types.h', 'netinet/in.h'];
/** Where a catalog header name is not the include path. */
const INCLUDE_PATH: Record<string, string> = { 'pcap.h': 'pcap/pcap.h' };

const keep = process.argv.includes('--keep');
let failures = 0;

function fail(message: string): void {
  failures++;
  console.error(`FAIL ${message}`);
}

// ---------------------------------------------------------------------------------------------------------------
// (a) symbols

function checkSymbols(): void {
  const entries = catalog();
  for (const arch of ARCHES) {
    const libraries = new Map<string, ReturnType<typeof parseElf>>();
    for (const entry of entries) {
      let elf = libraries.get(entry.library);
      if (!elf) {
        const fixture = findFixture(arch, entry.library);
        if (!fixture) throw new Error(`no ${arch} fixture for ${entry.library}`);
        elf = parseElf(loadFixture(fixture), `${arch}/${entry.library}`);
        libraries.set(entry.library, elf);
      }
      if (arch === ARCHES[0] && /\(\s*\)/.test(entry.text)) fail(`${entry.name}: write (void), not (): ${entry.text}`);
      const symbol = elf.lookup(entry.name);
      if (!symbol || !symbol.defined) fail(`${arch}: ${entry.name} is not exported by ${entry.library} (default version)`);
      else if (symbol.type !== 'FUNC' && symbol.type !== 'GNU_IFUNC') fail(`${arch}: ${entry.name} in ${entry.library} is a ${symbol.type}, not a function`);
    }
    const counts = [...libraries.keys()].map((lib) => `${entries.filter((e) => e.library === lib).length} in ${lib}`).join(', ');
    console.log(`symbols ${arch}: checked ${entries.length} functions (${counts})`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// (b) C file generation

interface Generated {
  lines: string[];
  prototypes: number;
  /** Prototypes no real header declares (checked for syntax and symbols only). */
  unchecked: string[];
  /** Names of the group's prototypes. */
  names: string[];
  layouts: number;
  typedefs: number;
  /** Typedef names whose size (and signedness) is checked. */
  typedefSizes: number;
}

const lineDirective = (section: CatalogSection, statement: CatalogStatement) =>
  `#line ${statement.line} "${relative(REPO_ROOT, join(CATALOG_DIR, section.file))}"`;

/** The name a plain typedef declares: `typedef T NAME;` or `typedef R (*NAME)(...);`. */
function typedefName(text: string): string | undefined {
  if (!/^typedef\b/.test(text)) return undefined;
  const pointer = /\(\s*\*\s*(\w+)\s*\)/.exec(text);
  if (pointer) return pointer[1];
  return /(\w+)\s*;$/.exec(text)?.[1];
}

/** What a definition with a body defines: the C spellings of the types to check, and enumerator names. */
function definedTypes(text: string): { types: string[]; enumerators: string[] } {
  const types: string[] = [];
  const head = /^(typedef\s+)?(volatile\s+)?(struct|union|enum)\s*(\w+)?\s*\{/.exec(text);
  if (!head) throw new Error(`cannot tell what this defines: ${text.slice(0, 60)}`);
  const [, isTypedef, , kind, tag] = head;
  if (tag) types.push(`${kind} ${tag}`);
  if (isTypedef) {
    const name = /\}\s*(\w+)\s*;$/.exec(text)?.[1];
    if (!name) throw new Error(`cannot find the typedef name in: ${text.slice(0, 60)}`);
    types.push(name);
  }
  let enumerators: string[] = [];
  if (kind === 'enum') {
    const body = text.slice(text.indexOf('{') + 1, text.lastIndexOf('}'));
    enumerators = body.split(',').map((item) => /^\s*(\w+)/.exec(item)?.[1]).filter((n): n is string => !!n);
  }
  return { types, enumerators };
}

function layoutAssertions(spelling: string, type: CType, arch: Arch): string[] {
  const say = (what: string, value: number) => `"${spelling}: ${what} is not ${value} on ${arch} (catalog layout)"`;
  const out = [
    `_Static_assert(sizeof(${spelling}) == ${sizeOf(type, arch)}, ${say('sizeof', sizeOf(type, arch))});`,
    `_Static_assert(_Alignof(${spelling}) == ${alignOf(type, arch)}, ${say('_Alignof', alignOf(type, arch))});`,
  ];
  if (type.kind === 'struct' || type.kind === 'union') {
    for (const field of structLayout(type, arch).fields) {
      if (field.name === undefined || field.name.startsWith('__') || field.bits !== undefined) continue;
      out.push(`_Static_assert(offsetof(${spelling}, ${field.name}) == ${field.offset}, ${say(`offsetof ${field.name}`, field.offset)});`);
      out.push(`_Static_assert(sizeof(((${spelling} *)0)->${field.name}) == ${field.size}, ${say(`sizeof ${field.name}`, field.size)});`);
    }
  }
  return out;
}

/**
 * Translation units: sections flagged `nognu` are checked without _GNU_SOURCE, sections flagged `fortify` with
 * _FORTIFY_SOURCE=2 and optimisation (the only way the headers declare the `__*_chk` functions).
 */
type Group = 'gnu' | 'nognu' | 'fortify';
const GROUPS: readonly Group[] = ['gnu', 'nognu', 'fortify'];
const GROUP_FLAGS: Record<Group, string[]> = { gnu: [], nognu: [], fortify: ['-O2', '-D_FORTIFY_SOURCE=2'] };

function groupOf(section: CatalogSection): Group {
  if (section.flags.includes('nognu')) return 'nognu';
  if (section.flags.includes('fortify')) return 'fortify';
  return 'gnu';
}

/** The `redirect=NAME` flag of a section: the public function the headers redirect to these symbols. */
function redirectOf(section: CatalogSection): string | undefined {
  return section.flags.find((flag) => flag.startsWith('redirect='))?.slice('redirect='.length);
}

function generate(arch: Arch, group: Group): Generated {
  const sections = catalogSections();
  const decls = catalogDeclarations();
  const headers = [...new Set(sections.filter((s) => s.kind === 'header' && !s.flags.includes('undeclared'))
    .map((s) => INCLUDE_PATH[s.header!] ?? s.header!))];
  const lines = [
    `/* Generated by scripts/catalog/verify.ts for ${arch}, group ${group}. */`,
    group === 'nognu' ? '#define _DEFAULT_SOURCE 1' : '#define _GNU_SOURCE 1',
    ...[...BASE_INCLUDES, ...headers].map((h) => `#include <${h}>`),
    '',
  ];
  const result: Generated = { lines, prototypes: 0, unchecked: [], names: [], layouts: 0, typedefs: 0, typedefSizes: 0 };
  let counter = 0;

  // Types: layouts (only with _GNU_SOURCE, where the real headers define every catalog type) and typedefs.
  for (const section of sections.filter((s) => s.kind === 'types')) {
    for (const statement of splitStatements(section)) {
      if (statement.text.includes('{')) {
        if (group !== 'gnu') continue;
        // All assertions on one line, so that gcc reports them at the line where the definition starts.
        const assertions: string[] = [];
        const { types, enumerators } = definedTypes(statement.text);
        for (const spelling of types) {
          assertions.push(...layoutAssertions(spelling, decls.parseType(spelling), arch));
          result.layouts++;
        }
        for (const name of enumerators) {
          assertions.push(`_Static_assert(${name} == ${decls.lookupConstant(name)}, "${name} is not ${decls.lookupConstant(name)}");`);
        }
        lines.push(lineDirective(section, statement), assertions.join(' '));
      } else {
        const name = typedefName(statement.text);
        if (name && group === 'gnu') {
          lines.push(lineDirective(section, statement), `extern ${name} *__catalog_type_exists_${++counter}; /* ${name} must be a type of the real headers */`);
        }
        lines.push(lineDirective(section, statement), statement.text);
        if (name) result.typedefs++;
      }
    }
  }

  // Every typedef name the catalog uses (the parser's built-in ones like size_t and off_t included): the size,
  // and for integers the signedness, shimulator gives it must be the real one.
  if (group === 'gnu') {
    const used = new Set(sections.flatMap((s) => splitStatements(s)).flatMap((st) => st.text.match(/\b[A-Za-z_]\w*\b/g) ?? []));
    const assertions: string[] = [];
    for (const name of [...used].sort()) {
      const type = decls.lookupTypedef(name)?.type;
      if (!type || type.kind === 'void' || type.kind === 'function') continue;
      // va_list is an array on amd64 (24 bytes); the catalog only has it as a parameter, where it decays to the
      // pointer the parser makes it.
      if (name === 'va_list') continue;
      let size: number;
      try {
        size = sizeOf(type, arch);
      } catch {
        continue; // incomplete (FILE, DIR, pcap_t)
      }
      assertions.push(`_Static_assert(sizeof(${name}) == ${size}, "${name}: sizeof is not ${size} on ${arch}");`);
      if (type.kind === 'int' && type.name !== 'char') {
        const signed = !type.name.startsWith('unsigned') && type.name !== '_Bool';
        assertions.push(`_Static_assert(((${name})-1 < 1) == ${signed ? 1 : 0}, "${name} must be ${signed ? 'signed' : 'unsigned'}");`);
      }
      result.typedefSizes++;
    }
    lines.push('#line 1 "(catalog verifier: typedef sizes)"', ...assertions);
  }

  // Prototypes of this group: the real headers declare the function, then the catalog's redeclaration.
  //   builtin:    the reference is gcc's own built-in declaration (-Wbuiltin-declaration-mismatch, an error here);
  //   isoc99:     the headers declare `sscanf` redirected to `__isoc99_sscanf`: the types must be the same;
  //   redirect=F: likewise, the headers declare F redirected to this function (longjmp → __longjmp_chk);
  //   undeclared: no header declares it (ABI entry points): only checked against the fixtures' symbols.
  const mine = sections.filter((s) => s.kind === 'header' && groupOf(s) === group);
  const statements = mine.flatMap((section) => splitStatements(section).map((statement) => ({ section, statement })));
  const names = statements.map(({ statement }) => decls.parsePrototype(statement.text).name);
  lines.push('', '#line 1 "(catalog verifier)"', ...names.map((name) => `#undef ${name}`));
  statements.forEach(({ section, statement }, i) => {
    if (['builtin', 'isoc99', 'undeclared'].some((flag) => section.flags.includes(flag)) || redirectOf(section)) return;
    lines.push(lineDirective(section, statement));
    lines.push(`typedef __typeof__(${names[i]}) __catalog_declared_${i}; /* declared by <${section.header}> */`);
  });
  statements.forEach(({ section, statement }, i) => {
    lines.push(lineDirective(section, statement), statement.text);
    if (section.flags.includes('undeclared')) result.unchecked.push(names[i]);
    const publicName = section.flags.includes('isoc99') ? names[i].replace(/^__isoc99_/, '') : redirectOf(section);
    if (publicName) {
      lines.push(lineDirective(section, statement), `_Static_assert(__builtin_types_compatible_p(__typeof__(${names[i]}), __typeof__(${publicName})), "${names[i]} must have the type of ${publicName}");`);
    }
  });
  result.prototypes = statements.length;
  result.names = names;
  return result;
}

function compile(arch: Arch, group: Group, dir: string): void {
  const generated = generate(arch, group);
  const file = join(dir, `catalog-${arch}-${group}.c`);
  writeFileSync(file, `${generated.lines.join('\n')}\n`);
  const args = [GCC_FLAGS[arch], '-std=gnu11', '-fsyntax-only', '-Wall', '-Wextra', '-Werror', '-fmax-errors=0',
    // Deprecated functions are still exported and called; array-vs-pointer parameter spelling is style, not type.
    '-Wno-deprecated-declarations', '-Wno-array-parameter', '-Wno-vla-parameter', ...GROUP_FLAGS[group], file];
  const run = spawnSync('gcc', args, { encoding: 'utf8' });
  if (run.error) throw run.error;
  const unchecked = generated.unchecked.length ? ` (${generated.unchecked.length} declared by no header: ${generated.unchecked.join(', ')})` : '';
  const what = `${generated.prototypes} prototypes${unchecked}, ${generated.layouts} type layouts, ${generated.typedefs} typedefs, ${generated.typedefSizes} typedef sizes`;
  const command = `gcc ${args.slice(0, -1).join(' ')} ${keep ? file : `catalog-${arch}-${group}.c`}`;
  if (run.status === 0) {
    console.log(`headers ${arch} (${group}): ${what}: OK  [${command}]`);
    checkSymbolNames(arch, group, generated, file, args);
  } else {
    fail(`headers ${arch} (${group}): ${what}: gcc rejected the catalog  [${command}]`);
    process.stderr.write(run.stderr);
  }
}

/**
 * (c) The symbol a C program really references when it calls each function: the headers may rename a function
 * with an asm label (`sscanf` → `__isoc99_sscanf`). Compile `&name` for every prototype to assembly and read
 * the symbol back; a renamed function passes only if the catalog also has the symbol it is renamed to (the
 * one the ABI checker will see called).
 */
function checkSymbolNames(arch: Arch, group: Group, generated: Generated, file: string, args: string[]): void {
  const refs = generated.names.map((name, i) => `void *const __catalog_ref_${i} = (void *)&${name};`);
  const asmSource = `${file.replace(/\.c$/, '')}-refs.c`;
  writeFileSync(asmSource, `${generated.lines.join('\n')}\n#line 1 "(catalog verifier)"\n${refs.join('\n')}\n`);
  const asmArgs = [...args.filter((a) => a !== '-fsyntax-only' && a !== file), '-w', '-S', '-o', '-', asmSource];
  const run = spawnSync('gcc', asmArgs, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.error) throw run.error;
  if (run.status !== 0) {
    fail(`symbols ${arch} (${group}): gcc -S failed`);
    process.stderr.write(run.stderr);
    return;
  }
  const referenced = new Map<number, string>();
  const pattern = /^__catalog_ref_(\d+):\s*\n\s*\.(?:quad|long)\s+(\S+)/gm;
  for (const match of run.stdout.matchAll(pattern)) referenced.set(Number(match[1]), match[2]);
  const renamed: string[] = [];
  generated.names.forEach((name, i) => {
    const symbol = referenced.get(i);
    if (symbol === undefined) fail(`symbols ${arch} (${group}): cannot find the symbol gcc references for ${name}`);
    else if (symbol !== name) {
      renamed.push(`${name} → ${symbol}`);
      if (!lookupPrototype(symbol)) fail(`${arch}: the headers rename ${name} to ${symbol}, which the catalog lacks`);
    }
  });
  const note = renamed.length ? `; renamed by the headers (targets in the catalog): ${renamed.join(', ')}` : '';
  console.log(`symbols ${arch} (${group}): ${generated.names.length} functions referenced under their own name${renamed.length ? ` or a catalogued one` : ''}${note}`);
}

checkSymbols();
const dir = mkdtempSync(join(tmpdir(), 'shimulator-catalog-'));
try {
  for (const arch of ARCHES) for (const group of GROUPS) compile(arch, group, dir);
} finally {
  if (keep) console.log(`generated C files kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
if (failures) {
  console.error(`catalog verification FAILED (${failures} problem${failures === 1 ? '' : 's'})`);
  process.exit(1);
}
console.log(`catalog verification passed: ${catalog().length} prototypes`);
