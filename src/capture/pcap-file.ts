/**
 * Writes classic libpcap capture files (the format `pcap_open_offline` reads: a 24-byte global header, then a
 * 16-byte record header per packet) and builds simple Ethernet/IPv4/TCP/UDP frames to put in them — enough to
 * drive libpcap's readers and BPF filters with known traffic.
 */

const PCAP_MAGIC_MICROSECONDS = 0xa1b2c3d4;
const PCAP_VERSION_MAJOR = 2;
const PCAP_VERSION_MINOR = 4;
export const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
const DEFAULT_SNAPLEN = 65535;

const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const ETHERNET_HEADER_BYTES = 14;
const IPV4_HEADER_BYTES = 20;
const TCP_HEADER_BYTES = 20;
const UDP_HEADER_BYTES = 8;
const IPV4_VERSION_IHL = 0x45;
const DEFAULT_TTL = 64;
const TCP_DATA_OFFSET_5_WORDS = 5 << 4;
const TCP_FLAG_ACK = 0x10;
const TCP_FLAG_PSH = 0x08;

export interface CapturedPacket {
  /** Seconds and microseconds since the epoch. */
  seconds: number;
  microseconds: number;
  data: Uint8Array;
  /** Length on the wire, when the capture truncated it (defaults to data.length). */
  originalLength?: number;
}

/** Serialises packets as a little-endian, microsecond-resolution pcap file. */
export function writePcapFile(packets: CapturedPacket[], linkType = LINKTYPE_ETHERNET, snaplen = DEFAULT_SNAPLEN): Uint8Array {
  const size = GLOBAL_HEADER_BYTES + packets.reduce((sum, p) => sum + RECORD_HEADER_BYTES + p.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, PCAP_MAGIC_MICROSECONDS, true);
  view.setUint16(4, PCAP_VERSION_MAJOR, true);
  view.setUint16(6, PCAP_VERSION_MINOR, true);
  view.setInt32(8, 0, true); // thiszone: UTC
  view.setUint32(12, 0, true); // sigfigs
  view.setUint32(16, snaplen, true);
  view.setUint32(20, linkType, true);
  let at = GLOBAL_HEADER_BYTES;
  for (const p of packets) {
    view.setUint32(at, p.seconds, true);
    view.setUint32(at + 4, p.microseconds, true);
    view.setUint32(at + 8, p.data.length, true);
    view.setUint32(at + 12, p.originalLength ?? p.data.length, true);
    out.set(p.data, at + RECORD_HEADER_BYTES);
    at += RECORD_HEADER_BYTES + p.data.length;
  }
  return out;
}

export interface FrameOptions {
  protocol: 'tcp' | 'udp';
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
  payload?: Uint8Array;
}

function ipv4Bytes(address: string): number[] {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new RangeError(`not an IPv4 address: ${address}`);
  }
  return parts;
}

/** The Internet checksum (RFC 1071) of an IPv4 header. */
function ipv4Checksum(header: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += (header[i]! << 8) | header[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An Ethernet II frame carrying IPv4 and a TCP or UDP segment (transport checksums left zero). */
export function ethernetFrame(o: FrameOptions): Uint8Array {
  const payload = o.payload ?? new Uint8Array(0);
  const transportBytes = o.protocol === 'tcp' ? TCP_HEADER_BYTES : UDP_HEADER_BYTES;
  const ipLength = IPV4_HEADER_BYTES + transportBytes + payload.length;
  const frame = new Uint8Array(ETHERNET_HEADER_BYTES + ipLength);
  const view = new DataView(frame.buffer);
  frame.set([0x02, 0, 0, 0, 0, 0x02], 0); // destination MAC (locally administered)
  frame.set([0x02, 0, 0, 0, 0, 0x01], 6); // source MAC
  view.setUint16(12, ETHERTYPE_IPV4);

  const ip = ETHERNET_HEADER_BYTES;
  frame[ip] = IPV4_VERSION_IHL;
  view.setUint16(ip + 2, ipLength);
  frame[ip + 8] = DEFAULT_TTL;
  frame[ip + 9] = o.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
  frame.set(ipv4Bytes(o.source), ip + 12);
  frame.set(ipv4Bytes(o.destination), ip + 16);
  view.setUint16(ip + 10, ipv4Checksum(frame.subarray(ip, ip + IPV4_HEADER_BYTES)));

  const transport = ip + IPV4_HEADER_BYTES;
  view.setUint16(transport, o.sourcePort);
  view.setUint16(transport + 2, o.destinationPort);
  if (o.protocol === 'tcp') {
    frame[transport + 12] = TCP_DATA_OFFSET_5_WORDS;
    frame[transport + 13] = TCP_FLAG_ACK | TCP_FLAG_PSH;
    view.setUint16(transport + 14, 0xffff); // window
  } else {
    view.setUint16(transport + 4, UDP_HEADER_BYTES + payload.length);
  }
  frame.set(payload, transport + transportBytes);
  return frame;
}
