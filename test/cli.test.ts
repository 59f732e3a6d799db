/**
 * The `shimulator call` contract, run as a user runs it: `node bin/shimulator.cjs …` in a child process.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distIsFresh } from '../scripts/build-state.cjs';
import { ARCHES } from '../src/emu/arch.ts';
import { type Run, shimulatorCli, spawnAsync } from './support/spawn.ts';

const ROOT = join(import.meta.dirname, '..');
const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const PCAP_COMPILE = 'int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *str, int optimize, bpf_u_int32 netmask)';

function shimulator(...args: string[]): Promise<Run> {
  return shimulatorCli(...args);
}

function json(run: Run): Record<string, unknown> {
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout);
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shim-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(ARCHES)('shimulator call --arch %s', (arch) => {
  it('snprintf("%f %d %s %Lf") → 23 and the formatted text', async () => {
    const r = json(await shimulator('call', '--arch', arch, '--json', SNPRINTF, 'out:64', '64', '%f %d %s %Lf', 'double:1.0', 'int:42', 'str:ok', 'longdouble:2.5'));
    expect(r).toMatchObject({ id: null, arch, function: 'snprintf', return: 23, errno: 0, out: { 0: '1.000000 42 ok 2.500000' } });
    expect(r.instructions).toBeGreaterThan(0);
  });

  it('pcap_lib_version with --lib libpcap.so.0.8', async () => {
    const r = json(await shimulator('call', '--arch', arch, '--json', '--lib', 'libpcap.so.0.8', 'const char *pcap_lib_version(void)'));
    expect(r.string).toBe('libpcap version 1.10.3 (with TPACKET_V3)');
  });

  it('open of a missing file → -1, errno 2', async () => {
    const r = json(await shimulator('call', '--arch', arch, '--json', 'int open(const char *path, int flags, ...)', '/nonexistent/file', '0'));
    expect(r).toMatchObject({ return: -1, errno: 2 });
  });

  it('a batch on one machine: pcap_open_dead, pcap_compile (ret:p), a syntax error, pcap_geterr', async () => {
    const batch = join(dir, `pcap-${arch}.jsonl`);
    writeFileSync(
      batch,
      [
        { id: 'p', proto: 'pcap_t *pcap_open_dead(int linktype, int snaplen)', args: ['1', '65535'] },
        { id: 'ok', proto: PCAP_COMPILE, args: ['ret:p', 'out:16', 'tcp port 80', '1', '0'] },
        { id: 'bad', proto: PCAP_COMPILE, args: ['ret:p', 'out:16', 'tcp port 80 and', '1', '0'] },
        { id: 'err', proto: 'char *pcap_geterr(pcap_t *p)', args: ['ret:p'] },
      ].map((line) => JSON.stringify(line)).join('\n'),
    );
    const run = await shimulator('call', '--arch', arch, '--lib', 'libpcap.so.0.8', '--batch', batch);
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(['p', 'ok', 'bad', 'err']);
    expect(lines[1]).toMatchObject({ return: 0 });
    const program = Buffer.from(lines[1].out['1'], 'hex');
    expect(program.readUInt32LE(0)).toBe(20); // bf_len: the same as native libpcap (see native.test.ts)
    expect(lines[2]).toMatchObject({ return: -1 });
    expect(lines[3].string).toBe("can't parse filter expression: syntax error");
  });

  it('reports the same instruction count on every run', async () => {
    const a = json(await shimulator('call', '--arch', arch, '--json', SNPRINTF, 'out:32', '32', '%f', 'double:2.5'));
    const b = json(await shimulator('call', '--arch', arch, '--json', SNPRINTF, 'out:32', '32', '%f', 'double:2.5'));
    expect(a.instructions).toBe(b.instructions);
  });

  it('reports what the guest printed', async () => {
    const r = json(await shimulator('call', '--arch', arch, '--json', 'int printf(const char *fmt, ...)', 'pi=%.3f|', 'double:3.14159'));
    expect(r).toMatchObject({ return: 9, errno: 0, stdout: 'pi=3.142|' });
  });

  it('takes negative numbers after the prototype, with or without a "--" separator', async () => {
    expect(json(await shimulator('call', '--arch', arch, '--json', 'int abs(int)', '-7')).return).toBe(7);
    expect(json(await shimulator('call', '--arch', arch, '--json', 'int abs(int)', '--', '-8')).return).toBe(8);
    expect(json(await shimulator('call', '--arch', arch, '--json', '--', 'int abs(int)', '-9')).return).toBe(9);
  });

  it('--spec prints the call plan without booting', async () => {
    const run = await shimulator('call', '--arch', arch, '--spec', SNPRINTF, 'out:64', '64', '%f', 'double:1.5');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(arch === 'amd64' ? /xmm0/ : /stack/);
  });
});

describe('instrumentation from the command line', () => {
  const abi = (arch: string, lib: string) => new URL(`../fixtures/abi/libabi-${lib}-${arch}.so`, import.meta.url).pathname;
  const SHIM = 'int shim_snprintf_al0(char *buf, unsigned long n, const char *fmt, double x)';

  it('--check reports a shim calling snprintf("%f") with %al = 0 (amd64), with the rule ids in the JSON', async () => {
    const r = json(await shimulator('call', '--json', '--check', '--lib', abi('amd64', 'targets'), '--lib', abi('amd64', 'shims'), SHIM, 'out:64', '64', '%f', '1.5'));
    const report = r.abi as { ok: boolean; violations: { rule: string; function: string; caller: string }[] };
    expect(report.ok).toBe(false);
    expect(report.violations.map((v) => v.rule)).toEqual(['varargs-al']);
    expect(report.violations[0]).toMatchObject({ function: 'snprintf', caller: expect.stringMatching(/^shim_snprintf_al0\+0x/) });
  });

  it('--calls shows each cross-object call with decoded arguments, marking broken rules (i386 shim_abs_fstp)', async () => {
    const r = json(await shimulator('call', '--arch', 'i386', '--json', '--check', '--calls', '--lib', abi('i386', 'targets'), '--lib', abi('i386', 'shims'), 'int shim_abs_fstp(int x)', '--', '-5'));
    expect(r.calls).toEqual(['shim_abs_fstp(-5) …', '  abs(-5) = 5   ✗ x87-empty-pop', '… shim_abs_fstp resumed = 5']);
    const text = await shimulator('call', '--calls', SNPRINTF, 'out:64', '64', '%s %d', 'str:hello', 'int:3');
    expect(text.stdout).toContain('  calls:\n    snprintf("", 64, "%s %d", "hello", 3) = 7');
  });

  it('--check on a clean call gives ok and an empty list', async () => {
    const r = json(await shimulator('call', '--json', '--check', SNPRINTF, 'out:64', '64', '%f', 'double:1.5'));
    expect(r.abi).toEqual({ ok: true, violations: [] });
  });

  it.each(ARCHES)('--tls shows the stack guard and errno on %s', async (arch) => {
    const r = json(await shimulator('call', '--arch', arch, '--json', '--tls', 'int open(const char *path, int flags, ...)', '/nope', '0'));
    const tls = r.tls as { layout: { segment: string; selector?: number }; accesses: { access: string; name: string; segmentOffset: string }[] };
    expect(tls.layout.segment).toBe(arch === 'amd64' ? 'fs' : 'gs');
    if (arch === 'i386') expect(tls.layout.selector).toBe(0x63);
    expect(tls.accesses).toContainEqual(expect.objectContaining({ access: 'write', name: 'errno' }));
  });

  it.each(ARCHES)('--trace writes a trace that `shimulator trace` prints, byte-identical on every run (%s)', async (arch) => {
    const files = [1, 2].map((i) => join(dir, `snprintf-${arch}-${i}.trace`));
    for (const file of files) json(await shimulator('call', '--arch', arch, '--json', '--trace', file, SNPRINTF, 'out:64', '64', '%f', 'double:1.5'));
    const [a, b] = files.map((f) => readFileSync(f));
    expect(a!.equals(b!)).toBe(true);
    const printed = await shimulator('trace', files[0]!, '--limit', '5');
    expect(printed.status).toBe(0);
    expect(printed.stdout).toMatch(arch === 'amd64' ? /push rbp/ : /push ebp/);
    const corrupt = join(dir, 'corrupt.trace');
    writeFileSync(corrupt, 'not a trace');
    const bad = await shimulator('trace', corrupt);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^shimulator: /);
  });
});

describe('limits on the command line', () => {
  it('--memory-limit: a mapping beyond it is ENOMEM for the guest; --output-limit stops a call that writes more', async () => {
    const malloc = json(await shimulator('call', '--json', '--memory-limit', '64M', 'void *malloc(unsigned long n)', '200000000'));
    expect(malloc).toMatchObject({ return: 0, errno: 12 });
    const flood = await shimulator('call', '--output-limit', '10', 'int puts(const char *s)', 'more than ten bytes of output');
    expect(flood.status).toBe(1);
    expect(flood.stderr).toMatch(/more than 10 bytes to stdout and stderr \(the output limit\)/);
    const bad = await shimulator('call', '--memory-limit', '12X', 'int abs(int)', '1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--memory-limit takes a size like 512M or 2G, got "12X"/);
  });
});

describe('--threads', () => {
  it.each(ARCHES)('runs snprintf on 8 fakecgo-style threads (%s): each correct, own tid and TLS base, the same schedule every run', async (arch) => {
    const run = async () => json(await shimulator('call', '--arch', arch, '--json', '--threads', '8', SNPRINTF, 'out:64', '64', '%f %d', 'double:1.5', 'int:42'));
    const [a, b] = [await run(), await run()];
    const threads = a.threads as { tid: number; tlsBase: number; return: number; errno: number; out: Record<string, string>; instructions: number }[];
    expect(threads).toHaveLength(8);
    expect(new Set(threads.map((t) => t.tid)).size).toBe(8);
    expect(new Set(threads.map((t) => t.tlsBase)).size).toBe(8);
    for (const t of threads) expect(t).toMatchObject({ return: 11, errno: 0, out: { 0: '1.500000 42' } });
    expect(a.schedule).toMatch(/^\d+:[0-9a-f]{16}$/);
    expect(b.schedule).toBe(a.schedule);
    expect((b.threads as typeof threads).map((t) => t.instructions)).toEqual(threads.map((t) => t.instructions));
  });

  it('reports errno per thread', async () => {
    const r = json(await shimulator('call', '--json', '--threads', '4', 'int open(const char *path, int flags, ...)', '/nonexistent/file', '0'));
    expect((r.threads as { return: number; errno: number }[]).map((t) => [t.return, t.errno])).toEqual([[-1, 2], [-1, 2], [-1, 2], [-1, 2]]);
  });
});

describe('--spec with struct declarations', () => {
  it('plans struct pair f(double, int, struct big) on both architectures', async () => {
    const decls = join(dir, 'spec.h');
    writeFileSync(decls, 'struct pair { double x; long n; };\nstruct big { double a, b, c; int tag; };\n');
    const amd64 = await shimulator('call', '--decls', decls, '--spec', 'struct pair f(double, int, struct big)');
    expect(amd64.status).toBe(0);
    expect(amd64.stdout).toMatch(/arg 1 +double +→ xmm0/);
    expect(amd64.stdout).toMatch(/arg 2 +int +→ rdi/);
    expect(amd64.stdout).toMatch(/arg 3 +struct big +→ stack\+0 .*MEMORY/);
    expect(amd64.stdout).toMatch(/return +struct pair +→ xmm0 \(bytes 0–7\) \+ rax \(bytes 8–15\)/);
    const i386 = await shimulator('call', '--arch', 'i386', '--decls', decls, '--spec', 'struct pair f(double, int, struct big)');
    expect(i386.status).toBe(0);
    expect(i386.stdout).toMatch(/arg 1 +double +→ stack\+4/);
    expect(i386.stdout).toMatch(/arg 3 +struct big +→ stack\+16/);
    expect(i386.stdout).toMatch(/hidden return pointer in stack\+0/);
    expect(i386.stdout).toMatch(/callee pops 4 bytes \(ret \$4\)/);
  });

  it('passes and returns structs by value with {…} tokens', async () => {
    const header = join(dir, 'pt.h');
    writeFileSync(header, 'struct pt { int x; int y; char tag[6]; };\n');
    writeFileSync(join(dir, 'pt.c'), '#include "pt.h"\nstruct pt flip(struct pt p, int d) { struct pt q = { p.y + d, p.x, "ok" }; return q; }\n');
    for (const [arch, flag] of [['amd64', '-m64'], ['i386', '-m32']] as const) {
      const so = join(dir, `pt-${arch}.so`);
      execFileSync('gcc', [flag, '-shared', '-fPIC', '-o', so, join(dir, 'pt.c')]);
      const r = json(await shimulator('call', '--arch', arch, '--json', '--lib', so, '--decls', header, 'struct pt flip(struct pt p, int d)', '{3, 4, "ab"}', '10'));
      expect(r.return).toEqual({ x: 14, y: 3, tag: [111, 107, 0, 0, 0, 0] });
    }
  });
});

describe('bad input: one clear message, non-zero exit', () => {
  let f32 = '';
  beforeAll(() => {
    writeFileSync(join(dir, 'f.c'), 'int f(void) { return 7; }\n');
    f32 = join(dir, 'f32.so');
    execFileSync('gcc', ['-m32', '-shared', '-fPIC', '-o', f32, join(dir, 'f.c')]);
    writeFileSync(join(dir, 'not-elf.so'), 'this is not an ELF file\n');
  });

  const cases: [string, () => string[], RegExp][] = [
    ['unknown symbol', () => ['int no_such_function(int)', '1'], /symbol no_such_function not found/],
    ['malformed prototype', () => ['int f(int x', '1'], /expected "," or "\)"/],
    ['wrong argument count', () => ['int abs(int)', '1', '2'], /abs takes 1 argument\(s\), got 2/],
    ['bad token', () => ['int abs(int)', 'banana'], /expected an integer/],
    ['untyped variadic argument', () => [SNPRINTF, 'out:8', '8', '%d', '5'], /variadic and needs a type prefix/],
    ['non-ELF library', () => ['--lib', join(dir, 'not-elf.so'), 'int f(void)'], /not an ELF file/],
    ['wrong-architecture library', () => ['--lib', f32, 'int f(void)'], /is an i386 object, but the process is amd64/],
    ['unknown library', () => ['--lib', 'libnope.so.1', 'int f(void)'], /unknown library "libnope\.so\.1"/],
    ['guest fault', () => ['void *memcpy(void *d, const void *s, unsigned long n)', '16', '32', '64'], /guest fault at pc 0x[0-9a-f]+ in .*libc\.so\.6.*invalid memory read .* at 0x20\n {2}registers: rip=/],
    ['instruction budget', () => ['--budget', '100', SNPRINTF, 'out:64', '64', '%f', 'double:1.5'], /ran more than its budget of 100 instructions/],
    ['unknown option', () => ['--frobnicate', 'int abs(int)', '1'], /unknown option --frobnicate/],
    ['--batch of a directory', () => ['--batch', dir], /--batch .*: it is a directory, not a file/],
    ['--batch of a missing file', () => ['--batch', join(dir, 'nope.jsonl')], /--batch .*nope\.jsonl: no such file or directory/],
    ['--decls of a missing file', () => ['--decls', join(dir, 'nope.h'), 'int abs(int)', '1'], /--decls .*nope\.h: no such file or directory/],
    ['--lib of a directory', () => ['--lib', dir, 'int f(void)'], /library ".*" is not a file \(a directory\?\)/],
    ['--trace into a missing directory', () => ['--trace', join(dir, 'no-dir', 't.trace'), 'int abs(int)', '1'], /--trace .*t\.trace: cannot write it: no such file or directory/],
    ['--trace onto a directory', () => ['--trace', dir, 'int abs(int)', '1'], /--trace .*: cannot write it: it is a directory/],
    ['a declaration nested 2,000 deep', () => [`int f(int ${'('.repeat(2000)}x${')'.repeat(2000)})`, '1'], /nests deeper than the parser's limit of 256 levels/],
  ];
  it.each(cases)('%s', async (_name, args, message) => {
    const run = await shimulator('call', ...args());
    expect(run.status).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(message);
    // One message (a guest fault adds a line of registers; a usage error adds the usage text).
    if (!/unknown option/.test(run.stderr)) expect(run.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    expect(run.stderr).not.toMatch(/^\s+at /m); // no stack trace
  });

  it('a non-UTF-8 argument is refused, naming it (not silently changed)', async () => {
    const r = await spawnAsync('bash', ['-c', `"${process.execPath}" bin/shimulator.cjs call 'int puts(const char *s)' "$(printf 'a\\xff')"`]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^shimulator: argument 3 \(.*\) is not valid UTF-8/);
  });

  it('bad batch lines fail one by one ({id, arch, error}); the others run; exit status 1', async () => {
    const batch = join(dir, 'mixed.jsonl');
    writeFileSync(batch, [
      '{"id": "a", "proto": "int abs(int)", "args": ["-4"]}',
      'garbage',
      '{"id": "c", "proto": 5}',
      '{"proto": "int abs(int)", "args": ["-9"]}',
    ].join('\n'));
    const run = await shimulator('call', '--batch', batch);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toMatchObject([
      { id: 'a', return: 4 },
      { id: '2', arch: 'amd64', error: expect.stringMatching(/mixed\.jsonl:2: not a JSON object/) },
      { id: 'c', arch: 'amd64', error: expect.stringMatching(/mixed\.jsonl:3: expected \{"id"/) },
      { id: '4', return: 9 },
    ]);
  });

  it('after a batch line ends the guest (exit), the later lines say so', async () => {
    const batch = join(dir, 'exit.jsonl');
    writeFileSync(batch, [
      '{"id": "x", "proto": "void exit(int status)", "args": ["3"]}',
      '{"id": "y", "proto": "int abs(int)", "args": ["-1"]}',
    ].join('\n'));
    const lines = (await shimulator('call', '--batch', batch)).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0].error).toMatch(/called exit\(3\)/);
    expect(lines[1].error).toMatch(/exited \(exit\(3\)\) during an earlier call/);
  });

  it('a host library of the right architecture is mounted and callable', async () => {
    const r = json(await shimulator('call', '--arch', 'i386', '--json', '--lib', f32, 'int f(void)'));
    expect(r.return).toBe(7);
  });
});

describe("the command's V8 code cache (src/cli/launch.ts)", () => {
  const call = (...options: string[]) => shimulator('call', ...options, '--json', SNPRINTF, 'out:64', '64', '%f %d', 'double:1.5', 'int:7');
  const expected = { function: 'snprintf', return: 10, out: { 0: '1.500000 7' } };

  it('is written under --cache-dir after a call, used by the next, and rewritten when corrupt', async () => {
    expect(distIsFresh(ROOT), 'dist/ is stale: run `npm run build` (the code cache is the compiled command\'s)').toBe(true);
    const cache = join(dir, 'code-cache');
    expect(json(await call('--cache-dir', cache))).toMatchObject(expected);
    const files = readdirSync(join(cache, 'code'));
    expect(files).toEqual([expect.stringMatching(/^cli-call-[0-9a-f]{16}-node[\d.]+-\w+-[0-9a-f]{8}\.v8$/)]);
    const file = join(cache, 'code', files[0]!);
    const written = readFileSync(file);
    expect(json(await call('--cache-dir', cache))).toMatchObject(expected);
    expect(readFileSync(file).equals(written)).toBe(true); // accepted: not written again
    const corrupt = Buffer.from(written);
    corrupt[corrupt.length >> 1]! ^= 0xff;
    writeFileSync(file, corrupt);
    expect(json(await call('--cache-dir', cache))).toMatchObject(expected);
    expect(readFileSync(file).equals(corrupt)).toBe(false); // refused by its checksum, and written afresh
  });

  it('is neither read nor written with --no-cache', async () => {
    const cache = join(dir, 'no-code-cache');
    expect(json(await call('--no-cache'))).toMatchObject(expected);
    expect(json(await call('--cache-dir', cache, '--no-cache'))).toMatchObject(expected);
    expect(existsSync(cache)).toBe(false);
  });
});
