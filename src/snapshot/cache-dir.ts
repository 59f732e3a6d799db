/** Where shimulator keeps what it caches between processes: booted images, and the native helper it builds. */
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** `$XDG_CACHE_HOME/shimulator` (an absolute XDG_CACHE_HOME only, as the XDG spec says), else `~/.cache/shimulator`. */
export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.startsWith('/') ? xdg : join(homedir(), '.cache'), 'shimulator');
}

/** Deletes all but the `keep` most recently modified files of `dir` whose names end with `suffix`. */
export function keepNewest(dir: string, suffix: string, keep: number): void {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith(suffix))
    .map((name) => {
      const path = join(dir, name);
      try {
        return { path, used: statSync(path).mtimeMs };
      } catch {
        return undefined; // removed meanwhile by another process
      }
    })
    .filter((file) => file !== undefined)
    .sort((a, b) => b.used - a.used);
  for (const file of files.slice(keep)) {
    try {
      unlinkSync(file.path);
    } catch {
      // already gone (another process removed it): nothing to do
    }
  }
}
