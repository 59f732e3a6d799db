// A playground guest worker (a child process of the server, see pool.ts) when the server runs from the TypeScript
// sources (in dist/, pool.ts starts worker.js directly): it loads them through tsx, registered here because a child
// process does not inherit the parent's in-process registration.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
