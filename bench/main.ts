/**
 * `npm run bench` (run through tsx: the benchmark is a development tool and is not part of the package). It times
 * the CLI start of the compiled package first, in fresh processes, then everything else in this process.
 */
import { runBench } from './bench.ts';

process.exitCode = await runBench((line) => process.stdout.write(`${line}\n`));
