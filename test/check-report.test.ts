/**
 * What the checker needs for whole-program runs: grouped reports with knock-on folding, the x87 scan behind
 * x87-empty-pop, call events for the `--calls` view, and IFUNC implementations known without resolver calls.
 * Real engine and real glibc (fixtures/abi for the broken shims); the folding rules also on hand-made reports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES } from '../src/emu/arch.ts';
import { lookupPrototype } from '../src/catalog/catalog.ts';
import { callPrinter, type CallEvent, formatCallLine } from '../src/check/calls.ts';
import { AbiChecker } from '../src/check/checker.ts';
import { formatViolationGroups, groupViolations } from '../src/check/group.ts';
import { cachedIfuncImplementation, ifuncSymbols, precomputeIfuncImplementations } from '../src/check/ifunc.ts';
import { printfVariadicTypes } from '../src/check/printf-format.ts';
import { checkX87EmptyPop, type CheckedCall, type CpuState, type RuleId, type Violation } from '../src/check/rules.ts';
import { x87Reads } from '../src/check/x87-scan.ts';
import { callSpec } from '../src/callspec/classify.ts';
import { Declarations } from '../src/callspec/parse.ts';
import { out } from '../src/callspec/values.ts';
import { disassembleRun, loadDisassembler } from '../src/trace/disassemble.ts';
import { Machine } from '../src/machine.ts';

const DIR = new URL('../fixtures/abi/', import.meta.url).pathname;
const lib = (name: string, arch: string) => `${DIR}libabi-${name}-${arch}.so`;

/** A hand-made violation (only the fields grouping reads matter). */
function v(rule: RuleId, at: 'entry' | 'return', call: number, extra: Partial<Violation> = {}): Violation {
  return {
    rule, at, call, severity: rule === 'narrow-int-extension' ? 'warning' : 'error', function: 'snprintf',
    caller: 'main.trampoline+0x1f (/prog)', arch: 'amd64', expected: 'e', actual: 'a', message: `${rule}: …`, thread: 1, ...extra,
  };
}

describe('groupViolations', () => {
  it('groups by rule, caller site and callee, in first-seen order, with the first occurrence in full', () => {
    const list = [
      v('stack-alignment', 'entry', 1), v('varargs-al', 'entry', 1), v('stack-alignment', 'entry', 2),
      v('stack-alignment', 'entry', 3, { caller: 'other+0x4 (/prog)' }), v('stack-alignment', 'entry', 4, { function: 'printf' }),
    ];
    const groups = groupViolations(list);
    expect(groups.map((g) => [g.rule, g.function, g.caller, g.count])).toEqual([
      ['stack-alignment', 'snprintf', 'main.trampoline+0x1f (/prog)', 2],
      ['varargs-al', 'snprintf', 'main.trampoline+0x1f (/prog)', 1],
      ['stack-alignment', 'snprintf', 'other+0x4 (/prog)', 1],
      ['stack-alignment', 'printf', 'main.trampoline+0x1f (/prog)', 1],
    ]);
    expect(groups[0]!.first).toBe(list[0]);
    expect(JSON.parse(JSON.stringify(groups[0]))).toEqual({
      rule: 'stack-alignment', severity: 'error', function: 'snprintf', caller: 'main.trampoline+0x1f (/prog)', count: 2,
      first: JSON.parse(JSON.stringify(list[0])), folded: [],
    });
  });

  it('rule 1: return violations of a call entered in a broken state are folded under the entry violation', () => {
    const groups = groupViolations([
      v('stack-alignment', 'entry', 1), v('callee-saved', 'return', 1), v('callee-saved', 'return', 1),
      v('stack-alignment', 'entry', 2), v('callee-saved', 'return', 2),
      v('callee-saved', 'return', 3), // a clean entry: its own group
    ]);
    expect(groups.map((g) => [g.rule, g.count, g.folded])).toEqual([
      ['stack-alignment', 2, [{ rule: 'callee-saved', count: 3 }]],
      ['callee-saved', 1, []],
    ]);
  });

  it('rule 1 needs an error at entry: a warning causes nothing', () => {
    const groups = groupViolations([v('narrow-int-extension', 'entry', 1), v('callee-saved', 'return', 1)]);
    expect(groups.map((g) => [g.rule, g.count, g.folded.length])).toEqual([['narrow-int-extension', 1, 0], ['callee-saved', 1, 0]]);
  });

  it('rule 2: x87-empty-pop after x87-stack at the same return is folded under it', () => {
    const groups = groupViolations([v('x87-stack', 'return', 1), v('x87-empty-pop', 'return', 1), v('x87-empty-pop', 'return', 2)]);
    expect(groups.map((g) => [g.rule, g.count, g.folded])).toEqual([
      ['x87-stack', 1, [{ rule: 'x87-empty-pop', count: 1 }]],
      ['x87-empty-pop', 1, []],
    ]);
  });

  it('rule 3: an inherited entry state in nested calls is folded under the enclosing call, transitively', () => {
    const groups = groupViolations([
      v('stack-alignment', 'entry', 1),
      v('stack-alignment', 'entry', 2, { enclosing: [1], function: 'malloc', caller: 'snprintf+0x40 (libc)' }),
      v('callee-saved', 'return', 2, { enclosing: [1], function: 'malloc', caller: 'snprintf+0x40 (libc)' }), // rule 1, then up to call 1's group
      v('direction-flag', 'entry', 3, { enclosing: [1] }), // not inherited from call 1: its own group
      v('stack-alignment', 'entry', 4, { enclosing: [9] }), // the enclosing call broke nothing
    ]);
    expect(groups.map((g) => [g.rule, g.function, g.count, g.folded])).toEqual([
      ['stack-alignment', 'snprintf', 2, [{ rule: 'stack-alignment', count: 1 }, { rule: 'callee-saved', count: 1 }]],
      ['direction-flag', 'snprintf', 1, []],
    ]);
  });

  it('violations without a call number never fold', () => {
    const bare = (rule: RuleId, at: 'entry' | 'return') => ({ ...v(rule, at, 0), call: undefined });
    expect(groupViolations([bare('stack-alignment', 'entry'), bare('callee-saved', 'return')]).map((g) => g.folded.length)).toEqual([0, 0]);
  });

  it('renders one block per group', () => {
    const list = Array.from({ length: 1234 }, (_, i) => v('stack-alignment', 'entry', i + 1));
    list.push(v('callee-saved', 'return', 7));
    const text = formatViolationGroups(groupViolations(list));
    expect(text.split('\n')).toEqual([
      '✗ stack-alignment ×1,234 in snprintf ← main.trampoline+0x1f (/prog)',
      '  expected e, found a (first at entry, thread 1)',
      '  stack-alignment: …',
      '  + folded as knock-on effects of it: callee-saved ×1',
    ]);
  });
});

describe('x87 scan after a return address', () => {
  beforeAll(() => loadDisassembler());
  const scan = (bytes: number[], arch: 'i386' | 'amd64' = 'i386') => x87Reads(disassembleRun(Uint8Array.from(bytes), 0x1000, arch, 16));
  const call = (proto: string, arch: 'i386' | 'amd64'): CheckedCall => ({
    arch, function: new Declarations().parsePrototype(proto).name, caller: () => 'caller+0x10 (/prog)',
    spec: callSpec(new Declarations().parsePrototype(proto), arch), variadic: false, narrowArguments: [],
  });
  const state = (x87Depth: number): CpuState => ({ sp: 0, flags: 0, rax: 0n, x87Depth, fpcw: 0x37f, mxcsr: 0x1f80, calleeSaved: {} });

  it('reduces straight-line code to its x87 reads, up to the first branch or push', () => {
    // mov [esp+4], eax; fstp qword ptr [esp+8]; ret
    expect(scan([0x89, 0x44, 0x24, 0x04, 0xdd, 0x5c, 0x24, 0x08, 0xc3])).toEqual([{ offset: 4, text: 'fstp qword ptr [esp + 8]', needs: 1, delta: -1 }]);
    // fld1; fstp st(0): the caller's own value
    expect(scan([0xd9, 0xe8, 0xdd, 0xd8])).toEqual([{ offset: 0, text: 'fld1', needs: 0, delta: 1 }]);
    // jmp +0; fstp: never reached in straight line
    expect(scan([0xeb, 0x00, 0xdd, 0xd8])).toEqual([]);
    // fxch st(1); faddp st(1); fcompp; fnstsw ax (no stack access)
    expect(scan([0xd9, 0xc9, 0xde, 0xc1, 0xde, 0xd9, 0xdf, 0xe0]).map((r) => [r.text, r.needs, r.delta])).toEqual([
      ['fxch st(1)', 2, 0], ['faddp st(1)', 2, -1], ['fcompp', 2, -2],
    ]);
    // fninit resets the stack: no verdict after it
    expect(scan([0xdb, 0xe3, 0xdd, 0xd8])).toEqual([{ offset: 0, text: 'fninit', needs: 0, delta: 0, stop: true }]);
  });

  it('x87-empty-pop counts what the prototype returns, lowered to what the callee really left', () => {
    const twoPops = scan([0xdd, 0x1c, 0x24, 0xdd, 0xd8]); // fstp qword ptr [esp]; fstp st(0)
    const d = call('double f(void)', 'i386');
    expect(checkX87EmptyPop(d, state(1), twoPops.slice(0, 1))).toEqual([]);
    const second = checkX87EmptyPop(d, state(1), twoPops);
    expect(second.map((x) => [x.rule, x.actual])).toEqual([['x87-empty-pop', '`fstp st(0)` reads 1']]);
    expect(second[0]!.message).toMatch(/2nd x87 instruction after the call .*FE_INVALID.*stack fault/);
    // The callee left nothing although it returns a double (x87-stack): the caller's pop underflows.
    expect(checkX87EmptyPop(d, state(0), twoPops.slice(0, 1)).map((x) => x.rule)).toEqual(['x87-empty-pop']);
    // amd64 double returns in xmm0: any fstp after it pops a register the callee did not return.
    expect(checkX87EmptyPop(call('double f(void)', 'amd64'), state(0), scan([0xdd, 0x1c, 0x24], 'amd64'))[0]!.message)
      .toContain('f returns a double outside the x87 stack');
  });
});

for (const arch of ARCHES) {
  describe(`checker on ${arch}: grouping, call events`, () => {
    let m: Machine;
    beforeAll(async () => {
      m = await Machine.boot({ arch, check: true, libs: ['libpcap.so.0.8', lib('targets', arch), lib('shims', arch)] });
    });
    afterAll(() => m?.close());

    it('a repeated violation at one site becomes one group with a count; violations carry their call', () => {
      const f = m.fn('libabi-shims.so', 'int shim_abs_fstp(int x)');
      const violations = [1, 2, 3].flatMap((x) => f(-x).abi!.violations);
      expect(violations.map((x) => x.rule)).toEqual(['x87-empty-pop', 'x87-empty-pop', 'x87-empty-pop']);
      expect(new Set(violations.map((x) => x.call)).size).toBe(3);
      expect(violations[0]!.enclosing).toHaveLength(1); // the host's call of the shim
      const groups = groupViolations(violations);
      expect(groups).toHaveLength(1);
      expect(groups[0]).toMatchObject({ rule: 'x87-empty-pop', function: 'abs', count: 3, folded: [] });
      expect(formatViolationGroups(groups).split('\n')[0]).toMatch(/^✗ x87-empty-pop ×3 in abs ← shim_abs_fstp\+0x[0-9a-f]+ \(.*libabi-shims-.*\.so\)$/);
    });

    it('reports calls with decoded arguments and return values, nested by depth', () => {
      const events: CallEvent[] = [];
      const lines: string[] = [];
      const print = callPrinter((line) => lines.push(line));
      m.onCall = (e) => {
        events.push(e);
        print(e);
      };
      try {
        m.fn('libabi-shims.so', 'int shim_snprintf_good(char *buf, unsigned long n, const char *fmt, double x)')(out(64), 64, '%.2f', 1.5);
        m.fn('libabi-shims.so', 'int shim_abs_fstp(int x)')(-7);
        m.fn('libc.so.6', 'long long llabs(long long j)')(-(2n ** 40n));
        m.fn('libc.so.6', 'size_t strlen(const char *s)')('a string longer than thirty-two characters');
        m.fn('libc.so.6', 'void *memset(void *s, int c, size_t n)')(null, 0, 0);
      } finally {
        m.onCall = undefined;
      }
      expect(lines).toEqual([
        'shim_snprintf_good("", 64, "%.2f", 1.5) …',
        '  snprintf("", 64, "%.2f", 1.5) = 4',
        '… shim_snprintf_good resumed = 4',
        'shim_abs_fstp(-7) …',
        '  abs(-7) = 7   ✗ x87-empty-pop',
        '… shim_abs_fstp resumed = 7',
        `llabs(-${2 ** 40}) = ${2 ** 40}`,
        'strlen("a string longer than thirty-two "…) = 42',
        'memset(NULL, 0, 0) = NULL',
      ]);
      const entry = events.find((e) => e.function === 'snprintf' && e.kind === 'entry')!;
      expect(entry).toMatchObject({ depth: 1, fromHost: false, moreVariadic: false, multithreaded: false });
      expect(formatCallLine({ ...entry, multithreaded: true, thread: 42 })).toBe('[42]   snprintf("", 64, "%.2f", 1.5) …');
      expect(formatCallLine({ ...entry, args: entry.args.slice(0, 3), moreVariadic: true })).toBe('  snprintf("", 64, "%.2f", …) …');
    });

    it('printf formats give the variadic types', () => {
      expect(printfVariadicTypes('%d %5.*f %s %lld %hhu %Lg %p %%')!.map((t) => (t.kind === 'int' || t.kind === 'float' ? t.name : t.kind)))
        .toEqual(['int', 'int', 'double', 'pointer', 'long long', 'unsigned int', 'long double', 'pointer']);
      expect(printfVariadicTypes('%2$d %1$d')).toBeUndefined();
    });
  });

  describe(`IFUNCs on ${arch} without resolver calls`, () => {
    it('precomputed implementations let a checker watch strlen and memcpy across objects with no host call', async () => {
      const counts = await precomputeIfuncImplementations(arch, ['libpcap.so.0.8']);
      expect(counts['libc.so.6']).toBeGreaterThan(20);
      const m = await Machine.boot({ arch, libs: ['libpcap.so.0.8'] });
      try {
        const libc = m.symbols.objects().find((o) => o.elf.soname === 'libc.so.6')!;
        const strlen = ifuncSymbols(libc).find((s) => s.name === 'strlen')!;
        expect(cachedIfuncImplementation(arch, libc, strlen.value)).toBe(m.address('strlen', 'libc.so.6'));

        // A checker hosted like a whole-program run's: no resolveIfunc, no host calls to check.
        const declarations = new Declarations();
        const events: CallEvent[] = [];
        const checker = new AbiChecker({
          process: m.process,
          objects: () => m.symbols.objects(),
          prototypeOf: (name) => lookupPrototype(name)?.prototype ?? (name === 'memcpy' ? declarations.parsePrototype('void *memcpy(void *d, const void *s, size_t n)') : undefined),
          isHostCode: () => false,
          readCString: (address, max) => m.readCString(address, max),
          currentThread: () => m.process.threads.current.tid,
        });
        checker.onCall = (e) => events.push(e);
        checker.begin([]);
        const p = m.fn('libpcap.so.0.8', 'void *pcap_open_dead(int linktype, int snaplen)')(1, 65535).value as number;
        m.fn('libpcap.so.0.8', 'int pcap_compile(void *p, void *fp, const char *str, int optimize, unsigned int netmask)')(p, out(16), 'tcp port 80', 1, 0);
        const violations = checker.end();
        expect(violations).toEqual([]);
        const strlenCall = events.find((e) => e.function === 'strlen' && e.kind === 'return')!;
        expect(formatCallLine(strlenCall)).toBe('strlen("tcp port 80") = 11');
        // amd64's memcpy implementation is memmove's (one address, first name wins); i386 has its own.
        expect(events.some((e) => e.kind === 'entry' && (e.function === 'memcpy' || e.function === 'memmove') && e.args[2]!.value === 11)).toBe(true);
      } finally {
        m.close();
      }
    });
  });
}
