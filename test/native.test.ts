/**
 * Ground truth from real hardware: a natively compiled program calls the very same bundled libpcap (run by the
 * bundled ld.so on this x86-64 host, -m64 and -m32), and the emulator must produce byte-identical BPF programs
 * and identical error messages.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES } from '../src/emu/arch.ts';
import { out } from '../src/callspec/values.ts';
import { fixtureEntries, loadFixture } from '../src/loader/fixtures.ts';
import { Machine } from '../src/machine.ts';

const FILTERS = [
  'tcp port 80',
  'udp and host 10.0.0.1',
  'ip6 and tcp[tcpflags] & tcp-syn != 0',
  'portrange 1-1024 and not icmp',
  'vlan 5 and ether broadcast',
  'tcp port 80 and',
  'host 999.1.1.1',
];

const PROGRAM = `
#include <stdio.h>
struct bpf_program { unsigned int bf_len; unsigned char *bf_insns; };
typedef struct pcap pcap_t;
pcap_t *pcap_open_dead(int linktype, int snaplen);
int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *str, int optimize, unsigned int netmask);
char *pcap_geterr(pcap_t *p);
/* One line per filter: "<rc> <bf_len> <hex of the instructions>" or "<rc> <error message>". */
int main(int argc, char **argv) {
  pcap_t *p = pcap_open_dead(1 /* DLT_EN10MB */, 65535);
  for (int i = 1; i < argc; i++) {
    struct bpf_program prog;
    int rc = pcap_compile(p, &prog, argv[i], 1, 0);
    if (rc == 0) {
      printf("%d %u ", rc, prog.bf_len);
      for (unsigned j = 0; j < prog.bf_len * 8; j++) printf("%02x", prog.bf_insns[j]);
    } else {
      printf("%d %s", rc, pcap_geterr(p));
    }
    printf("\\n");
  }
  return 0;
}
`;

const hasGcc = spawnSync('gcc', ['--version']).status === 0;

describe.skipIf(!hasGcc)('libpcap: emulator vs native x86 execution', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shim-native-'));
    writeFileSync(join(dir, 'pcap.c'), PROGRAM);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const arch of ARCHES) {
    it(`${arch}: pcap_compile gives the same program bytes and messages`, async () => {
      // The bundled libraries, laid out as a library directory for the bundled ld.so.
      const libdir = join(dir, arch);
      execFileSync('mkdir', ['-p', libdir]);
      let loader = '';
      for (const entry of fixtureEntries(arch)) {
        const path = join(libdir, entry.name);
        writeFileSync(path, loadFixture(entry));
        chmodSync(path, 0o755);
        if (entry.name.startsWith('ld-linux')) loader = path;
      }
      const exe = join(dir, `pcap-${arch}`);
      execFileSync('gcc', [arch === 'amd64' ? '-m64' : '-m32', '-o', exe, join(dir, 'pcap.c'), join(libdir, 'libpcap.so.0.8'), `-Wl,-rpath-link,${libdir}`]);
      const native = execFileSync(loader, ['--library-path', libdir, exe, ...FILTERS], { encoding: 'utf8' }).trim().split('\n');

      const m = await Machine.boot({ arch, libs: ['libpcap.so.0.8'] });
      try {
        const p = m.fn('libpcap.so.0.8', 'pcap_t *pcap_open_dead(int linktype, int snaplen)')(1, 65535).value as number;
        const compile = m.fn('libpcap.so.0.8', 'int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *str, int optimize, unsigned int netmask)');
        const geterr = m.fn('libpcap.so.0.8', 'char *pcap_geterr(pcap_t *p)');
        const emulated = FILTERS.map((filter) => {
          const r = compile(p, out(16), filter, 1, 0);
          if (r.value !== 0) return `${r.value} ${geterr(p).string}`;
          const view = new DataView(r.out[1]!.buffer);
          const length = view.getUint32(0, true);
          const insns = arch === 'amd64' ? Number(view.getBigUint64(8, true)) : view.getUint32(4, true);
          return `0 ${length} ${Buffer.from(m.read(insns, length * 8)).toString('hex')}`;
        });
        expect(emulated).toEqual(native);
        expect(native[0]).toMatch(/^0 20 /); // "tcp port 80" is 20 instructions on x86
      } finally {
        m.close();
      }
    });
  }
});
