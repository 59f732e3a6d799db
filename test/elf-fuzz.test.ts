/**
 * Fuzzing the ELF reader: seeded mutations of real objects (the host's glibc and ld.so, the bundled libpcap, a
 * small library compiled here for both arches), aimed at one structure at a time. Whatever the damage, parseElf
 * and the reads after it end in an ElfError or a result, never another exception; and damage to what ld.so never
 * reads (section headers, notes) is never a reason to refuse the file. `npm run fuzz` runs more rounds.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
