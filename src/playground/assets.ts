/**
 * Files the playground serves besides the API: the import map for the browser's bare specifiers, the vendored
 * packages it points to (under node_modules), project files (web/, src/) with TypeScript transpiled on the fly,
 * and content types.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform, type TsconfigRaw } from 'esbuild';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The node_modules folders Node searches from this package, nearest first: in a checkout the project's own; in an
 * installed package the dependencies usually sit in an ancestor's (npm hoists them next to shimulator).
 */
export const NODE_MODULES_DIRS: string[] = ancestors(resolve(PROJECT_ROOT)).map((dir) => join(dir, 'node_modules'));

function ancestors(dir: string): string[] {
  const parent = dirname(dir);
  return parent === dir ? [dir] : [dir, ...ancestors(parent)];
}

/** A dependency the playground serves or bundles is not installed (a broken or partial install). */
export class MissingDependencyError extends Error {
  override name = 'MissingDependencyError';
}

/** The folder of an installed dependency (`lit`, `@alexaltea/capstone-js`), found as Node would find it. */
export function packageDir(name: string): string {
  const found = NODE_MODULES_DIRS.map((dir) => join(dir, name)).find((dir) => existsSync(join(dir, 'package.json')));
  if (found === undefined) throw new MissingDependencyError(`the dependency ${name} is not installed next to shimulator: run \`npm install\``);
  return found;
}
/** Where the HTML marker for the import map sits in web/index.html. */
export const IMPORTMAP_MARKER = '<!-- shimulator:importmap -->';

/** Packages the browser may load from /vendor/, with their browser ESM entry (relative to the package). */
export const VENDOR_PACKAGES: Record<string, { entry: string; subpaths: boolean }> = {
  lit: { entry: 'index.js', subpaths: true },
  'lit-html': { entry: 'lit-html.js', subpaths: true },
  'lit-element': { entry: 'index.js', subpaths: true },
  '@lit/reactive-element': { entry: 'reactive-element.js', subpaths: true },
  pako: { entry: 'dist/pako.esm.mjs', subpaths: false },
  // capstone-js ships a UMD script only; /vendor serves an ES module made from it (see capstoneModule).
  '@alexaltea/capstone-js': { entry: 'dist/capstone.esm.js', subpaths: false },
};

/** The generated ES module of capstone-js (not a file in the package). */
export const CAPSTONE_ESM = 'dist/capstone.esm.js';

/** The import map for the dev server: every bare specifier the UI and src/trace use → /vendor/…. */
export function importMap(base = '/vendor/'): { imports: Record<string, string> } {
  const imports: Record<string, string> = {};
  for (const [name, { entry, subpaths }] of Object.entries(VENDOR_PACKAGES)) {
    imports[name] = `${base}${name}/${entry}`;
    if (subpaths) imports[`${name}/`] = `${base}${name}/`;
  }
  return { imports };
}

/** `<script type="importmap">` for an import map (escaped for embedding in HTML). */
export function importMapScript(map: { imports: Record<string, string> }): string {
  return `<script type="importmap">${JSON.stringify(map, null, 2).replace(/</g, '\\u003c')}</script>`;
}

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.ts': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

export function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** A request path that cannot be served (traversal, outside the allowed folders). */
export class ForbiddenPathError extends Error {
  override name = 'ForbiddenPathError';
}

/**
 * Resolves a URL path below `root` (already stripped of its route prefix). Refuses `..` segments, backslashes,
 * NUL bytes and anything that would resolve outside `root`.
 */
export function safeJoin(root: string, relative: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    throw new ForbiddenPathError('malformed URL encoding');
  }
  if (decoded.includes('\0') || decoded.includes('\\')) throw new ForbiddenPathError('invalid characters in path');
  const segments = decoded.split('/');
  if (segments.some((s) => s === '..')) throw new ForbiddenPathError('".." is not allowed in paths');
  const base = resolve(root);
  const full = resolve(base, `.${sep}${segments.filter((s) => s !== '' && s !== '.').join(sep)}`);
  if (full !== base && !full.startsWith(base + sep)) throw new ForbiddenPathError('path outside the served folder');
  return full;
}

/** Which vendor package a /vendor/<rest> path belongs to, and the path inside it. */
export function vendorFile(rest: string): { name: string; file: string; inner: string } {
  const name = Object.keys(VENDOR_PACKAGES)
    .sort((a, b) => b.length - a.length)
    .find((n) => rest === n || rest.startsWith(`${n}/`));
  if (!name) throw new ForbiddenPathError(`not a vendored package: /vendor/${rest} (served: ${Object.keys(VENDOR_PACKAGES).join(', ')})`);
  const inner = rest.slice(name.length + 1);
  return { name, inner, file: safeJoin(packageDir(name), inner) };
}

let capstoneCache: { mtimeMs: number; code: string } | undefined;

/**
 * capstone-js as an ES module: its emscripten script with `export default MCapstone`, finding capstone.wasm
 * next to the module itself (import.meta.url) instead of relative to the page, and without its CommonJS/AMD
 * export tail. The Node branch (`require("node:fs")`) is never taken in a browser and is disabled so bundlers
 * do not try to resolve it.
 */
export function capstoneModule(): string {
  const path = join(packageDir('@alexaltea/capstone-js'), 'dist/capstone.js');
  const mtimeMs = statSync(path).mtimeMs;
  if (capstoneCache?.mtimeMs === mtimeMs) return capstoneCache.code;
  let code = readFileSync(path, 'utf8');
  const replaceOnce = (from: string, to: string) => {
    if (!code.includes(from)) throw new Error(`capstone-js changed: "${from}" not found in ${path}`);
    code = code.replace(from, to);
  };
  replaceOnce('globalThis.document?.currentScript?.src', 'import.meta.url');
  replaceOnce('require("node:fs")', 'undefined');
  const tail = code.lastIndexOf('if(typeof exports==="object"&&typeof module==="object")');
  if (tail < 0) throw new Error(`capstone-js changed: its export tail was not found in ${path}`);
  code = `${code.slice(0, tail)}\nexport default MCapstone;\n`;
  capstoneCache = { mtimeMs, code };
  return code;
}

/** The TypeScript options esbuild needs from the project's tsconfig (decorators, class fields). */
export function tsconfigRaw(): TsconfigRaw {
  try {
    const config = JSON.parse(readFileSync(join(PROJECT_ROOT, 'tsconfig.json'), 'utf8')) as { compilerOptions?: Record<string, unknown> };
    const o = config.compilerOptions ?? {};
    const picked: Record<string, unknown> = {};
    for (const key of ['experimentalDecorators', 'useDefineForClassFields', 'jsx', 'jsxFactory', 'jsxFragmentFactory', 'jsxImportSource']) {
      if (o[key] !== undefined) picked[key] = o[key];
    }
    return { compilerOptions: picked } as TsconfigRaw;
  } catch {
    return {};
  }
}

const transpiled = new Map<string, { mtimeMs: number; code: string }>();

/** A .ts file as browser JavaScript (ESM, ES2022, inline source map); cached by modification time. */
export async function transpile(file: string, urlPath: string): Promise<string> {
  const mtimeMs = statSync(file).mtimeMs;
  const cached = transpiled.get(file);
  if (cached?.mtimeMs === mtimeMs) return cached.code;
  const source = readFileSync(file, 'utf8');
  const result = await transform(source, {
    loader: 'ts',
    format: 'esm',
    target: 'es2022',
    sourcemap: 'inline',
    sourcefile: urlPath,
    tsconfigRaw: tsconfigRaw(),
  });
  transpiled.set(file, { mtimeMs, code: result.code });
  return result.code;
}
