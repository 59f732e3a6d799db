/**
 * The playground server (src/playground): static files and the import map, the JSON API, lessons and the static
 * lesson export. Node only (no browser): the browser side is tested in test/e2e.
 */
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeTrace } from '../src/trace/format.ts';
import { startPlayground, type Playground } from '../src/playground/server.ts';
import { exportLesson } from '../src/playground/export.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const SNPRINTF_ARGS = ['out:64', '64', '%f', 'double:1.5'];

const REAL_UI = join(ROOT, 'web');
const hasRealUi = () => existsSync(join(REAL_UI, 'index.html')) && existsSync(join(REAL_UI, 'main.ts'));

/** A minimal placeholder UI (in a temp dir) that imports what the UI does: lit, src/trace (pako), capstone. */
function placeholderUi(temp: string): string {
  const dir = join(temp, 'web');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), `<!doctype html><html><head><meta charset="utf-8">
<!-- shimulator:importmap -->
</head><body><shim-app></shim-app><script type="module" src="/web/main.ts"></script></body></html>
`);
  writeFileSync(join(dir, 'main.ts'), `import { LitElement, html } from 'lit';
import { customElement } from 'lit/decorators.js';
import { decodeTrace, type Trace } from '../src/trace/format.ts';
import { loadDisassembler } from '../src/trace/disassemble.ts';
void customElement;
export class ShimApp extends LitElement {
  override render() { return html\`<p>\${typeof decodeTrace}</p>\`; }
}
customElements.define('shim-app', ShimApp);
const t: Trace | undefined = undefined;
void t;
void loadDisassembler();
`);
  return dir;
}

let temp: string;
let placeholder: string;
/** The UI the server runs: the real one when it exists, else the placeholder. */
let web: string;
let pg: Playground;

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), 'shimulator-playground-'));
  placeholder = placeholderUi(temp);
  web = hasRealUi() ? REAL_UI : placeholder;
  pg = await startPlayground({ port: 0, webDir: web });
});

afterAll(async () => {
  await pg?.close();
  rmSync(temp, { recursive: true, force: true });
});

async function get(path: string): Promise<{ status: number; type: string; text: string }> {
  const response = await fetch(new URL(path, pg.url));
  return { status: response.status, type: response.headers.get('content-type') ?? '', text: await response.text() };
}

async function post(path: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const response = await fetch(new URL(path, pg.url), {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-shimulator-token': pg.token }, body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

/** A request with the path and headers sent exactly as written (fetch normalises `..` away and will not set Host). */
function rawRequest(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: pg.port, path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

async function rawGet(path: string): Promise<number> {
  return (await rawRequest(path)).status;
}

const JS = /^(text|application)\/javascript/;

describe('who may talk to the server', () => {
  const strlenCall = JSON.stringify({ arch: 'amd64', prototype: 'unsigned long strlen(const char *s)', args: ['hello'] });
  const jsonPost = (headers: Record<string, string>) =>
    rawRequest('/api/call', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: strlenCall });

  it('refuses other Host names (DNS rebinding) with 403 and a JSON error, for pages and the API', async () => {
    for (const path of ['/', '/api/info']) {
      const r = await rawRequest(path, { headers: { host: `evil.example:${pg.port}` } });
      expect(r.status, path).toBe(403);
      expect((JSON.parse(r.text) as { error: string }).error).toMatch(/Host "evil\.example:\d+" is not this playground/);
    }
    expect((await rawRequest('/api/info', { headers: { host: 'evil.example' } })).status).toBe(403);
    for (const host of [`127.0.0.1:${pg.port}`, `localhost:${pg.port}`, `[::1]:${pg.port}`]) {
      expect((await rawRequest('/', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('refuses cross-origin requests, and API POSTs without the token; the page carries the token', async () => {
    const evil = await jsonPost({ origin: 'http://evil.example', 'x-shimulator-token': pg.token });
    expect(evil.status).toBe(403);
    expect(evil.text).toContain('cross-origin');
    expect((await rawRequest('/api/info', { headers: { origin: 'http://evil.example' } })).status).toBe(403);
    const noToken = await jsonPost({});
    expect(noToken.status).toBe(403);
    expect(noToken.text).toContain('token');
    expect((await jsonPost({ 'x-shimulator-token': 'wrong' })).status).toBe(403);
    expect((await jsonPost({ origin: `http://localhost:${pg.port}`, 'x-shimulator-token': pg.token })).status).toBe(200);
    const page = await get('/');
    expect(page.text).toContain(`<meta name="shimulator-token" content="${pg.token}">`);
  });
});

describe('static files', () => {
  it('serves index.html with an import map whose every URL loads as JavaScript', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.text).not.toContain('<!-- shimulator:importmap -->');
    const match = /<script type="importmap">([\s\S]*?)<\/script>/.exec(page.text);
    expect(match).not.toBeNull();
    const imports = (JSON.parse(match![1]!) as { imports: Record<string, string> }).imports;
    for (const name of ['lit', 'lit/', 'lit-html', 'lit-html/', 'lit-element', 'lit-element/', '@lit/reactive-element', '@lit/reactive-element/', 'pako', '@alexaltea/capstone-js']) {
      expect(imports[name], name).toBeDefined();
    }
    // Prefix entries: a file every prefix must reach (what lit's own modules and the UI import).
    const samples: Record<string, string> = {
      'lit/': 'decorators.js', 'lit-html/': 'directives/repeat.js', 'lit-element/': 'lit-element.js', '@lit/reactive-element/': 'css-tag.js',
    };
    for (const [specifier, url] of Object.entries(imports)) {
      const target = specifier.endsWith('/') ? `${url}${samples[specifier]}` : url;
      const r = await get(target);
      expect(r.status, target).toBe(200);
      expect(r.type, target).toMatch(JS);
    }
    const capstone = await get(imports['@alexaltea/capstone-js']!);
    expect(capstone.text).toContain('export default MCapstone');
    expect(capstone.text).not.toContain('require("node:fs")');
    await transform(capstone.text, { loader: 'js', format: 'esm' }); // parses as a module
    const pako = await get(imports.pako!);
    expect(pako.text).toMatch(/export \{[^}]*pako as default/);
  });

  it('serves capstone.wasm next to the capstone module, as application/wasm', async () => {
    const response = await fetch(new URL('/vendor/@alexaltea/capstone-js/dist/capstone.wasm', pg.url));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/wasm');
    const bytes = new Uint8Array(await response.arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]);
  });

  it('transpiles .ts files under /web and /src to JavaScript', async () => {
    for (const path of ['/web/main.ts', '/src/trace/format.ts', '/src/trace/player.ts']) {
      const r = await get(path);
      expect(r.status, path).toBe(200);
      expect(r.type, path).toMatch(JS);
      expect(r.text, path).toContain('sourceMappingURL=data:application/json');
      expect(r.text, path).not.toMatch(/^\s*import type /m);
    }
    const format = await get('/src/trace/format.ts');
    expect(format.text).toMatch(/import pako from "pako"/);
    expect(format.text).not.toMatch(/: Uint8Array\)/); // type annotations are gone
  });

  it('rejects path traversal and files outside the served folders', async () => {
    for (const path of ['/web/..%2f..%2fpackage.json', '/src/%2e%2e%2fpackage.json', '/vendor/lit/..%2f..%2fpackage.json', '/vendor/koffi/package.json', '/web/..\\package.json']) {
      const status = await rawGet(path);
      expect(status, path).toBeGreaterThanOrEqual(400);
    }
    for (const path of ['/web/../package.json', '/src/../../etc/passwd', '/package.json', '/node_modules/lit/index.js']) {
      expect(await rawGet(path), path).toBe(404);
    }
  });
});

describe('API', () => {
  it('GET /api/info', async () => {
    const r = await get('/api/info');
    expect(JSON.parse(r.text)).toMatchObject({ arches: ['amd64', 'i386'], libraries: ['libc.so.6', 'libpcap.so.0.8'] });
  });

  it('GET /api/catalog finds snprintf, and lists popular functions first', async () => {
    const found = JSON.parse((await get('/api/catalog?q=snprintf&limit=5')).text) as { entries: any[] };
    expect(found.entries[0]).toMatchObject({
      name: 'snprintf', library: 'libc.so.6', header: 'stdio.h', variadic: true,
      params: [{ name: 'str', type: 'char *', kind: 'string' }, { name: 'size', kind: 'int' }, { name: 'format', type: 'const char *', kind: 'string' }],
    });
    expect(found.entries.length).toBeLessThanOrEqual(5);
    const first = JSON.parse((await get('/api/catalog?q=&limit=10')).text) as { entries: any[] };
    expect(first.entries.map((e) => e.name).slice(0, 7)).toEqual(['snprintf', 'printf', 'strlen', 'open', 'qsort', 'pcap_lib_version', 'pcap_compile']);
    const qsort = first.entries.find((e) => e.name === 'qsort');
    expect(qsort.params.at(-1).kind).toBe('function');
    expect((await get('/api/catalog?limit=zero')).status).toBe(400);
  });

  it('POST /api/plan: amd64 puts the variadic double in xmm0 with %al = 1; i386 uses the stack', async () => {
    const amd64 = await post('/api/plan', { arch: 'amd64', prototype: SNPRINTF, args: SNPRINTF_ARGS });
    expect(amd64.status).toBe(200);
    const arg4 = amd64.json.spec.args[3];
    expect(arg4.locations).toEqual([expect.objectContaining({ kind: 'reg', reg: 'xmm0' })]);
    expect(amd64.json.spec.al).toBe(1);
    expect(amd64.json.table).toContain('xmm0');
    for (const arg of amd64.json.spec.args) expect(amd64.json.explanations[arg.explain], arg.explain).toEqual(expect.any(String));
    expect(arg4.explain).toBe('amd64-sse');
    expect(Object.keys(amd64.json.explanations)).toEqual(expect.arrayContaining(['amd64-integer', 'amd64-sse', 'al']));

    const i386 = await post('/api/plan', { arch: 'i386', prototype: SNPRINTF, args: SNPRINTF_ARGS });
    expect(i386.json.spec.args[3].locations).toEqual([expect.objectContaining({ kind: 'stack', stackOffset: 12 })]);
    expect(i386.json.spec.al).toBeUndefined();
    expect(i386.json.spec.args.every((a: any) => a.explain === 'i386-stack')).toBe(true);

    const sret = await post('/api/plan', { arch: 'i386', prototype: 'struct big f(double x)', decls: 'struct big { long a, b, c; };' });
    expect(sret.json.spec.ret.explain).toBe('hidden-pointer');
    expect(sret.json.explanations['hidden-pointer']).toContain('ret $4');
  });

  it('POST /api/call records snprintf("%f", 1.5) with the CLI\'s JSON result, a decodable trace and labels', async () => {
    const r = await post('/api/call', { arch: 'amd64', prototype: SNPRINTF, args: SNPRINTF_ARGS });
    expect(r.status).toBe(200);
    const { result, spec, trace, symbols } = r.json;
    expect(result).toMatchObject({ id: null, arch: 'amd64', function: 'snprintf', return: 8, errno: 0, out: { 0: '1.500000' } });
    expect(result.abi).toEqual({ ok: true, violations: [] });
    expect(result.tls.accesses).toContainEqual(expect.objectContaining({ segmentOffset: 'fs:0x28' }));
    expect(spec.al).toBe(1);
    const decoded = decodeTrace(Buffer.from(trace as string, 'base64'));
    expect(decoded.steps).toBe(result.instructions);
    expect(decoded.arch).toBe('amd64');
    expect(Object.values(symbols)).toEqual(expect.arrayContaining(['snprintf', 'trampoline']));
    expect(symbols[`0x${decoded.runs[0]!.begin.toString(16)}`]).toBe('trampoline');
  });

  it('POST /api/call on i386, and the same call twice executes the same instructions', async () => {
    const body = { arch: 'i386', library: 'libc.so.6', prototype: SNPRINTF, args: SNPRINTF_ARGS };
    const [a, b] = [await post('/api/call', body), await post('/api/call', body)];
    expect(a.json.result).toMatchObject({ arch: 'i386', return: 8, out: { 0: '1.500000' }, abi: { ok: true } });
    expect(a.json.spec.args[3].explain).toBe('i386-stack');
    // (Byte-identical traces need identically prepared machines: a write's old bytes are what earlier calls left.)
    const [ta, tb] = [a, b].map((r) => decodeTrace(Buffer.from(r.json.trace as string, 'base64')));
    expect(ta!.steps).toBe(tb!.steps);
    expect(ta!.pc.join(',') === tb!.pc.join(',')).toBe(true);
  });

  it('answers bad requests with 400 and a clear message, and keeps working', async () => {
    const badProto = await post('/api/call', { arch: 'amd64', prototype: 'int snprintf(char *buf', args: [] });
    expect(badProto.status).toBe(400);
    expect(badProto.json.error).toMatch(/expected|column/);
    const badArch = await post('/api/plan', { arch: 'arm64', prototype: SNPRINTF });
    expect(badArch.status).toBe(400);
    expect(badArch.json.error).toContain('arch');
    const untyped = await post('/api/call', { arch: 'amd64', prototype: SNPRINTF, args: ['out:64', '64', '%f', '1.5'] });
    expect(untyped.status).toBe(400);
    expect(untyped.json.error).toContain('type prefix');
    const unknown = await post('/api/call', { arch: 'amd64', prototype: 'int no_such_function(int x)', args: ['1'] });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toContain('no_such_function');
    const fault = await post('/api/call', { arch: 'amd64', prototype: 'unsigned long strlen(const char *s)', args: ['ptr:16'] });
    expect(fault.status).toBe(400);
    expect(fault.json.error).toMatch(/guest fault/);
    // With the recording up to the fault, for the stepper: strlen ran a few instructions before reading address 16.
    expect(fault.json.partial.fault).toBe(fault.json.error);
    expect(fault.json.partial.spec.function).toBe('strlen');
    expect(fault.json.partial.result.instructions).toBeGreaterThan(5);
    expect(fault.json.partial.trace.length).toBeGreaterThan(100);
    expect(fault.json.partial.result.return).toBeUndefined();
    const notJson = await fetch(new URL('/api/call', pg.url), { method: 'POST', headers: { 'x-shimulator-token': pg.token }, body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toContain('not JSON');
    expect((await get('/api/nothing')).status).toBe(404);
    // The machine is booted again after the fault.
    const after = await post('/api/call', { arch: 'amd64', prototype: 'unsigned long strlen(const char *s)', args: ['hello'] });
    expect(after.json.result.return).toBe(5);
  });
});

/** Compiles `source` into a shared object for `arch` (gcc -m64 / -m32) in the test's temp folder. */
function compileSo(source: string, arch: 'amd64' | 'i386', name: string): Buffer {
  const c = join(temp, `${name}.c`);
  const so = join(temp, `${name}-${arch}.so`);
  writeFileSync(c, source);
  execFileSync('gcc', [arch === 'i386' ? '-m32' : '-m64', '-O1', '-shared', '-fPIC', '-o', so, c]);
  return readFileSync(so);
}

const ADD3_C = 'int add3(int a, int b, int c) { return a + b + c; }\ndouble half(double x) { return x / 2; }\nstatic int hidden(int x) { return x; }\nint (*keep)(int) = hidden;\n';

describe('uploaded shared objects', () => {
  it.each(['amd64', 'i386'] as const)('uploads a %s .so, lists its exports, plans and calls add3 in it', async (arch) => {
    const bytes = compileSo(ADD3_C, arch, 'libadd3');
    const up = await post('/api/upload', { name: 'libadd3.so', data: bytes.toString('base64') });
    expect(up.status).toBe(200);
    expect(up.json).toMatchObject({ id: expect.any(String), name: 'libadd3.so', arch });
    expect(up.json.exports).toContain('add3');
    expect(up.json.exports).toContain('half');
    expect(up.json.exports).not.toContain('hidden');
    expect([...up.json.exports].sort()).toEqual(up.json.exports);

    const planned = await post('/api/plan', { upload: up.json.id, prototype: 'double half(double x)', args: ['3'] });
    expect(planned.status).toBe(200);
    expect(planned.json.spec.arch).toBe(arch);
    expect(planned.json.spec.args[0].locations[0]).toMatchObject(arch === 'amd64' ? { kind: 'reg', reg: 'xmm0' } : { kind: 'stack', stackOffset: 0 });

    const r = await post('/api/call', { upload: up.json.id, prototype: 'int add3(int a, int b, int c)', args: ['1', '2', '39'] });
    expect(r.status).toBe(200);
    expect(r.json.result).toMatchObject({ arch, function: 'add3', return: 42, abi: { ok: true, violations: [] } });
    expect(decodeTrace(Buffer.from(r.json.trace, 'base64')).steps).toBe(r.json.result.instructions);

    const other = arch === 'amd64' ? 'i386' : 'amd64';
    const wrong = await post('/api/call', { upload: up.json.id, arch: other, prototype: 'int add3(int a, int b, int c)', args: ['1', '2', '3'] });
    expect(wrong.status).toBe(400);
    expect(wrong.json.error).toContain(`libadd3.so is an ${arch} object`);
  }, 60_000);

  it('refuses what is not an x86 shared object, with a clear message', async () => {
    const text = await post('/api/upload', { name: 'notes.txt', data: Buffer.from('hello, world').toString('base64') });
    expect(text.status).toBe(400);
    expect(text.json.error).toMatch(/notes\.txt is not a usable ELF shared object: not an ELF file/);

    const exe = join(temp, 'exe');
    writeFileSync(`${exe}.c`, 'int main(void) { return 0; }\n');
    execFileSync('gcc', ['-m64', '-no-pie', '-o', exe, `${exe}.c`]);
    const notShared = await post('/api/upload', { name: 'exe', data: readFileSync(exe).toString('base64') });
    expect(notShared.status).toBe(400);
    expect(notShared.json.error).toMatch(/exe is an amd64 ELF executable .*not a shared object/);

    const wrongArch = await post('/api/upload', { name: 'libadd3.so', arch: 'i386', data: compileSo(ADD3_C, 'amd64', 'libadd3').toString('base64') });
    expect(wrongArch.status).toBe(400);
    expect(wrongArch.json.error).toMatch(/libadd3\.so is an amd64 object, not i386/);

    const aarch64 = Buffer.from(compileSo(ADD3_C, 'amd64', 'libadd3'));
    aarch64.writeUInt16LE(183, 18); // e_machine = EM_AARCH64
    const foreign = await post('/api/upload', { name: 'libarm.so', data: aarch64.toString('base64') });
    expect(foreign.status).toBe(400);
    expect(foreign.json.error).toMatch(/libarm\.so .*unsupported machine .*183/);

    expect((await post('/api/upload', { name: '../x.so' })).json.error).toMatch(/"data" is required/);
    const unknown = await post('/api/call', { upload: 'nope', prototype: 'int add3(int a, int b, int c)', args: ['1', '2', '3'] });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toMatch(/no uploaded object with id "nope"/);
  });

  it('never takes host paths: a library path in /api/call is refused', async () => {
    const r = await post('/api/call', { library: '/tmp/libadd3.so', prototype: 'int add3(int a, int b, int c)', args: ['1', '2', '3'] });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/unknown library/);
  });
});

describe('lessons', () => {
  it('lists at least six lessons, and a lesson\'s steps carry recordings', async () => {
    const list = JSON.parse((await get('/api/lessons')).text) as { lessons: { id: string; title: string; summary: string }[] };
    expect(list.lessons.length).toBeGreaterThanOrEqual(6);
    for (const l of list.lessons) expect(l).toEqual({ id: expect.any(String), title: expect.any(String), summary: expect.any(String) });
    const r = await get('/api/lessons/cdecl-vs-sysv');
    expect(r.status).toBe(200);
    const lesson = JSON.parse(r.text) as { steps: any[] };
    expect(lesson.steps.length).toBeGreaterThanOrEqual(2);
    for (const step of lesson.steps) {
      expect(step).toMatchObject({ title: expect.any(String), text: expect.any(String), arch: expect.stringMatching(/^(amd64|i386)$/) });
      expect(step.recording.result.out[0]).toBe('42 1.500000');
      expect(decodeTrace(Buffer.from(step.recording.trace, 'base64')).steps).toBe(step.recording.result.instructions);
    }
    expect((await get('/api/lessons/no-such-lesson')).status).toBe(404);
  });

  it.each([['the placeholder UI', false], ['the real UI (web/)', true]])('exports a lesson as a static site with %s: index.html with the data, a bundle that parses, capstone.wasm', async (_, real) => {
    if (real && !hasRealUi()) return; // web/ not written yet
    const out = join(temp, real ? 'site-real' : 'site-placeholder');
    const { files } = await exportLesson('cdecl-vs-sysv', out, { webDir: real ? REAL_UI : placeholder });
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(files).toContain(join(out, 'index.html'));
    expect(html).toContain('window.SHIMULATOR_STATIC = ');
    expect(html).toContain('src="./main.js"');
    expect(html).not.toContain('/web/main.ts');
    expect(html).not.toContain('<!-- shimulator:importmap -->');
    const data = JSON.parse(/window\.SHIMULATOR_STATIC = (.*?);<\/script>/s.exec(html)![1]!) as { lessons: { id: string; steps: any[] }[] };
    expect(data.lessons.map((l) => l.id)).toEqual(['cdecl-vs-sysv']);
    expect(data.lessons[0]!.steps[0].recording.trace).toEqual(expect.any(String));
    const bundle = readFileSync(join(out, 'main.js'), 'utf8');
    await transform(bundle, { loader: 'js', format: 'esm' }); // throws when it does not parse
    expect(bundle).not.toMatch(/from\s*["'](lit|pako|@alexaltea\/capstone-js)["']/); // everything bundled
    expect(existsSync(join(out, 'capstone.wasm'))).toBe(true);
  });
});
