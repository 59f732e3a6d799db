/**
 * `shimulator run`: whole C programs, compiled here with gcc for both architectures (dynamic and static), run
 * from entry to exit and compared with the same binary run natively. The Go fixtures are in run-programs.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import { DEFAULT_ENVIRONMENT, runProgram } from '../src/run/program.ts';
import { type Run, shimulatorCli, spawnAsync } from './support/spawn.ts';

const ROOT = join(import.meta.dirname, '..');
const NATIVE_ENV = Object.entries(DEFAULT_ENVIRONMENT).map(([k, v]) => `${k}=${v}`);

const PROGRAM = String.raw`
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long total;
static void *work(void *p) {
  long n = (long)p, s = 0;
  for (long i = 0; i < n; i++) s += i;
  pthread_mutex_lock(&lock); total += s; pthread_mutex_unlock(&lock);
  return 0;
}
static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }
int main(int argc, char **argv) {
  printf("argc=%d", argc);
  for (int i = 1; i < argc; i++) printf(" [%s]", argv[i]);
  printf("\nHOME=%s PATH=%s\n", getenv("HOME"), getenv("PATH"));
  printf("%f %.3Lf %g\n", 1.5, 2.25L, strtod("6.02e23", 0));
  pthread_t t[4];
  for (long i = 0; i < 4; i++) pthread_create(&t[i], 0, work, (void *)(1000 * (i + 1)));
  for (int i = 0; i < 4; i++) pthread_join(t[i], 0);
  printf("threads total=%ld\n", total);
  int v[] = {5, 3, 9, 1};
  qsort(v, 4, sizeof v[0], cmp);
  printf("sorted %d %d %d %d\n", v[0], v[1], v[2], v[3]);
  char *m = malloc(1 << 20);
  strcpy(m, "heap ok");
  puts(m);
  fprintf(stderr, "to stderr\n");
  return 3;
}
`;

let dir = '';
const binaries: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shim-run-'));
  writeFileSync(join(dir, 'prog.c'), PROGRAM);
  for (const arch of ARCHES) {
    const flag = arch === 'amd64' ? '-m64' : '-m32';
    for (const link of ['dynamic', 'static'] as const) {
      const out = join(dir, `prog-${arch}-${link}`);
      execFileSync('gcc', [flag, '-O2', '-pthread', ...(link === 'static' ? ['-static'] : []), '-o', out, join(dir, 'prog.c')]);
      binaries[`${arch}-${link}`] = out;
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A small C program compiled for one architecture (unistd.h and stdio.h included). */
function compile(name: string, source: string, arch: Arch): string {
  const path = join(dir, `${name}-${arch}`);
  writeFileSync(`${path}.c`, `#include <unistd.h>\n#include <stdio.h>\n${source}\n`);
  execFileSync('gcc', [arch === 'amd64' ? '-m64' : '-m32', '-O1', '-pthread', '-o', path, `${path}.c`]);
  return path;
}

function native(binary: string, args: string[]): Promise<Run> {
  return spawnAsync('env', ['-i', ...NATIVE_ENV, binary, ...args]);
}

function cli(...args: string[]): Promise<Run> {
  return shimulatorCli('run', ...args);
}

describe.each(ARCHES.flatMap((arch) => (['dynamic', 'static'] as const).map((link) => [arch, link] as [Arch, string])))(
  'a %s %s C program',
  (arch, link) => {
    it('prints exactly what it prints natively and exits with the same status', async () => {
      const binary = binaries[`${arch}-${link}`]!;
      const expected = await native(binary, ['alpha', 'beta gamma']);
      const run = await cli(binary, 'alpha', 'beta gamma');
      expect(run.stdout).toBe(expected.stdout);
      expect(run.stderr).toBe(expected.stderr);
      expect(run.status).toBe(3);
      expect(expected.status).toBe(3);
    });

    it('runs deterministically: the same instructions and schedule twice, and a report that says so', async () => {
      const binary = binaries[`${arch}-${link}`]!;
      const a = await runProgram({ program: binary, args: ['x'] });
      const b = await runProgram({ program: binary, args: ['x'] });
      expect(a.exit).toBe(3);
      expect(a.arch).toBe(arch);
      expect(a.instructions).toBe(b.instructions);
      expect(a.schedule).toBe(b.schedule);
      expect(a.threads.length).toBe(5);
      expect(a.syscalls.clone).toBe(4);
      expect(a.unimplemented).toEqual([]);
      expect(a.error).toBeNull();
    });
  },
);

describe('shimulator run: reports and limits', () => {
  it('--report writes the JSON report; --env reaches the guest and nothing else of the host environment does', async () => {
    const report = join(dir, 'report.json');
    const run = await cli('--report', report, '--env', 'HOME=/home/guest', binaries['amd64-dynamic']!);
    expect(run.stdout).toContain('HOME=/home/guest PATH=/usr/bin:/bin');
    const r = JSON.parse(readFileSync(report, 'utf8'));
    expect(r).toMatchObject({ program: binaries['amd64-dynamic'], arch: 'amd64', exit: 3, signal: null, error: null });
    expect(r.argv).toEqual([binaries['amd64-dynamic']]);
    expect(r.instructions).toBeGreaterThan(10_000);
  });

  it('--mount shows a host directory read-only and --cwd makes it the working directory', async () => {
    const data = join(dir, 'data');
    execFileSync('mkdir', ['-p', data]);
    writeFileSync(join(data, 'greeting.txt'), 'hello from the host\n');
    const source = `#include <fcntl.h>
      int main(void) { char cwd[256], buf[64]; getcwd(cwd, sizeof cwd); int fd = open("greeting.txt", O_RDONLY);
        int n = read(fd, buf, sizeof buf - 1); buf[n > 0 ? n : 0] = 0; printf("cwd=%s text=%s", cwd, buf);
        printf("write=%d\\n", open("new.txt", O_CREAT | O_WRONLY, 0644)); return 0; }`;
    const run = await cli('--mount', `${data}:/data`, '--cwd', '/data', compile('cwd', source, 'i386'));
    expect(run.stdout).toBe('cwd=/data text=hello from the host\nwrite=-1\n');
    expect(run.status).toBe(0);
    const missing = await cli('--cwd', '/nowhere', binaries['amd64-dynamic']!);
    expect(missing.status).toBe(125);
    expect(missing.stderr).toMatch(/--cwd \/nowhere is not a directory the guest can see/);
  });

  it('a program that only sleeps stops at --time-limit of virtual time, naming each thread', async () => {
    const run = await cli('--time-limit', '30', compile('sleeper', 'int main(void){ for (;;) sleep(1); }', 'amd64'));
    expect(run.status).toBe(125);
    expect(run.stderr).toMatch(/time limit of 30 s of virtual time .*thread 1000 \(main\) blocked on sleep/);
  });

  it('a deadlock (two threads waiting for each other) is reported with each thread, exit 125', async () => {
    const source = `#include <pthread.h>
      static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
      static pthread_barrier_t both;
      static void *other(void *p) { pthread_mutex_lock(&b); pthread_barrier_wait(&both); pthread_mutex_lock(&a); return p; }
      int main(void) { pthread_t t; pthread_barrier_init(&both, 0, 2); pthread_create(&t, 0, other, 0);
        pthread_mutex_lock(&a); pthread_barrier_wait(&both); pthread_mutex_lock(&b); return 0; }`;
    const run = await cli(compile('deadlock', source, 'i386'));
    expect(run.status).toBe(125);
    expect(run.stderr).toMatch(/deadlock: no guest thread can run — thread 1000 \(main\) blocked on futex .*thread 1001/);
  });

  it('a busy loop stops at the wall-clock --timeout (exit 124, as timeout(1))', async () => {
    const run = await cli('--timeout', '1', compile('spin', 'int main(void){ volatile long n = 0; for (;;) n++; }', 'amd64'));
    expect(run.status).toBe(124);
    expect(run.stderr).toMatch(/the run took longer than its wall-clock timeout of 1 s/);
  });

  it('--trace records the whole run for `shimulator trace`; --trace-limit stops a longer run with the partial trace', async () => {
    const trace = join(dir, 'run.trace');
    const run = await cli('--trace', trace, binaries['i386-static']!);
    expect(run.status).toBe(3);
    const printed = await shimulatorCli('trace', trace, '--limit', '1');
    expect(printed.stdout).toMatch(/i386 {2}\d+ instructions .* system calls/);
    const limited = await cli('--trace', trace, '--trace-limit', '5000', binaries['i386-static']!);
    expect(limited.status).toBe(125);
    expect(limited.stderr).toMatch(/limit of 5000 instructions and the run was stopped there/);
    const partial = await shimulatorCli('trace', trace, '--limit', '1');
    expect(partial.stdout).toMatch(/ 5000 instructions /);
  });

  it('a budget that runs out stops the run with exit 125 and one message', async () => {
    const run = await cli('--budget', '5000', binaries['i386-dynamic']!);
    expect(run.status).toBe(125);
    expect(run.stderr).toMatch(/budget of 5000 instructions/);
  });
});

/** Loads libpcap (not a dependency of the program) at run time and calls into it through dlsym. */
const DLOPEN_PROGRAM = String.raw`
#include <dlfcn.h>
int main(void) {
  void *pcap = dlopen("libpcap.so.0.8", RTLD_NOW);
  if (!pcap) { puts(dlerror()); return 1; }
  const char *(*version)(void) = (const char *(*)(void))dlsym(pcap, "pcap_lib_version");
  printf("%.7s\n", version());
  return 0;
}
`;

describe.each(ARCHES)('--check on %s follows dlopen', (arch) => {
  it('watches a library loaded at run time (native and JavaScript counting report the same calls)', async () => {
    const binary = compile('dlopen', DLOPEN_PROGRAM, arch);
    const runs = await Promise.all((['native', 'js'] as const).map(async (counting) => {
      const lines: string[] = [];
      const report = await runProgram({ program: binary, check: true, counting, calls: (line) => lines.push(line) });
      return { report, lines };
    }));
    const [native, js] = runs;
    expect(native!.report.stdout).toBe('libpcap\n');
    expect(native!.lines.some((line) => line.includes('pcap_lib_version()'))).toBe(true);
    expect(native!.lines).toEqual(js!.lines);
    expect(native!.report.abi).toEqual(js!.report.abi);
    expect(native!.report.calls).toBe(js!.report.calls);
    expect(native!.report.instructions).toBe(js!.report.instructions);
  }, 240_000);
});

describe('shimulator run: bad programs get one clear message and exit 125', () => {
  it.each([
    ['a missing file', () => join(dir, 'missing'), /does not exist/],
    ['a directory', () => dir, /is a directory/],
    ['a text file', () => join(dir, 'prog.c'), /not an ELF executable/],
    ['an ARM64 program', () => armCopy(), /AArch64 \(ARM64\) program; shimulator runs x86 programs only/],
    ['a shared library', () => join(ROOT, 'fixtures/conformance/libconformance-amd64.so'), /not a program|shared library/],
  ])('%s', async (_what, path, message) => {
    const run = await cli(path());
    expect(run.status).toBe(125);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a wrong --arch', async () => {
    const run = await cli('--arch', 'i386', binaries['amd64-dynamic']!);
    expect(run.status).toBe(125);
    expect(run.stderr).toMatch(/is an amd64 program, but --arch says i386/);
  });
});

/** The amd64 program with its ELF machine field set to AArch64 (e_machine at offset 18). */
function armCopy(): string {
  const path = join(dir, 'arm64-program');
  copyFileSync(binaries['amd64-dynamic']!, path);
  const bytes = readFileSync(path);
  bytes.writeUInt16LE(0xb7, 18);
  writeFileSync(path, bytes);
  return path;
}
