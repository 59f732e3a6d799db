/**
 * `shimulator demo` (npm start): boots both architectures on the bundled fixtures and makes the calls a new user
 * should see work — printf-family formatting (needs glibc's TLS), libpcap, errno, and a BPF compile.
 */
import { ARCHES } from '../emu/arch.ts';
import { out, vararg } from '../callspec/values.ts';
import { type CallResult, Machine } from '../machine.ts';

function show(result: CallResult, extra = ''): string {
  const value = typeof result.value === 'bigint' ? result.value.toString() : JSON.stringify(result.value);
  return `= ${value}${extra}   errno ${result.errno}   ${result.instructions} instructions`;
}

function text(bytes: Uint8Array | undefined): string {
  if (!bytes) return '';
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

export async function runDemo(write: (line: string) => void): Promise<number> {
  for (const arch of ARCHES) {
    const started = performance.now();
    const m = await Machine.boot({ arch, libs: ['libpcap.so.0.8'] });
    write(`\n== ${arch}: booted ld.so + libc + libpcap in ${(performance.now() - started).toFixed(0)} ms (${m.bootInstructions} guest instructions)`);

    const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
    const s = snprintf(out(64), 64, '%f %d %s %Lf', vararg.double(1.0), vararg.int(42), vararg.str('ok'), vararg.longdouble(2.5));
    write(`snprintf(buf, 64, "%f %d %s %Lf", 1.0, 42, "ok", 2.5L) ${show(s)}\n    buf = ${JSON.stringify(text(s.out[0]))}`);

    const version = m.fn('libpcap.so.0.8', 'const char *pcap_lib_version(void)')();
    write(`pcap_lib_version() ${show(version)}\n    string = ${JSON.stringify(version.string)}`);

    const open = m.fn('libc.so.6', 'int open(const char *path, int flags, ...)')('/nonexistent/file', 0);
    write(`open("/nonexistent/file", O_RDONLY) ${show(open)}`);

    const pcap = Number(m.fn('libpcap.so.0.8', 'pcap_t *pcap_open_dead(int linktype, int snaplen)')(1, 65535).value);
    const compile = m.fn('libpcap.so.0.8', 'int pcap_compile(pcap_t *p, struct bpf_program *fp, const char *str, int optimize, bpf_u_int32 netmask)');
    const ok = compile(pcap, out(16), 'tcp port 80', 1, 0);
    const bfLen = new DataView(ok.out[1]!.buffer).getUint32(0, true);
    write(`pcap_compile(p, &prog, "tcp port 80", 1, 0) ${show(ok)}\n    bf_len = ${bfLen} BPF instructions`);
    const bad = compile(pcap, out(16), 'tcp port 80 and', 1, 0);
    const message = m.fn('libpcap.so.0.8', 'char *pcap_geterr(pcap_t *p)')(pcap);
    write(`pcap_compile(p, &prog, "tcp port 80 and", 1, 0) ${show(bad)}\n    pcap_geterr = ${JSON.stringify(message.string)}`);
    m.close();
  }
  return 0;
}
