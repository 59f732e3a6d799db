/**
 * Fuzzing the ELF reader: seeded mutations of real objects (the host's glibc and ld.so, the bundled libpcap, a
 * small library compiled here for both arches), aimed at one structure at a time. Whatever the damage, parseElf
 * and the reads after it end in an ElfError or a result, never another exception; and damage to what ld.so never
 * reads (section headers, notes) is never a reason to refuse the file. Of the mutated objects the host's own
 * glibc loads, the reader refuses only a few, and only for what ld.so uses (a PT_LOAD past the end of the file,
 * which ld.so maps and the first touch turns into SIGBUS; dynamic tables pointing outside the file).
 * `npm run fuzz` runs more rounds.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Arch } from '../src/emu/arch.ts';
import { ElfError, type ElfFile, parseElf } from '../src/loader/elf.ts';
import { findFixture, loadFixture } from '../src/loader/fixtures.ts';
import {
  IGNORED_BY_LDSO, Random, TARGETS, canCompile, compileSmallLibrary, fuzzRounds, fuzzSeed, mutate,
} from './fuzz/elf-mutations.ts';

/** Mutations per (file, target) in `npm test`; the big files get fewer, their parse alone takes milliseconds. */
const QUICK_ROUNDS_SMALL = 12;
const QUICK_ROUNDS_LARGE = 3;
/** Mutations per target of the small library that the host's own glibc also tries to load. */
const QUICK_HOST_ROUNDS = 15;
/** Of the mutated objects the host loads, the share the reader may refuse (it was 38 % before it was lenient). */
const HOST_LOADED_REFUSED_SHARE = 0.1;
/** Words in an ElfError that name metadata ld.so never reads: never a reason to refuse a file. */
const IGNORED_METADATA = /section|note|e_entry|e_shoff|PT_INTERP|p_align|DT_SYMENT|DT_STRSZ/;
/** Files above this size count as large. */
const LARGE_FILE_BYTES = 512 * 1024;

const dir = mkdtempSync(join(tmpdir(), 'shimulator-elf-fuzz-'));
const originals: { name: string; bytes: Uint8Array }[] = [];

beforeAll(() => {
  for (const path of ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2', '/usr/lib32/ld-linux.so.2']) {
    if (existsSync(path)) originals.push({ name: path, bytes: new Uint8Array(readFileSync(path)) });
  }
  for (const arch of ['amd64', 'i386'] as Arch[]) {
    const pcap = findFixture(arch, 'libpcap.so.0.8');
    if (pcap) originals.push({ name: `bundled ${arch} libpcap`, bytes: loadFixture(pcap) });
    if (canCompile(arch)) originals.push({ name: `small ${arch} library`, bytes: compileSmallLibrary(dir, arch) });
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Everything a caller may read after parsing: lazily built tables included. */
function exercise(elf: ElfFile): void {
  void elf.symtab;
  void elf.buildId;
  void elf.gnuProperties;
  for (const symbol of elf.dynsym.slice(0, 40)) {
    elf.lookup(symbol.name);
    elf.nearestSymbol(symbol.value);
    elf.vaddrToOffset(symbol.value);
  }
}

describe('the ELF reader on mutated objects', () => {
  it('has objects to mutate: the host glibc, the bundled libpcap and a small library compiled here', () => {
    expect(originals.length).toBeGreaterThanOrEqual(3);
  });

  it('throws nothing but an ElfError naming the file, whatever structure is damaged', () => {
    const random = new Random(fuzzSeed());
    const outcomes = { parsed: 0, refused: 0 };
    for (const original of originals) {
      const rounds = fuzzRounds(original.bytes.length > LARGE_FILE_BYTES ? QUICK_ROUNDS_LARGE : QUICK_ROUNDS_SMALL);
      for (const target of TARGETS) {
        for (let round = 0; round < rounds; round++) {
          const mutation = mutate(original.bytes, target, random);
          const name = `fuzzed.so`;
          try {
            exercise(parseElf(mutation.bytes, name));
            outcomes.parsed++;
          } catch (error) {
            const context = `${original.name}, ${mutation.description}`;
            if (!(error instanceof ElfError)) throw new Error(`${context}: ${String(error)}`, { cause: error });
            expect(error.message.startsWith(`${name}: `), context).toBe(true);
            expect(IGNORED_BY_LDSO, `${context}: refused for what ld.so ignores: ${error.message}`).not.toContain(target);
            outcomes.refused++;
          }
        }
      }
    }
    expect(outcomes.parsed).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});

/**
 * A native program that dlopens each file named on its command line in a child process (a damaged object may
 * crash ld.so) and prints `path status`: 0 when dlopen succeeded.
 */
const HOST_LOADER_SOURCE = `
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>
int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    pid_t pid = fork();
    if (pid == 0) { alarm(5); _exit(dlopen(argv[i], RTLD_NOW | RTLD_LOCAL) ? 0 : 1); }
    int status;
    waitpid(pid, &status, 0);
    printf("%s %d\\n", argv[i], WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return 0;
}
`;

/** Which of `paths` the host's glibc loads (x86-64 only: the test runs on an amd64 host). */
function hostLoads(paths: string[]): Set<string> {
  const loader = join(dir, 'host-loader');
  writeFileSync(`${loader}.c`, HOST_LOADER_SOURCE);
  execFileSync('gcc', ['-o', loader, `${loader}.c`, '-ldl']);
  const out = execFileSync(loader, paths, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 24 });
  const loaded = out.trim().split('\n').map((line) => line.split(' ')).filter(([, status]) => status === '0');
  return new Set(loaded.map(([path]) => path!));
}

describe("the ELF reader against the host's glibc", () => {
  it('refuses few of the mutated objects the host loads, and none for what ld.so ignores', () => {
    const library = compileSmallLibrary(dir, 'amd64');
    const random = new Random(fuzzSeed());
    const mutations = TARGETS.flatMap((target) =>
      Array.from({ length: fuzzRounds(QUICK_HOST_ROUNDS) }, (_, i) => {
        const mutation = mutate(library, target, random);
        const path = join(dir, `host-${target}-${i}.so`);
        writeFileSync(path, mutation.bytes);
        return { path, mutation };
      }),
    );
    const loaded = hostLoads(mutations.map((m) => m.path));
    expect(loaded.size).toBeGreaterThan(0);
    let refused = 0;
    for (const { path, mutation } of mutations.filter((m) => loaded.has(m.path))) {
      try {
        parseElf(mutation.bytes, path);
      } catch (error) {
        expect(error).toBeInstanceOf(ElfError);
        expect((error as ElfError).detail, `${mutation.description}: the host loads it`).not.toMatch(IGNORED_METADATA);
        refused++;
      }
    }
    expect(refused / loaded.size).toBeLessThanOrEqual(HOST_LOADED_REFUSED_SHARE);
  });
});
