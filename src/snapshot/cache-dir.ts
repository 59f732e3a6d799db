/** Where shimulator keeps what it caches between processes: booted images, and the native helper it builds. */
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_CACHE_HOME/shimulator` (an absolute XDG_CACHE_HOME only, as the XDG spec says), else `~/.cache/shimulator`. */
export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'shimulator');
}
