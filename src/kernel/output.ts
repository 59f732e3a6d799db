/**
 * Where the guest's stdout and stderr go. The host gives an OutputSink per stream (a command-line `run` streams
 * it to its own stdout as the guest writes); by default a CapturedOutput keeps a bounded copy for
 * `Machine.stdout`/`takeOutput`. Either way the total is bounded (`outputLimit`): a runaway guest printing in a
 * loop ends with an OutputLimitError instead of exhausting the host's memory.
 */

/** Receives the bytes the guest writes to one stream, in order, as it writes them. */
export interface OutputSink {
  write(bytes: Uint8Array): void;
}

/** The guest wrote more than `outputLimit` bytes to stdout and stderr together. */
export class OutputLimitError extends Error {
  override name = 'OutputLimitError';
  constructor(readonly limit: number) {
    super(`the guest wrote more than ${limit} bytes to stdout and stderr (the output limit); the run was stopped`);
  }
}

/** Default total output limit (stdout + stderr), in bytes. */
export const DEFAULT_OUTPUT_LIMIT = 64 * 1024 * 1024;
/** Default bytes a CapturedOutput keeps (the most recent ones). */
export const DEFAULT_CAPTURE_BYTES = 16 * 1024 * 1024;

/**
 * Keeps the most recent `capacity` bytes written, in the chunks they were written in (copied: the guest's buffer is
 * reused), and counts every byte so readers can ask for "everything since offset N".
 */
export class CapturedOutput implements OutputSink {
  private chunks: Uint8Array[] = [];
  private kept = 0;
  /** Bytes written in total (including ones dropped to stay within capacity). */
  length = 0;

  constructor(private readonly capacity = DEFAULT_CAPTURE_BYTES) {}

  write(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const copy = bytes.slice(Math.max(0, bytes.length - this.capacity));
    this.chunks.push(copy);
    this.kept += copy.length;
    this.length += bytes.length;
    while (this.kept - this.chunks[0]!.length >= this.capacity) this.kept -= this.chunks.shift()!.length;
  }

  /** What was written, as a snapshot keeps it: the kept bytes and the total count. */
  state(): { bytes: Uint8Array; length: number } {
    return { bytes: this.bytes(this.length - this.kept), length: this.length };
  }

  restoreState(state: { bytes: Uint8Array; length: number }): void {
    this.chunks = state.bytes.length > 0 ? [state.bytes.slice()] : [];
    this.kept = state.bytes.length;
    this.length = state.length;
  }

  /** The kept bytes written at or after offset `from` (of all bytes ever written). */
  bytes(from = 0): Uint8Array {
    const firstKept = this.length - this.kept;
    const skip = Math.max(0, from - firstKept);
    const out = new Uint8Array(Math.max(0, this.kept - skip));
    let at = -skip;
    for (const chunk of this.chunks) {
      if (at + chunk.length > 0) out.set(at < 0 ? chunk.subarray(-at) : chunk, Math.max(0, at));
      at += chunk.length;
    }
    return out;
  }

  text(from = 0): string {
    return new TextDecoder().decode(this.bytes(from));
  }
}
