// The playground server for `npm run bench`'s class load test (class-bench.ts), in a process of its own so that
// its resident memory is the server's alone. Loads the TypeScript sources through tsx, as worker-entry.mjs does.
// argv[2]: the cache directory. IPC: sends { url, token } once listening; answers 'pids' with { pids }.
import { register } from 'tsx/esm/api';

register();
const { startPlayground } = await import('../src/playground/server.ts');
const pg = await startPlayground({ port: 0, cache: { dir: process.argv[2] } });
process.on('message', (message) => {
  if (message === 'pids') process.send({ pids: pg.workerPids(), stats: pg.lessonStats });
});
process.on('disconnect', () => void pg.close().then(() => process.exit(0)));
process.send({ url: pg.url, token: pg.token });
