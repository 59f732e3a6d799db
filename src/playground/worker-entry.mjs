// A playground guest worker (a child process of the server, see pool.ts). Like bin/shimulator.mjs it runs the
// TypeScript sources through tsx; the loader is registered here because a child process does not inherit the
// parent's in-process registration.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
