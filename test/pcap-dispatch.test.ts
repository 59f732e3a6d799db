/**
 * libpcap calling TypeScript: pcap_dispatch over a capture file written by shimulator's own writer, with a
 * per-packet callback counting packets and bytes, unfiltered and with a BPF filter, on both architectures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES } from '../src/emu/arch.ts';
import { ethernetFrame, writePcapFile } from '../src/capture/pcap-file.ts';
import { structLayout } from '../src/callspec/layout.ts';
import { out } from '../src/callspec/values.ts';
import { Machine } from '../src/machine.ts';

const CAPTURE_PATH = '/data/sample.pcap';
const DECLS = `
struct timeval { long tv_sec; long tv_usec; };
struct pcap_pkthdr { struct timeval ts; bpf_u_int32 caplen; bpf_u_int32 len; };
struct bpf_insn { unsigned short code; unsigned char jt; unsigned char jf; bpf_u_int32 k; };
struct bpf_program { unsigned int bf_len; struct bpf_insn *bf_insns; };
`;
const HANDLER = 'void (*)(unsigned char *user, const struct pcap_pkthdr *h, const unsigned char *bytes)';

/** 12 packets: TCP to port 80 (every third), TCP to 443, UDP to 53; payloads of growing size. */
const PACKETS = Array.from({ length: 12 }, (_, i) => {
  const kind = i % 3;
  const frame = ethernetFrame({
    protocol: kind === 2 ? 'udp' : 'tcp',
    source: `10.0.0.${i + 1}`,
    destination: '192.168.1.10',
    sourcePort: 40000 + i,
    destinationPort: kind === 0 ? 80 : kind === 1 ? 443 : 53,
    payload: new Uint8Array(10 * i).fill(0x41 + i),
  });
  return { seconds: 1_767_225_600 + i, microseconds: 1000 * i, data: frame };
});
const CAPTURE = writePcapFile(PACKETS);

describe.each(ARCHES)('pcap_dispatch with a TypeScript callback on %s', (arch) => {
  let m: Machine;
  let pcap = 0;
  beforeAll(async () => {
    m = await Machine.boot({ arch, libs: ['libpcap.so.0.8'], files: { [CAPTURE_PATH]: CAPTURE }, decls: DECLS });
    const opened = m.fn('libpcap.so.0.8', 'pcap_t *pcap_open_offline(const char *fname, char *errbuf)')(CAPTURE_PATH, out(256));
    expect(opened.value, new TextDecoder().decode(opened.out[1]).replace(/\0.*$/s, '')).not.toBe(0);
    pcap = opened.value as number;
  });
  afterAll(() => m?.close());

  function countWith(filter?: string): { packets: number; bytes: number; captured: number; seconds: number[] } {
    if (filter) {
      const compile = m.fn('libpcap.so.0.8', 'int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *str, int optimize, bpf_u_int32 netmask)');
      const program = compile(pcap, out(16), filter, 1, 0);
      expect(program.value).toBe(0);
      expect(m.fn('libpcap.so.0.8', 'int pcap_setfilter(pcap_t *p, struct bpf_program *fp)')(pcap, program.out[1]!).value).toBe(0);
    }
    const header = structLayout(m.declarations.parseType('struct pcap_pkthdr'), arch);
    const offset = (name: string) => header.fields.find((f) => f.name === name)!.offset;
    const tally = { packets: 0, bytes: 0, captured: 0, seconds: [] as number[] };
    const handler = m.callback(HANDLER, (_user, h) => {
      const view = new DataView(m.read(h as number, header.size).buffer);
      tally.packets++;
      tally.captured += view.getUint32(offset('caplen'), true);
      tally.bytes += view.getUint32(offset('len'), true);
      tally.seconds.push(view.getUint32(offset('ts'), true)); // tv_sec's low 32 bits (little-endian)
    });
    const dispatched = m.fn('libpcap.so.0.8', 'int pcap_dispatch(pcap_t *p, int cnt, void (*callback)(unsigned char *, const struct pcap_pkthdr *, const unsigned char *), unsigned char *user)')(pcap, -1, handler, null);
    handler.free();
    expect(dispatched.value).toBe(tally.packets);
    return tally;
  }

  it('counts every packet and byte of the file', () => {
    const tally = countWith();
    expect(tally.packets).toBe(PACKETS.length);
    expect(tally.bytes).toBe(PACKETS.reduce((sum, p) => sum + p.data.length, 0));
    expect(tally.captured).toBe(tally.bytes);
    expect(tally.seconds).toEqual(PACKETS.map((p) => p.seconds));
  });

  it('applies a BPF filter compiled by libpcap (only "tcp port 80" packets reach the callback)', async () => {
    // A fresh handle: pcap_dispatch consumed the file above.
    pcap = m.fn('libpcap.so.0.8', 'pcap_t *pcap_open_offline(const char *fname, char *errbuf)')(CAPTURE_PATH, out(256)).value as number;
    const tally = countWith('tcp port 80');
    const expected = PACKETS.filter((_, i) => i % 3 === 0);
    expect(tally.packets).toBe(expected.length);
    expect(tally.bytes).toBe(expected.reduce((sum, p) => sum + p.data.length, 0));
    expect(tally.seconds).toEqual(expected.map((p) => p.seconds));
  });
});
