import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pako from 'pako';
import { afterAll, describe, expect, it } from 'vitest';
import type { Arch } from '../src/emu/arch.ts';
import { COPY_SUFFIX, MIN_CACHED_BYTES, readUncompressedCopy, saveUncompressedCopy } from '../src/loader/fixture-cache.ts';
import {
  FixtureError,
  type FixtureEntry,
  findFixture,
  fixtureEntries,
  fixtureManifest,
  loadFixture,
} from '../src/loader/fixtures.ts';
import { bundledFunctions, debugSymbolEntries } from '../src/loader/debug-symbols.ts';
import { parseElf } from '../src/loader/elf.ts';

const BUNDLED_DIR = fileURLToPath(new URL('../fixtures/', import.meta.url));
const ARCHES: readonly Arch[] = ['amd64', 'i386'];
const LOADER_SONAME: Record<Arch, string> = { amd64: 'ld-linux-x86-64.so.2', i386: 'ld-linux.so.2' };
const LOADER_GUEST_PATH: Record<Arch, string> = {
  amd64: '/lib64/ld-linux-x86-64.so.2',
  i386: '/lib/ld-linux.so.2',
};
const LIBRARY_DIR: Record<Arch, string> = { amd64: '/lib/x86_64-linux-gnu', i386: '/lib/i386-linux-gnu' };
const REQUIRED_NAMES = ['libc.so.6', 'libpcap.so.0.8', 'libdbus-1.so.3', 'shimulator-stub'];
const LIBC_VERSION_STRING = 'GNU C Library (Debian GLIBC 2.36-9+deb12u14)';

/** ELF header: magic at 0, EI_CLASS at 4, EI_DATA at 5, e_machine (u16) at 18. */
const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];
const EI_CLASS = 4;
const EI_DATA = 5;
const E_MACHINE_OFFSET = 18;
const ELFDATA2LSB = 1;
const EXPECTED_CLASS: Record<Arch, number> = { i386: 1, amd64: 2 };
const EXPECTED_MACHINE: Record<Arch, number> = { i386: 3, amd64: 62 };

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A writable copy of fixtures/ holding the manifest and only the given entry's file (a fixture or a symbol table). */
function copyFixturesWith(entry: Pick<FixtureEntry, 'file'>): string {
  const dir = mkdtempSync(join(tmpdir(), 'shimulator-fixtures-'));
  tempDirs.push(dir);
  mkdirSync(dirname(join(dir, entry.file)), { recursive: true });
  copyFileSync(join(BUNDLED_DIR, 'manifest.json'), join(dir, 'manifest.json'));
  copyFileSync(join(BUNDLED_DIR, entry.file), join(dir, entry.file));
  return dir;
}

function expectFixtureError(action: () => unknown, ...fragments: string[]): FixtureError {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(FixtureError);
  const error = caught as FixtureError;
  expect(error.message).toContain('npm run fixtures');
  for (const fragment of fragments) expect(error.message).toContain(fragment);
  return error;
}

function smallestEntry(arch: Arch): FixtureEntry {
  return [...fixtureEntries(arch)].sort((a, b) => a.size - b.size)[0]!;
}

describe('fixture manifest', () => {
  it('is sorted by arch then name', () => {
    const keys = fixtureManifest().map((entry) => `${entry.arch}/${entry.name}`);
    expect(keys).toEqual([...keys].sort());
  });

  for (const arch of ARCHES) {
    it(`lists the loader, libc, libpcap, libdbus and the stub for ${arch}`, () => {
      const names = fixtureEntries(arch).map((entry) => entry.name);
      expect(names).toEqual(expect.arrayContaining([LOADER_SONAME[arch], ...REQUIRED_NAMES]));
      expect(fixtureEntries(arch).every((entry) => entry.arch === arch)).toBe(true);
    });

    it(`gives ${arch} files their guest paths`, () => {
      expect(findFixture(arch, LOADER_SONAME[arch])?.guestPath).toBe(LOADER_GUEST_PATH[arch]);
      expect(findFixture(arch, 'libc.so.6')?.guestPath).toBe(`${LIBRARY_DIR[arch]}/libc.so.6`);
      expect(findFixture(arch, 'shimulator-stub')?.guestPath).toBe('/usr/bin/shimulator-stub');
      expect(findFixture(arch, 'libc.so.6')).toMatchObject({ package: 'libc6', version: '2.36-9+deb12u14' });
      expect(findFixture(arch, 'libpcap.so.0.8')).toMatchObject({ package: 'libpcap0.8', version: '1.10.3-1' });
    });
  }

  it('finds fixtures by SONAME or guest path, per arch', () => {
    const byName = findFixture('amd64', 'libpcap.so.0.8');
    expect(byName).toBeDefined();
    expect(findFixture('amd64', '/lib/x86_64-linux-gnu/libpcap.so.0.8')).toBe(byName);
    expect(findFixture('i386', '/lib/x86_64-linux-gnu/libpcap.so.0.8')).toBeUndefined();
    expect(findFixture('amd64', 'libnope.so.1')).toBeUndefined();
  });
});

describe('loadFixture', () => {
  for (const entry of fixtureManifest()) {
    it(`loads ${entry.file}: size, sha256 and ELF header match`, () => {
      const bytes = loadFixture(entry);
      expect(bytes.length).toBe(entry.size);
      expect(Array.from(bytes.subarray(0, ELF_MAGIC.length))).toEqual(ELF_MAGIC);
      expect(bytes[EI_CLASS]).toBe(EXPECTED_CLASS[entry.arch]);
      expect(bytes[EI_DATA]).toBe(ELFDATA2LSB);
      const machine = bytes[E_MACHINE_OFFSET]! | (bytes[E_MACHINE_OFFSET + 1]! << 8);
      expect(machine).toBe(EXPECTED_MACHINE[entry.arch]);
    });
  }

  it('caches: the second load returns the same bytes without inflating again', () => {
    const libc = findFixture('amd64', 'libc.so.6')!;
    expect(loadFixture(libc)).toBe(loadFixture(libc));
  });

  it('returns a plain Uint8Array: slice() copies, so a caller changing its copy leaves the cached bytes intact', () => {
    const stub = findFixture('i386', 'shimulator-stub')!;
    const bytes = loadFixture(stub);
    expect(Buffer.isBuffer(bytes)).toBe(false);
    const copy = bytes.slice();
    copy[0] = copy[0]! ^ 0xff;
    expect(loadFixture(stub)[0]).toBe(ELF_MAGIC[0]);
  });

  for (const arch of ARCHES) {
    it(`finds the Debian glibc version string in ${arch} libc`, () => {
      const libc = loadFixture(findFixture(arch, 'libc.so.6')!);
      expect(Buffer.from(libc.buffer, libc.byteOffset, libc.length).includes(LIBC_VERSION_STRING, 0, 'latin1')).toBe(
        true,
      );
    });
  }
});

describe('corrupt or missing fixtures', () => {
  it('rejects a file whose contents do not match the sha256', () => {
    const entry = smallestEntry('i386');
    const dir = copyFixturesWith(entry);
    const bytes = pako.ungzip(readFileSync(join(dir, entry.file)));
    bytes[bytes.length - 1]! ^= 0xff;
    writeFileSync(join(dir, entry.file), pako.gzip(bytes));
    const copy = fixtureManifest(dir).find((e) => e.file === entry.file)!;
    expectFixtureError(() => loadFixture(copy, dir), entry.file, 'sha256');
  });

  it('rejects a file whose size differs from the manifest', () => {
    const entry = smallestEntry('amd64');
    const dir = copyFixturesWith(entry);
    const bytes = pako.ungzip(readFileSync(join(dir, entry.file)));
    writeFileSync(join(dir, entry.file), pako.gzip(bytes.subarray(0, bytes.length - 1)));
    expectFixtureError(() => loadFixture(entry, dir), entry.file, 'size');
  });

  it('rejects a truncated gzip file', () => {
    const entry = smallestEntry('amd64');
    const dir = copyFixturesWith(entry);
    const compressed = readFileSync(join(dir, entry.file));
    writeFileSync(join(dir, entry.file), compressed.subarray(0, compressed.length >> 1));
    expectFixtureError(() => loadFixture(entry, dir), entry.file, 'decompress');
  });

  it('rejects a manifest entry whose sha256 was changed', () => {
    const entry = smallestEntry('amd64');
    const dir = copyFixturesWith(entry);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const raw = manifest.files.find((e: FixtureEntry) => e.file === entry.file);
    raw.sha256 = '0'.repeat(64);
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    const copy = fixtureManifest(dir).find((e) => e.file === entry.file)!;
    expectFixtureError(() => loadFixture(copy, dir), entry.file, 'sha256');
  });

  it('reports a missing file', () => {
    const present = smallestEntry('amd64');
    const dir = copyFixturesWith(present);
    const missing = findFixture('i386', 'libc.so.6', dir)!;
    const error = expectFixtureError(() => loadFixture(missing, dir), missing.file, 'missing');
    expect(error.file).toBe(join(dir, missing.file));
  });

  it('reports a missing or malformed manifest', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shimulator-fixtures-'));
    tempDirs.push(dir);
    expectFixtureError(() => fixtureManifest(dir), 'manifest.json');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ files: [{ arch: 'arm64' }] }));
    expectFixtureError(() => fixtureManifest(dir), 'arm64');
  });
});

describe('debug symbol tables (libc6-dbg)', () => {
  const PF_X = 1;
  for (const arch of ARCHES) {
    for (const name of [LOADER_SONAME[arch], 'libc.so.6', 'libm.so.6']) {
      it(`has ${arch} ${name}'s table, from the debug file of the fixture's exact build`, () => {
        const fixture = findFixture(arch, name)!;
        const entry = debugSymbolEntries().find((e) => e.arch === arch && e.name === name)!;
        expect(entry).toBeDefined();
        const elf = parseElf(loadFixture(fixture), fixture.guestPath);
        expect(entry).toMatchObject({ package: 'libc6-dbg', version: fixture.version, buildId: elf.buildId });
        expect(entry.debPath).toBe(`/usr/lib/debug/.build-id/${elf.buildId!.slice(0, 2)}/${elf.buildId!.slice(2)}.debug`);
        expect(entry.file).toBe(`debug/${arch}/${name}.syms.gz`);
        // Loading checks size and sha256; every function lies in the object's executable segment, in order.
        const functions = bundledFunctions(arch, elf.buildId)!.functions;
        expect(functions.length).toBe(entry.functions);
        const text = elf.programHeaders.filter((ph) => ph.type === 1 && (ph.flags & PF_X) !== 0);
        for (const [i, f] of functions.entries()) {
          if (i > 0) expect(f.start).toBeGreaterThan(functions[i - 1]!.start);
          expect(text.some((ph) => f.start >= ph.vaddr && f.start + f.size <= ph.vaddr + ph.memsz), f.name).toBe(true);
        }
        // Every exported function is there under a name (aliases share an address: one name each).
        const starts = new Set(functions.map((f) => f.start));
        for (const s of elf.dynsym) if (s.defined && s.type === 'FUNC' && s.size > 0) expect(starts.has(s.value), s.name).toBe(true);
      });
    }
  }

  it('rejects a table whose contents do not match the sha256', () => {
    const entry = debugSymbolEntries().find((e) => e.arch === 'amd64' && e.name === 'libc.so.6')!;
    const dir = copyFixturesWith(entry);
    const text = pako.ungzip(readFileSync(join(BUNDLED_DIR, entry.file)));
    text[text.length - 2]! ^= 0x01;
    writeFileSync(join(dir, entry.file), pako.gzip(text));
    expectFixtureError(() => bundledFunctions('amd64', entry.buildId, dir), entry.file, 'sha256');
  });
});

describe('uncompressed copies in the cache directory (bundled fixtures)', () => {
  it('are used only when their size and checksum match; small files and unwritable caches are skipped', () => {
    const cache = mkdtempSync(join(tmpdir(), 'shim-fixture-cache-'));
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = cache;
    try {
      const libc = findFixture('amd64', 'libc.so.6')!;
      const bytes = loadFixture(libc, undefined, false); // not copied here: the test makes its copies itself
      expect(readUncompressedCopy(libc.size, libc.sha256)).toBeUndefined();
      saveUncompressedCopy(bytes, libc.sha256);
      const copy = join(cache, 'shimulator', 'fixtures', `${libc.sha256}${COPY_SUFFIX}`);
      expect(readUncompressedCopy(libc.size, libc.sha256)).toEqual(bytes);
      // A damaged copy (same size, other bytes) is not used.
      const damaged = readFileSync(copy);
      damaged[1000] ^= 0xff;
      writeFileSync(copy, damaged);
      expect(readUncompressedCopy(libc.size, libc.sha256)).toBeUndefined();
      // Nor one without its checksum (the bytes alone, as copies were once written).
      writeFileSync(copy, bytes);
      expect(readUncompressedCopy(libc.size, libc.sha256)).toBeUndefined();
      // A truncated one neither.
      writeFileSync(copy, bytes.subarray(0, 4096));
      expect(readUncompressedCopy(libc.size, libc.sha256)).toBeUndefined();
      // Small fixtures are not copied.
      saveUncompressedCopy(new Uint8Array(MIN_CACHED_BYTES - 1), 'a'.repeat(64));
      expect(readdirSync(join(cache, 'shimulator', 'fixtures')).sort()).toEqual([`${libc.sha256}${COPY_SUFFIX}`]);
      // `cache: false` (--no-cache): nothing read, nothing written; a cache directory of its own (--cache-dir) is used.
      expect(readUncompressedCopy(libc.size, libc.sha256, false)).toBeUndefined();
      const own = join(cache, 'own');
      saveUncompressedCopy(bytes, libc.sha256, false);
      saveUncompressedCopy(bytes, libc.sha256, own);
      expect(readdirSync(join(own, 'fixtures'))).toEqual([`${libc.sha256}${COPY_SUFFIX}`]);
      expect(readUncompressedCopy(libc.size, libc.sha256, own)).toEqual(bytes);
      // A cache that cannot be written: no error, no copy.
      rmSync(join(cache, 'shimulator'), { recursive: true, force: true });
      writeFileSync(join(cache, 'shimulator'), 'not a directory');
      expect(() => saveUncompressedCopy(bytes, libc.sha256)).not.toThrow();
      expect(readUncompressedCopy(libc.size, libc.sha256)).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
      rmSync(cache, { recursive: true, force: true });
    }
  });
});
