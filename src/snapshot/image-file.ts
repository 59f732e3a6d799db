/**
 * The on-disk form of a booted machine's snapshot:
 *
 *     "SHIMIMG\n"  format version (u32 LE)  key length (u32)  key (UTF-8 JSON)  body length (u32)  checksum  body
 *     body = JSON length (u32)  JSON  blobs
 *
 * The JSON is the snapshot's plain data, with bigints as {"$big": "…"}, byte arrays as {"$bin": [offset, length]} into
 * the blobs (guest pages are stored raw: restoring reads them in place) and undefined as {"$u": 1}. Anything wrong
 * — magic, version, key, lengths, checksum, JSON — is an ImageFormatError: the cache then boots afresh.
 */
import { checksum, CHECKSUM_BYTES } from './checksum.ts';
import { ImageFormatError, SnapshotUnsupportedError } from './errors.ts';
import { type HostCallState, MachineSnapshot } from './machine-snapshot.ts';
import type { ProcessSnapshot } from './process-state.ts';

const MAGIC = Buffer.from('SHIMIMG\n');
/** Bumped whenever the snapshot's data changes shape. */
export const IMAGE_FORMAT_VERSION = 1;
const U32 = 4;

interface ImageBody {
  process: ProcessSnapshot;
  host: HostCallState;
}

export function encodeImage(snapshot: MachineSnapshot, key: string): Buffer {
  if (snapshot.callbacks.entries.length > 0) throw new SnapshotUnsupportedError('a machine with live callbacks cannot be written to disk (its callbacks are JavaScript functions)');
  const blobs: Uint8Array[] = [];
  let blobBytes = 0;
  const body: ImageBody = { process: snapshot.process.state, host: snapshot.host };
  const json = Buffer.from(JSON.stringify(body, function (this: unknown, name: string, value: unknown) {
    // `this[name]` is the value before toJSON: Uint8Array has none, but Buffer does.
    const raw = (this as Record<string, unknown>)[name];
    if (raw instanceof Uint8Array) {
      blobs.push(raw);
      blobBytes += raw.length;
      return { $bin: [blobBytes - raw.length, raw.length] };
    }
    if (typeof value === 'bigint') return { $big: value.toString() };
    if (value === undefined && name !== '') return { $u: 1 };
    return value;
  }));
  const bodyBytes = Buffer.concat([u32(json.length), json, ...blobs]);
  const keyBytes = Buffer.from(key);
  return Buffer.concat([
    MAGIC, u32(IMAGE_FORMAT_VERSION), u32(keyBytes.length), keyBytes, u32(bodyBytes.length),
    checksum(bodyBytes), bodyBytes,
  ]);
}

/** Reads an image written for `key`; `owner` becomes the snapshot's owner (the BootOptions it is used for). */
export function decodeImage(file: Buffer, key: string, owner: object): MachineSnapshot {
  const reader = new Reader(file);
  if (!reader.bytes(MAGIC.length).equals(MAGIC)) throw new ImageFormatError('not a shimulator boot image (bad magic)');
  const version = reader.u32();
  if (version !== IMAGE_FORMAT_VERSION) throw new ImageFormatError(`boot image format ${version}, this shimulator reads ${IMAGE_FORMAT_VERSION}`);
  if (reader.bytes(reader.u32()).toString() !== key) throw new ImageFormatError('the boot image was made for other boot options or another build');
  const bodyLength = reader.u32();
  const expected = reader.bytes(CHECKSUM_BYTES);
  const body = reader.bytes(bodyLength);
  if (reader.remaining !== 0) throw new ImageFormatError('the boot image has trailing bytes');
  if (!checksum(body).equals(expected)) throw new ImageFormatError('the boot image is corrupt (checksum mismatch)');
  const inner = new Reader(body);
  const json = inner.bytes(inner.u32()).toString();
  const blobs = body.subarray(inner.offset);
  let parsed: ImageBody;
  try {
    parsed = JSON.parse(json, (_name, value: unknown) => revive(value, blobs)) as ImageBody;
  } catch (error) {
    throw new ImageFormatError(`the boot image's data is unreadable (${(error as Error).message})`);
  }
  if (!parsed?.process?.memory || !parsed.host?.callCpu) throw new ImageFormatError('the boot image lacks its process or host state');
  return new MachineSnapshot(parsed.process, parsed.host, { entries: [], invocations: 0 }, owner);
}

function revive(value: unknown, blobs: Buffer): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const tagged = value as { $big?: string; $bin?: [number, number]; $u?: number };
  if (tagged.$big !== undefined) return BigInt(tagged.$big);
  if (tagged.$u !== undefined) return undefined;
  if (tagged.$bin) {
    const [offset, length] = tagged.$bin;
    if (!(offset >= 0 && length >= 0 && offset + length <= blobs.length)) throw new ImageFormatError('a byte array lies outside the image');
    // A view, not a copy: the pages are copied once, into guest memory.
    return new Uint8Array(blobs.buffer, blobs.byteOffset + offset, length);
  }
  return value;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(U32);
  b.writeUInt32LE(n);
  return b;
}

class Reader {
  offset = 0;
  constructor(private readonly data: Buffer) {}

  get remaining(): number {
    return this.data.length - this.offset;
  }

  bytes(n: number): Buffer {
    if (n > this.remaining) throw new ImageFormatError('the boot image is truncated');
    this.offset += n;
    return this.data.subarray(this.offset - n, this.offset);
  }

  u32(): number {
    return this.bytes(U32).readUInt32LE();
  }
}
