/**
 * Nested guest calls: TypeScript callbacks that call back into the guest (qsort of strings with a comparator that
 * calls the guest's strcmp, a pcap callback calling pcap_geterr, recursion through C and TypeScript deeper than
 * Unicorn's 64 nested uc_emu_start levels), with the outer call's arguments, out buffers, errno, instruction
 * count, budget, ABI checks and traces intact, on both architectures.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import { BudgetExceededError, GuestFault } from '../src/emu/errors.ts';
import { nestedStackTop } from '../src/callspec/nested-call.ts';
import { GuestPointer, out, vararg } from '../src/callspec/values.ts';
import { type CallResult, type CFunction, Machine } from '../src/machine.ts';
import { recordTrace } from '../src/trace/recorder.ts';
import { writePcapFile, ethernetFrame } from '../src/capture/pcap-file.ts';

const EBADF = 9;
const CALLER = `
#include <errno.h>
#include <string.h>
/* f's result plus one, n levels deep when f calls recurse again. */
int recurse(int n, int (*f)(int)) { return n == 0 ? 0 : f(n) + 1; }
/* errno set by the caller survives a callback that makes guest calls. */
int errno_around(void (*f)(void)) { errno = 7; f(); return errno; }
/* the outer call's string arguments survive nested calls that place their own. */
#include <pthread.h>
static int (*thread_fn)(int);
static int thread_result;
static void *thread_main(void *arg) { (void)arg; thread_result = thread_fn(1); return 0; }
/* f called on a thread of the guest's own. */
int in_guest_thread(int (*f)(int)) {
  pthread_t t;
  thread_fn = f;
  if (pthread_create(&t, 0, thread_main, 0) != 0) return -1;
  pthread_join(t, 0);
  return thread_result;
}
int args_survive(const char *a, void (*f)(void), const char *b) { f(); return strcmp(a, "alpha") == 0 && strcmp(b, "beta-gamma") == 0; }
`;

const QSORT = 'void qsort(void *base, unsigned long n, unsigned long size, int (*cmp)(const void *, const void *))';
const WORDS = ['pear', 'apple', 'fig', 'banana', 'Cherry', 'apricot', 'kiwi', 'date', 'applesauce', 'zucchini', 'Apple'];

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shim-nested-'));
  writeFileSync(join(dir, 'caller.c'), CALLER);
  for (const [arch, flag] of [['amd64', '-m64'], ['i386', '-m32']]) {
    execFileSync('gcc', [flag!, '-O2', '-shared', '-fPIC', '-o', join(dir, `libnested-${arch}.so`), join(dir, 'caller.c')]);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** qsort of WORDS (an array of char * in guest memory) with a comparator that calls the guest's strcmp. */
function sortWords(m: Machine, budget?: number): { sorted: string[]; result: CallResult; nested: CallResult[]; plain: CallResult } {
  const word = m.arch === 'amd64' ? 8 : 4;
  const strdup = m.fn('libc.so.6', 'char *strdup(const char *s)');
  const strcmp = m.fn('libc.so.6', 'int strcmp(const char *a, const char *b)');
  const pointers = WORDS.map((w) => strdup(w).value as number);
  const table = new Uint8Array(WORDS.length * word);
  const tableView = new DataView(table.buffer);
  pointers.forEach((p, i) => (word === 8 ? tableView.setBigUint64(i * 8, BigInt(p), true) : tableView.setUint32(i * 4, p, true)));
  const deref = (address: number) => {
    const view = new DataView(m.read(address, word).buffer);
    return word === 8 ? Number(view.getBigUint64(0, true)) : view.getUint32(0, true);
  };
  const nested: CallResult[] = [];
  const viaGuest = m.callback('int (*)(const void *, const void *)', (a, b) => {
    const r = strcmp(deref(a as number), deref(b as number));
    nested.push(r);
    return r.value as number;
  });
  const qsortAt = m.fn('libc.so.6', QSORT);
  const result = budget === undefined ? qsortAt(table, WORDS.length, word, viaGuest) : m.call(qsortAt.address, qsortAt.prototype, [table, WORDS.length, word, viaGuest], budget);
  // The same sort with the comparisons answered in TypeScript: qsort's own instructions only.
  const inHost = m.callback('int (*)(const void *, const void *)', (a, b) => {
    const x = m.readCString(deref(a as number));
    const y = m.readCString(deref(b as number));
    return x < y ? -1 : x > y ? 1 : 0;
  });
  const plain = qsortAt(table, WORDS.length, word, inHost);
  viaGuest.free();
  inHost.free();
  const view = new DataView(result.out[0]!.buffer);
  const sorted = WORDS.map((_, i) => m.readCString(word === 8 ? Number(view.getBigUint64(i * 8, true)) : view.getUint32(i * 4, true)));
  return { sorted, result, nested, plain };
}

describe.each(ARCHES)('nested guest calls on %s', (arch: Arch) => {
  let m: Machine;
  let lib = '';
  beforeAll(async () => {
    lib = join(dir, `libnested-${arch}.so`);
    m = await Machine.boot({ arch, libs: [lib], check: true });
  });
  afterAll(() => m?.close());

  it('qsort sorts strings with a TypeScript comparator that calls the guest strcmp', () => {
    const { sorted, result, nested, plain } = sortWords(m);
    expect(sorted).toEqual([...WORDS].sort()); // byte order, as strcmp compares
    expect(nested.length).toBeGreaterThan(WORDS.length - 1);
    expect(nested.every((r) => r.instructions > 0 && r.abi?.ok === true)).toBe(true);
    expect(result.abi?.ok).toBe(true);
    // The outer count holds qsort's own instructions and those of every nested strcmp, exactly.
    expect(result.instructions).toBe(plain.instructions + nested.reduce((sum, r) => sum + r.instructions, 0));
  });

  it('counts the same on every run and with the JavaScript counter', async () => {
    const first = sortWords(m).result.instructions;
    expect(sortWords(m).result.instructions).toBe(first);
    const js = await Machine.boot({ arch, libs: [lib], counting: 'js', cache: false });
    try {
      expect(js.counting.mode).toBe('js');
      expect(sortWords(js).result.instructions).toBe(first);
    } finally {
      js.close();
    }
  });

  it('nested instructions count against the outer call budget', () => {
    const { result, plain } = sortWords(m);
    expect(() => sortWords(m, plain.instructions + 10)).toThrow(BudgetExceededError);
    expect(sortWords(m, result.instructions + 10).sorted).toEqual([...WORDS].sort());
  });

  it('recurses through C and TypeScript deeper than 64 levels (Unicorn 2.0.1 nests uc_emu_start at most 64 deep)', () => {
    const depth = 100;
    const recurse = m.fn(undefined, 'int recurse(int n, int (*f)(int))');
    const stackPointers: number[] = [];
    const sp = arch === 'amd64' ? 'rsp' : 'esp';
    const f = m.callback('int (*)(int)', (n) => {
      stackPointers.push(Number(m.process.engine.reg(sp)));
      return recurse((n as number) - 1, f).value as number;
    });
    const r = recurse(depth, f);
    f.free();
    expect(r.value).toBe(depth);
    expect(r.abi?.ok).toBe(true);
    expect(stackPointers).toHaveLength(depth);
    // Each level's frame is below the one that called it.
    for (let i = 1; i < depth; i++) expect(stackPointers[i]!).toBeLessThan(stackPointers[i - 1]!);
  });

  it('puts the nested frame below the red zone (amd64: 128 bytes), 16-byte aligned', () => {
    expect(nestedStackTop('amd64', 0x7fff_0000_1238)).toBe(0x7fff_0000_11b0); // 0x1238 - 128 = 0x11b8, down to 16
    expect(nestedStackTop('i386', 0xffffd0ec)).toBe(0xffffd0e0);
  });

  it("keeps the caller's errno, and gives the nested call its own", () => {
    let inner: CallResult | undefined;
    const close = m.fn('libc.so.6', 'int close(int fd)');
    const f = m.callback('void (*)(void)', () => {
      inner = close(-1);
    });
    const r = m.fn(undefined, 'int errno_around(void (*f)(void))')(f);
    f.free();
    expect(inner!.value).toBe(-1);
    expect(inner!.errno).toBe(EBADF);
    expect(r.value).toBe(7);
  });

  it("keeps the outer call's string arguments and gives nested calls their own out buffers", () => {
    const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
    const strlen = m.fn('libc.so.6', 'unsigned long strlen(const char *s)');
    let printed = '';
    const f = m.callback('void (*)(void)', () => {
      expect(strlen('x'.repeat(5000)).value).toBe(5000);
      const r = snprintf(out(32), 32, '%s-%d', 'nested', vararg.int(42));
      printed = new TextDecoder().decode(r.out[0]!.subarray(0, r.value as number));
    });
    const r = m.fn(undefined, 'int args_survive(const char *a, void (*f)(void), const char *b)')('alpha', f, 'beta-gamma');
    f.free();
    expect(printed).toBe('nested-42');
    expect(r.value).toBe(1);
  });

  it('a nested call that faults fails alone: the callback may catch it and the outer call goes on', () => {
    const recurse = m.fn(undefined, 'int recurse(int n, int (*f)(int))');
    const strlen = m.fn('libc.so.6', 'unsigned long strlen(const char *s)');
    let caught: unknown;
    const f = m.callback('int (*)(int)', () => {
      try {
        strlen(new GuestPointer(16));
      } catch (error) {
        caught = error;
      }
      return strlen('after').value as number;
    });
    const r = recurse(1, f);
    f.free();
    expect(caught).toBeInstanceOf(GuestFault);
    expect(r.value).toBe(6);
    expect(r.abi?.ok).toBe(true);
  });

  it('traces record the nested calls inside the outer one', () => {
    const recurse = m.fn(undefined, 'int recurse(int n, int (*f)(int))');
    const strlen = m.fn('libc.so.6', 'unsigned long strlen(const char *s)');
    const f = m.callback('int (*)(int)', () => strlen('four').value as number);
    const { result, trace } = recordTrace(m, 'nested', () => recurse(1, f));
    f.free();
    expect(result.value).toBe(5);
    expect(trace.steps).toBe(result.instructions);
    expect(trace.pc).toContain(strlen.address);
  });

  it('reports nested calls to onCall inside the outer one', () => {
    const events: string[] = [];
    m.onCall = (e) => events.push(`${e.kind} ${e.function} ${e.depth}`);
    try {
      sortWords(m);
    } finally {
      m.onCall = undefined;
    }
    const qsortEntry = events.findIndex((e) => e.startsWith('entry qsort'));
    const strcmpEntry = events.findIndex((e, i) => i > qsortEntry && e.startsWith('entry strcmp'));
    expect(qsortEntry).toBeGreaterThanOrEqual(0);
    expect(strcmpEntry).toBeGreaterThan(qsortEntry);
    expect(Number(events[strcmpEntry]!.split(' ')[2])).toBeGreaterThan(Number(events[qsortEntry]!.split(' ')[2]));
  });

  it('refuses snapshots, restore, fork, reset and thread calls from inside a callback', () => {
    const recurse = m.fn(undefined, 'int recurse(int n, int (*f)(int))');
    const snapshot = m.snapshot();
    const attempts: Record<string, () => unknown> = {
      snapshot: () => m.snapshot(),
      restore: () => m.restore(snapshot),
      fork: () => m.fork(),
      reset: () => m.reset(),
    };
    for (const [name, attempt] of Object.entries(attempts)) {
      const f = m.callback('int (*)(int)', () => {
        attempt();
        return 0;
      });
      expect(() => recurse(1, f), name).toThrow(/from inside a callback/);
      f.free();
    }
    expect(recurse(0, m.callback('int (*)(int)', () => 0)).value).toBe(0); // still usable
  });

  it('runs a nested call on the started thread whose callback makes it, with that thread\'s errno', () => {
    const thread = m.startThread();
    const close = m.fn('libc.so.6', 'int close(int fd)');
    const tids: number[] = [];
    let inner: CallResult | undefined;
    const f = m.callback('void (*)(void)', () => {
      tids.push(m.process.threads.current.tid);
      inner = close(-1);
      tids.push(m.process.threads.current.tid);
    });
    const r = m.onThread(thread).fn(undefined, 'int errno_around(void (*f)(void))')(f);
    f.free();
    expect(tids).toEqual([thread.tid, thread.tid]);
    expect(inner!.errno).toBe(EBADF);
    expect(r.value).toBe(7);
    // The main thread's errno was not touched by either.
    expect(m.fn('libc.so.6', 'int abs(int)')(-1).errno).toBe(0);
  });

  it('runs a nested call on a thread the guest started itself, with that thread\'s own errno (adopted on first use)', () => {
    const strlen = m.fn('libc.so.6', 'unsigned long strlen(const char *s)');
    const close = m.fn('libc.so.6', 'int close(int fd)');
    const seen: { tid: number; length: number; errno: number }[] = [];
    const f = m.callback('int (*)(int)', (n) => {
      const length = strlen('four').value as number;
      seen.push({ tid: m.process.threads.current.tid, length, errno: close(-1).errno });
      return (n as number) + length;
    });
    m.checking = true;
    try {
      const inThread = m.fn(undefined, 'int in_guest_thread(int (*f)(int))');
      const first = inThread(f);
      const second = inThread(f); // a new guest thread: adopted afresh
      expect(first.value).toBe(5);
      expect(second.value).toBe(5);
      expect(first.abi?.violations ?? []).toEqual([]);
      expect(seen.map((s) => s.length)).toEqual([4, 4]);
      expect(seen.map((s) => s.errno)).toEqual([EBADF, EBADF]);
      expect(new Set(seen.map((s) => s.tid)).size).toBe(2);
      expect(seen.every((s) => s.tid !== m.mainThread.tid)).toBe(true);
      // The main thread's errno was not touched.
      expect(m.fn('libc.so.6', 'int abs(int)')(-1).errno).toBe(0);
    } finally {
      m.checking = false;
      f.free();
    }
  });
});

describe.each(ARCHES)('a pcap callback calling pcap_geterr on %s', (arch: Arch) => {
  it('reads the handle error string from inside pcap_dispatch', async () => {
    const path = '/data/one.pcap';
    const capture = writePcapFile([{ seconds: 1, microseconds: 0, data: ethernetFrame({ protocol: 'udp', source: '10.0.0.1', destination: '10.0.0.2', sourcePort: 1, destinationPort: 53, payload: new Uint8Array(4) }) }]);
    const m = await Machine.boot({ arch, libs: ['libpcap.so.0.8'], files: { [path]: capture } });
    try {
      const pcap = m.fn('libpcap.so.0.8', 'void *pcap_open_offline(const char *fname, char *errbuf)')(path, out(256)).value as number;
      // A filter that does not compile leaves its message in the handle's errbuf, which pcap_geterr returns.
      const compile = m.fn('libpcap.so.0.8', 'int pcap_compile(void *p, void *fp, const char *str, int optimize, unsigned int netmask)');
      expect(compile(pcap, out(16), 'tcp port', 1, 0).value).toBe(-1);
      const geterr: CFunction = m.fn('libpcap.so.0.8', 'char *pcap_geterr(void *p)');
      const seen: string[] = [];
      const handler = m.callback('void (*)(unsigned char *, const void *, const unsigned char *)', () => {
        const r = geterr(pcap);
        seen.push(r.string ?? '(null)');
      });
      const dispatched = m.fn('libpcap.so.0.8', 'int pcap_dispatch(void *p, int cnt, void (*callback)(unsigned char *, const void *, const unsigned char *), unsigned char *user)')(pcap, -1, handler, null);
      expect(dispatched.value).toBe(1);
      expect(seen).toEqual([geterr(pcap).string]);
      expect(seen[0]).toMatch(/syntax error/);
    } finally {
      m.close();
    }
  });
});
