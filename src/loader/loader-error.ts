/** A process that cannot be loaded or run as asked (a missing file, a wrong architecture, a bad return). */
export class LoaderError extends Error {
  override name = 'LoaderError';
}
