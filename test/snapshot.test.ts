/**
 * Snapshots and the boot image cache, both architectures: a machine restored from the cache, from a snapshot or
 * forked behaves exactly as a freshly booted one — the same results, errno, instruction counts, thread ids and
 * schedule, and byte-identical traces — through calls that touch malloc, TLS/errno and threads; a damaged or stale
 * cache file is rebuilt; state a snapshot cannot carry is refused with a typed error.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { out, vararg } from '../src/callspec/values.ts';
import { ARCHES } from '../src/emu/arch.ts';
import { type CallResult, Machine } from '../src/machine.ts';
import { SnapshotMismatchError, SnapshotUnsupportedError } from '../src/snapshot/errors.ts';
import { MAX_IMAGES } from '../src/snapshot/image-cache.ts';
import { encodeTrace } from '../src/trace/format.ts';
import { shimulatorCli } from './support/spawn.ts';
import { recordTrace } from '../src/trace/recorder.ts';

const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const OPEN = 'int open(const char *path, int flags, ...)';
const hash = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Calls that use malloc, TLS (locale, errno), a fakecgo-style thread and a trace; everything observable, in order. */
function scenario(m: Machine): unknown[] {
  const log: unknown[] = [];
  const record = (label: string, r: CallResult) =>
    log.push([label, String(r.value), r.errno, r.instructions, r.string, Object.values(r.out).map(hash)]);
  const snprintf = m.fn('libc.so.6', SNPRINTF);
  const malloc = m.fn('libc.so.6', 'void *malloc(unsigned long n)');
  record('snprintf', snprintf(out(64), 64, '%f %d %s', vararg.double(1.5), vararg.int(42), vararg.str('ok')));
  const block = malloc(100);
  record('malloc', block);
  record('malloc big', malloc(200_000));
  record('free', m.fn('libc.so.6', 'void free(void *p)')(block.value as number));
  record('open errno', m.fn('libc.so.6', OPEN)('/nonexistent', 0));
  record('strtol errno', m.fn('libc.so.6', 'long strtol(const char *s, char **end, int base)')('999999999999999999999999', null, 10));
  record('setenv', m.fn('libc.so.6', 'int setenv(const char *name, const char *value, int overwrite)')('SNAP', 'yes', 1));
  record('getenv', m.fn('libc.so.6', 'char *getenv(const char *name)')('SNAP'));
  const thread = m.startThread();
  const onThread = m.onThread(thread);
  record('thread snprintf', onThread.fn('libc.so.6', SNPRINTF)(out(32), 32, '%d', vararg.int(7)));
  record('thread errno', onThread.fn('libc.so.6', OPEN)('/nope', 0));
  record('thread malloc', onThread.fn('libc.so.6', 'void *malloc(unsigned long n)')(64));
  log.push(['thread', thread.tid, thread.threadPointer, thread.errnoAddress, m.schedule]);
  const { trace } = recordTrace(m, 'snprintf', () => snprintf(out(64), 64, '%e', vararg.double(2.5)));
  log.push(['trace', hash(encodeTrace(trace))]);
  log.push(['clock', m.process.instructions, m.process.kernel.now().toString()]);
  return log;
}

function damage(path: string, how: 'flip' | 'truncate' | 'version' | 'garbage'): void {
  const bytes = readFileSync(path);
  if (how === 'flip') bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
  if (how === 'version') bytes.writeUInt32LE(999, 8);
  const damaged = how === 'truncate' ? bytes.subarray(0, bytes.length >> 1) : how === 'garbage' ? Buffer.from('not an image') : bytes;
  writeFileSync(path, damaged);
}

const images = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.img'));

for (const arch of ARCHES) {
  describe(`${arch} snapshots and boot images`, () => {
    let dir: string;
    let expected: unknown[];
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'shimulator-cache-'));
      const fresh = await Machine.boot({ arch, cache: false });
      expected = scenario(fresh);
      fresh.close();
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a machine restored from the boot image cache behaves exactly as a freshly booted one', async () => {
      const first = await Machine.boot({ arch, cache: { dir } });
      expect(first.origin).toBe('boot');
      expect(images(dir)).toHaveLength(1);
      const second = await Machine.boot({ arch, cache: { dir } });
      expect(second.origin).toBe('cache');
      expect(second.bootInstructions).toBe(first.bootInstructions);
      expect(scenario(second)).toEqual(expected);
      expect(scenario(first)).toEqual(expected);
      first.close();
      second.close();
    });

    it('snapshot → calls → restore → calls gives the same as the first time, and the same as a fresh machine', async () => {
      const m = await Machine.boot({ arch, cache: false });
      const clean = m.snapshot();
      const once = scenario(m);
      expect(once).toEqual(expected);
      m.restore(clean);
      expect(scenario(m)).toEqual(expected);
      // A snapshot taken after calls (a thread started, the heap grown) brings those back too.
      const later = m.snapshot();
      const after = scenario(m);
      m.restore(later);
      expect(scenario(m)).toEqual(after);
      m.restore(clean);
      expect(scenario(m)).toEqual(expected);
      m.close();
    });

    it('fork gives an independent machine in the same state', async () => {
      const m = await Machine.boot({ arch, cache: false });
      const setenv = 'int setenv(const char *name, const char *value, int overwrite)';
      const getenv = 'char *getenv(const char *name)';
      m.fn('libc.so.6', setenv)('BEFORE', 'fork', 1);
      const copy = m.fork();
      expect(copy.origin).toBe('fork');
      // Both allocate from the same heap state, independently.
      const malloc = 'void *malloc(unsigned long n)';
      const inCopy = copy.fn('libc.so.6', malloc)(48);
      const inOriginal = m.fn('libc.so.6', malloc)(48);
      expect(inOriginal.value).toBe(inCopy.value);
      expect(inOriginal.instructions).toBe(inCopy.instructions);
      copy.fn('libc.so.6', setenv)('ONLY', 'copy', 1);
      expect(copy.fn('libc.so.6', getenv)('ONLY').string).toBe('copy');
      expect(m.fn('libc.so.6', getenv)('ONLY').value).toBe(0);
      expect(copy.fn('libc.so.6', getenv)('BEFORE').string).toBe('fork');
      copy.close();
      expect(m.fn('libc.so.6', getenv)('BEFORE').string).toBe('fork');
      m.close();

      const fresh = await Machine.boot({ arch, cache: false });
      const forked = fresh.fork();
      fresh.close();
      expect(scenario(forked)).toEqual(expected);
      forked.close();
    });

    it('caches boots with bundled and host libraries (dlopen\'ed by the guest) the same way', async () => {
      const host = join(import.meta.dirname, `../fixtures/conformance/libconformance-${arch}.so`);
      const libs = ['libpcap.so.0.8', host];
      const withLibs = (m: Machine) => {
        const version = m.fn('libpcap.so.0.8', 'const char *pcap_lib_version(void)')();
        const p = m.fn('libpcap.so.0.8', 'pcap_t *pcap_open_dead(int linktype, int snaplen)')(1, 65535);
        const compiled = m.fn('libpcap.so.0.8', 'int pcap_compile(void *p, void *fp, const char *str, int optimize, unsigned int netmask)')(p.value as number, out(16), 'tcp port 80', 1, 0);
        return [version.string, version.instructions, p.value, p.instructions, compiled.value, compiled.instructions, m.symbols.objects().map((o) => `${o.path}@${o.base}`)];
      };
      const fresh = await Machine.boot({ arch, libs, cache: false });
      const expectedWithLibs = withLibs(fresh);
      fresh.close();
      await Machine.boot({ arch, libs, cache: { dir } }).then((m) => m.close());
      const cached = await Machine.boot({ arch, libs, cache: { dir } });
      expect(cached.origin).toBe('cache');
      expect(withLibs(cached)).toEqual(expectedWithLibs);
      cached.close();
    });

    it.each(['flip', 'truncate', 'version', 'garbage'] as const)('a cache file damaged by %s is rebuilt, never used', async (how) => {
      const own = mkdtempSync(join(tmpdir(), 'shimulator-cache-'));
      await Machine.boot({ arch, cache: { dir: own } }).then((m) => m.close());
      const [name] = images(own);
      damage(join(own, name!), how);
      const m = await Machine.boot({ arch, cache: { dir: own } });
      expect(m.origin).toBe('boot');
      expect(scenario(m)).toEqual(expected);
      m.close();
      const again = await Machine.boot({ arch, cache: { dir: own } });
      expect(again.origin).toBe('cache');
      again.close();
      rmSync(own, { recursive: true, force: true });
    });

    it('a stale image (made for other boot inputs) is rebuilt', async () => {
      const other = mkdtempSync(join(tmpdir(), 'shimulator-cache-'));
      await Machine.boot({ arch, seed: 7, cache: { dir: other } }).then((m) => m.close());
      const own = mkdtempSync(join(tmpdir(), 'shimulator-cache-'));
      await Machine.boot({ arch, cache: { dir: own } }).then((m) => m.close());
      const [mine] = images(own);
      const [stale] = images(other);
      writeFileSync(join(own, mine!), readFileSync(join(other, stale!)));
      const m = await Machine.boot({ arch, cache: { dir: own } });
      expect(m.origin).toBe('boot');
      expect(scenario(m)).toEqual(expected);
      m.close();
      rmSync(other, { recursive: true, force: true });
      rmSync(own, { recursive: true, force: true });
    });

    it('restores how faults are reported: a SIGSEGV handler installed after the snapshot is gone, and so are exact fault addresses', async () => {
      const faultOf = (m: Machine) => {
        try {
          m.fn('libc.so.6', 'unsigned long strlen(const char *s)')(vararg.ptr(16));
        } catch (error) {
          return [(error as Error).name, (error as { pc?: number }).pc];
        }
        return ['no fault'];
      };
      const fresh = await Machine.boot({ arch, cache: false });
      const expectedFault = faultOf(fresh);
      fresh.close();
      const m = await Machine.boot({ arch, cache: false });
      const clean = m.snapshot();
      const handler = m.callback('void (*)(int)', () => undefined);
      m.fn('libc.so.6', 'void *signal(int sig, void (*handler)(int))')(11, handler);
      expect(m.process.engine.preciseFaultsEnabled).toBe(true);
      m.restore(clean);
      expect(m.process.engine.preciseFaultsEnabled).toBe(false);
      expect(faultOf(m)).toEqual(expectedFault);
      m.close();
    });

    it('a cache directory that cannot be written is skipped: the boot still works', async () => {
      const blocker = join(mkdtempSync(join(tmpdir(), 'shimulator-cache-')), 'a-file');
      writeFileSync(blocker, 'not a directory');
      const m = await Machine.boot({ arch, cache: { dir: join(blocker, 'cache') } });
      expect(m.origin).toBe('boot');
      expect(m.fn('libc.so.6', SNPRINTF)(out(16), 16, '%d', vararg.int(5)).value).toBe(1);
      m.close();
      rmSync(join(blocker, '..'), { recursive: true, force: true });
    });

    it('keeps the most recently used images only, and shares one image for the same library in any folder', async () => {
      const own = mkdtempSync(join(tmpdir(), 'shimulator-cache-'));
      const old = new Date(Date.UTC(2020, 0, 1));
      for (let i = 0; i < MAX_IMAGES + 5; i++) {
        writeFileSync(join(own, `old-${i}.img`), 'x');
        utimesSync(join(own, `old-${i}.img`), old, old);
      }
      const library = readFileSync(join(import.meta.dirname, `../fixtures/conformance/libconformance-${arch}.so`));
      const [a, b] = ['a', 'b'].map((folder) => {
        mkdirSync(join(own, folder));
        writeFileSync(join(own, folder, 'libshim.so'), library);
        return join(own, folder, 'libshim.so');
      });
      const first = await Machine.boot({ arch, libs: [a!], cache: { dir: own } });
      expect(first.origin).toBe('boot');
      first.close();
      expect(images(own)).toHaveLength(MAX_IMAGES);
      expect(images(own).filter((name) => !name.startsWith('old-'))).toHaveLength(1);
      const second = await Machine.boot({ arch, libs: [b!], cache: { dir: own } });
      expect(second.origin).toBe('cache');
      expect(second.process.mountedLibraries).toEqual(['/opt/shimulator/lib/libshim.so']);
      second.close();
      rmSync(own, { recursive: true, force: true });
    });

    it('refuses what a snapshot cannot carry, with typed errors', async () => {
      const m = await Machine.boot({ arch, cache: false });
      const fds = m.fn('libc.so.6', 'int pipe(int *fds)')(out(8));
      expect(fds.value).toBe(0);
      expect(() => m.snapshot()).toThrow(SnapshotUnsupportedError);
      const other = await Machine.boot({ arch, cache: false });
      expect(() => m.restore(other.snapshot())).toThrow(SnapshotMismatchError);
      other.close();
      m.close();
    });

    it('the CLI restores its boot from --cache-dir (same output, traces byte-identical) and --no-cache writes nothing', async () => {
      const cli = mkdtempSync(join(tmpdir(), 'shimulator-cli-'));
      const call = (traceName: string, ...flags: string[]) => shimulatorCli(
        'call', '--arch', arch, '--json', ...flags, '--trace', join(cli, traceName), SNPRINTF, 'out:64', '64', '%f %d', 'double:1.5', 'int:42',
      );
      const cold = await call('cold.trace', '--cache-dir', cli);
      expect(images(cli)).toHaveLength(1);
      const warm = await call('warm.trace', '--cache-dir', cli);
      const uncached = await call('none.trace', '--no-cache', '--cache-dir', join(cli, 'unused'));
      expect(cold.status).toBe(0);
      expect(JSON.parse(warm.stdout)).toEqual(JSON.parse(cold.stdout));
      expect(JSON.parse(uncached.stdout)).toEqual(JSON.parse(cold.stdout));
      expect(readFileSync(join(cli, 'warm.trace')).equals(readFileSync(join(cli, 'cold.trace')))).toBe(true);
      expect(readFileSync(join(cli, 'none.trace')).equals(readFileSync(join(cli, 'cold.trace')))).toBe(true);
      expect(existsSync(join(cli, 'unused'))).toBe(false);
      rmSync(cli, { recursive: true, force: true });
    });
  });
}
