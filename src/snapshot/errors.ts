/** Errors of the snapshot layer: what could not be captured or restored, and what to do about it. */

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

/** The machine holds state a snapshot cannot carry (a pipe, an epoll instance, an ended process). */
export class SnapshotUnsupportedError extends SnapshotError {
  override name = 'SnapshotUnsupportedError';
}

/** A snapshot taken on another architecture, or for another set of libraries, was given to `restore`. */
export class SnapshotMismatchError extends SnapshotError {
  override name = 'SnapshotMismatchError';
}

/** A boot image file is not a valid image of this version (truncated, corrupt, written by another version). */
export class ImageFormatError extends SnapshotError {
  override name = 'ImageFormatError';
}
