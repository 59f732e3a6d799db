/**
 * The package as a user gets it: `npm pack` (whose `prepack` builds dist/), installed into an empty directory,
 * then used the three ways the README promises — `npx shimulator call …`, `import { Machine } from 'shimulator'`
 * in a plain .mjs file, and the types under `tsc --noEmit` in a TypeScript consumer — plus the playground's static
 * export, which must find its browser dependencies where npm put them (hoisted next to shimulator).
 *
 * The install resolves dependencies with --prefer-offline: from npm's cache when the checkout's own `npm install`
 * filled it (a fresh CI clone), from the registry otherwise.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distIsFresh } from '../scripts/build-state.cjs';
import { ROOT, type Run, spawnAsync } from './support/spawn.ts';

const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const NPM = 'npm';
/** Two tsc runs over Node's, koffi's and esbuild's declarations take a minute on a busy 2-core machine. */
const TSC_TIMEOUT_MS = 300_000;

/** What the tarball may hold: each path must match one of these (the `files` list of package.json, checked). */
const ALLOWED = [
  /^package\.json$/, /^README\.md$/, /^bin\/shimulator\.cjs$/,
  /^dist\/[\w/.-]+\.(c?js|d\.ts|d\.ts\.map|h)$/, /^dist\/build-id$/,
  /^src\/[\w/.-]+\.(ts|mjs|h)$/,
  /^web\/[\w/.-]+\.(ts|html)$/,
  /^fixtures\/manifest\.json$/, /^fixtures\/(amd64|i386|debug\/amd64|debug\/i386)\/[\w.+-]+\.gz$/, /^fixtures\/abi\/(manifest\.json|libabi-[\w-]+\.so|lessons\/liblessons-(amd64|i386)\.so)$/,
  /^native\/[\w/.-]+(?<!\.o|\.so)$/, // a native helper's sources, never its built objects
];
/** What it must hold to run: the CLI bundle, the library and its types, both architectures' fixtures, the UI. */
const REQUIRED = [
  'bin/shimulator.cjs', 'dist/build-id', 'dist/bundle/cli.cjs', 'dist/bundle/worker.js', 'dist/index.js', 'dist/index.d.ts', 'dist/check/suite.js',
  'dist/catalog/libc.h', 'dist/trace/capstone-js.d.ts', 'fixtures/manifest.json', 'fixtures/amd64/libc.so.6.gz',
  'fixtures/i386/libc.so.6.gz', 'fixtures/debug/amd64/libc.so.6.syms.gz', 'fixtures/abi/manifest.json', 'web/index.html', 'web/main.ts', 'src/trace/format.ts',
];

function ok(run: Run): string {
  expect(run.stderr.replace(/^npm warn .*\n/gm, ''), `status ${run.status}, stdout:\n${run.stdout}`).toBe('');
  expect(run.status).toBe(0);
  return run.stdout;
}

let dir = '';
let app = '';
let packed: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shim-package-'));
  app = join(dir, 'app');
  mkdirSync(app);
  const pack = await spawnAsync(NPM, ['pack', '--json', '--pack-destination', dir]);
  expect(pack.status, pack.stderr).toBe(0);
  // npm prints the lifecycle scripts' output before the JSON.
  const [info] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[\n'))) as { filename: string; files: { path: string }[] }[];
  packed = info!.files.map((f) => f.path);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const install = await spawnAsync(NPM, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, info!.filename)], { cwd: app });
  expect(install.status, `${install.stdout}${install.stderr}`).toBe(0);
}, 600_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm pack', () => {
  it('holds exactly what the package needs at run time', () => {
    expect(packed.filter((path) => !ALLOWED.some((pattern) => pattern.test(path)))).toEqual([]);
    expect(REQUIRED.filter((path) => !packed.includes(path))).toEqual([]);
    expect(packed.filter((path) => path.startsWith('fixtures/amd64/')).length).toBe(packed.filter((path) => path.startsWith('fixtures/i386/')).length);
  });
});

describe('installed into an empty directory', () => {
  it('needs no TypeScript loader at run time', () => {
    expect(existsSync(join(app, 'node_modules/shimulator/dist/bundle/cli.cjs'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/tsx'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/typescript'))).toBe(false);
  });

  it.each(['amd64', 'i386'])('npx shimulator call --arch %s snprintf', async (arch) => {
    const stdout = ok(await spawnAsync('npx', ['--no', 'shimulator', 'call', '--arch', arch, '--json', SNPRINTF, 'out:64', '64', '%f %d', 'double:1.5', 'int:7'], { cwd: app }));
    expect(JSON.parse(stdout)).toMatchObject({ arch, function: 'snprintf', return: 10, out: { 0: '1.500000 7' } });
  });

  it('npx shimulator with a bad command says so and exits 2', async () => {
    const run = await spawnAsync('npx', ['--no', 'shimulator', 'frobnicate'], { cwd: app });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('unknown command "frobnicate"');
  });

  it("import { Machine } from 'shimulator' in a plain .mjs file boots and calls", async () => {
    writeFileSync(join(app, 'use.mjs'), [
      "import { Machine, out, vararg } from 'shimulator';",
      "for (const arch of ['amd64', 'i386']) {",
      '  const m = await Machine.boot({ arch });',
      `  const r = m.fn('libc.so.6', '${SNPRINTF}')(out(64), 64, '%f %d', vararg.double(2.5), vararg.int(-3));`,
      "  const text = Buffer.from(r.out[0]).toString('latin1').split('\\0')[0];",
      "  console.log(arch, r.value, text, m.fn('libc.so.6', 'int abs(int x)')(-5).value);",
      '  m.close();',
      '}',
    ].join('\n'));
    expect(ok(await spawnAsync(process.execPath, ['use.mjs'], { cwd: app }))).toBe('amd64 11 2.500000 -3 5\ni386 11 2.500000 -3 5\n');
  });

  it('counts natively without a set-up step: the helper is built on first use into the cache directory, once', async () => {
    // An installed package has no build/ (npm runs no install scripts here): the first machine builds native/shimcount.c.
    const cache = join(dir, 'xdg-cache');
    writeFileSync(join(app, 'counting.mjs'), [
      "import { Machine } from 'shimulator';",
      "const m = await Machine.boot({ arch: 'amd64' });",
      'console.log(m.counting.mode, m.counting.fallback ?? "");',
      'm.close();',
    ].join('\n'));
    const env = { ...process.env, XDG_CACHE_HOME: cache };
    expect(ok(await spawnAsync(process.execPath, ['counting.mjs'], { cwd: app, env }))).toBe('native \n');
    const built = readdirSync(join(cache, 'shimulator', 'native')).filter((name) => name.endsWith('.so'));
    expect(built).toHaveLength(1);
    const first = statSync(join(cache, 'shimulator', 'native', built[0]!)).mtimeMs;
    expect(ok(await spawnAsync(process.execPath, ['counting.mjs'], { cwd: app, env }))).toBe('native \n');
    expect(statSync(join(cache, 'shimulator', 'native', built[0]!)).mtimeMs).toBe(first);
  });

  it('its types pass tsc --noEmit (no skipLibCheck) in a TypeScript consumer, and catch a wrong call', async () => {
    writeFileSync(join(app, 'consumer.ts'), [
      "import { Machine, GuestFault, out, vararg, type Arch, type CallResult } from 'shimulator';",
      "const arch: Arch = 'i386';",
      'const m: Machine = await Machine.boot({ arch });',
      `const r: CallResult = m.fn('libc.so.6', '${SNPRINTF}')(out(64), 64, '%f', vararg.double(1.5));`,
      'const count: number = r.instructions;',
      'console.log(count, GuestFault.name);',
      '// @ts-expect-error the architecture is a name, not a number',
      'await Machine.boot({ arch: 64 });',
    ].join('\n'));
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', strict: true, noEmit: true, skipLibCheck: false,
        // Node's own types come from the checkout (a Node library's consumer has @types/node).
        types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')],
      },
      include: ['consumer.ts'],
    }));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    expect(ok(await spawnAsync(process.execPath, [tsc, '-p', '.'], { cwd: app }))).toBe('');
    // The same consumer with a type error fails: the check above is a real one (the libraries' declarations were
    // checked above, so skipLibCheck here).
    writeFileSync(join(app, 'consumer.ts'), "import { Machine } from 'shimulator';\nconst n: string = (await Machine.boot({ arch: 'amd64' })).bootInstructions;\n");
    const bad = await spawnAsync(process.execPath, [tsc, '-p', '.', '--skipLibCheck'], { cwd: app });
    expect(bad.status).not.toBe(0);
    expect(bad.stdout).toContain("Type 'number' is not assignable to type 'string'");
  }, TSC_TIMEOUT_MS);

  it('serves the playground (library and command): a guest call in a worker, the vendored lit, the UI transpiled', async () => {
    writeFileSync(join(app, 'serve.mjs'), `
import { spawn } from 'node:child_process';
import { startPlayground } from 'shimulator';
async function exercise(url, token) {
  const call = await fetch(new URL('/api/call', url), {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-shimulator-token': token },
    body: JSON.stringify({ arch: 'i386', prototype: 'unsigned long strlen(const char *s)', args: ['hello'] }),
  });
  const lit = await fetch(new URL('/vendor/lit/index.js', url));
  const ui = await fetch(new URL('/web/api.ts', url)); // TypeScript with type annotations, served as JavaScript
  const catalog = await fetch(new URL('/api/catalog?q=snprintf', url)); // read from dist/catalog/libc.h
  return [
    call.status, (await call.json()).result?.return, lit.status, ui.status, /: string|import type/.test(await ui.text()) ? 'ts' : 'js',
    catalog.status, (await catalog.text()).includes('int snprintf(') ? 'catalog' : 'no catalog',
  ].join(' ');
}
const pg = await startPlayground({ port: 0 });
console.log('library', await exercise(pg.url, pg.token));
await pg.close();
const child = spawn(process.execPath, ['node_modules/.bin/shimulator', 'playground', '--port', '0', '--no-open'], { stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve) => child.stdout.on('data', (d) => { const m = /(http:\\S+)/.exec(String(d)); if (m) resolve(m[1]); }));
const page = await (await fetch(url)).text();
console.log('command', await exercise(url, /name="shimulator-token" content="([^"]+)"/.exec(page)[1]));
child.kill();
`);
    expect(ok(await spawnAsync(process.execPath, ['serve.mjs'], { cwd: app }))).toBe('library 200 5 200 200 js 200 catalog\ncommand 200 5 200 200 js 200 catalog\n');
  });

  it('exports a lesson as a static site, finding lit and capstone-js where npm hoisted them', async () => {
    const site = join(dir, 'site');
    ok(await spawnAsync('npx', ['--no', 'shimulator', 'export-lesson', 'returns', '--out', site], { cwd: app }));
    for (const file of ['index.html', 'main.js', 'capstone.wasm']) expect(existsSync(join(site, file)), file).toBe(true);
  });
});

describe('dist/ freshness (bin/shimulator.cjs in a checkout runs dist/ only when it is not older than src/)', () => {
  it('is stale without a stamp, fresh after one, stale again when a source changes', () => {
    const root = join(dir, 'checkout');
    mkdirSync(join(root, 'src/sub'), { recursive: true });
    mkdirSync(join(root, 'dist'));
    const source = join(root, 'src/sub/a.ts');
    writeFileSync(source, 'export {};\n');
    const past = new Date(Date.now() - 60_000);
    utimesSync(source, past, past);
    expect(distIsFresh(root)).toBe(false);
    writeFileSync(join(root, 'dist/.stamp'), '');
    expect(distIsFresh(root)).toBe(true);
    const future = new Date(Date.now() + 60_000);
    utimesSync(source, future, future);
    expect(distIsFresh(root)).toBe(false);
  });
});
