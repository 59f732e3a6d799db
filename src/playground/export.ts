/**
 * `exportLesson(id, outDir)`: a self-contained static site for one lesson (or 'all'), served by any static file
 * server with no API behind it:
 *
 *   index.html     web/index.html; the import-map marker replaced by an (empty) import map, the lesson data as
 *                  `<script>window.SHIMULATOR_STATIC = {…}</script>` before the module script, and the module
 *                  script pointed at the bundle
 *   main.js        web/main.ts bundled by esbuild with lit, pako and capstone-js (plus main.css if it imports CSS)
 *   capstone.wasm  next to main.js, where the capstone module looks for it
 *   web/…          the UI's other static files (css, images), for links in index.html
 *
 * `window.SHIMULATOR_STATIC` is `{ version: 1, info: <GET /api/info>, lessons: [<GET /api/lessons/<id>>, …] }`.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { capstoneModule, IMPORTMAP_MARKER, importMapScript, NODE_MODULES_DIRS, packageDir, PROJECT_ROOT, tsconfigRaw } from './assets.ts';
import { info } from './api.ts';
import { lesson, LESSONS, LessonNotFoundError } from './lessons.ts';

export interface ExportOptions {
  /** The UI folder (default: the project's web/). */
  webDir?: string;
  /** Minify the bundle (default true). */
  minify?: boolean;
}

export const STATIC_FORMAT_VERSION = 1;

/** Resolves `@alexaltea/capstone-js` to the generated ES module (see assets.ts capstoneModule). */
const capstonePlugin: Plugin = {
  name: 'shimulator-capstone-esm',
  setup(b) {
    b.onResolve({ filter: /^@alexaltea\/capstone-js$/ }, () => ({ path: 'capstone.esm.js', namespace: 'shimulator-capstone' }));
    b.onLoad({ filter: /.*/, namespace: 'shimulator-capstone' }, () => ({
      contents: capstoneModule(),
      loader: 'js',
      resolveDir: join(packageDir('@alexaltea/capstone-js'), 'dist'),
    }));
  },
};

/**
 * A UI folder outside the project (tests use one) imports the library as `../src/…` and packages by name, as the
 * dev server maps them: resolve those against the project.
 */
function projectPlugin(webDir: string): Plugin {
  const siblingSrc = resolve(webDir, '..', 'src') + sep;
  return {
    name: 'shimulator-project-paths',
    setup(b) {
      b.onResolve({ filter: /^\.\.?\// }, (args) => {
        if (!args.importer.startsWith(webDir + sep)) return undefined;
        const target = resolve(dirname(args.importer), args.path);
        if (!target.startsWith(siblingSrc)) return undefined;
        return { path: join(PROJECT_ROOT, 'src', target.slice(siblingSrc.length)) };
      });
    },
  };
}

function staticScript(data: unknown): string {
  // `<` escaped so that no string in the data can close the script element.
  return `<script>window.SHIMULATOR_STATIC = ${JSON.stringify(data).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')};</script>`;
}

/** web/index.html → the static page: bundle instead of main.ts, no server import map, the lesson data inlined. */
function staticHtml(html: string, data: unknown, css: boolean): string {
  let page = html.includes(IMPORTMAP_MARKER)
    ? html.replace(IMPORTMAP_MARKER, importMapScript({ imports: {} }))
    : html;
  const moduleScript = /<script\b[^>]*type=["']module["'][^>]*><\/script>/i;
  const bundleTag = '<script type="module" src="./main.js"></script>';
  const dataTag = staticScript(data);
  const cssTag = css ? '<link rel="stylesheet" href="./main.css">\n' : '';
  if (moduleScript.test(page)) {
    page = page.replace(moduleScript, () => `${cssTag}${dataTag}\n${bundleTag}`);
  } else if (/<\/body>/i.test(page)) {
    page = page.replace(/<\/body>/i, () => `${cssTag}${dataTag}\n${bundleTag}\n</body>`);
  } else {
    page += `\n${cssTag}${dataTag}\n${bundleTag}\n`;
  }
  // Other absolute references to the UI's files become relative to the exported site.
  return page.replace(/(["'(])\/web\//g, '$1./web/');
}

function copyStaticFiles(webDir: string, outDir: string, files: string[]): void {
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const from = join(dir, name);
      if (statSync(from).isDirectory()) {
        walk(from);
      } else if (!/\.(ts|tsx|mts)$/.test(name) && name !== 'index.html') {
        const to = join(outDir, 'web', relative(webDir, from));
        mkdirSync(dirname(to), { recursive: true });
        copyFileSync(from, to);
        files.push(to);
      }
    }
  };
  walk(webDir);
}

/** Exports lesson `id` (or every lesson, for 'all') as a static site into `outDir`; returns the files written. */
export async function exportLesson(id: string, outDir: string, options: ExportOptions = {}): Promise<{ files: string[] }> {
  const webDir = resolve(options.webDir ?? join(PROJECT_ROOT, 'web'));
  const ids = id === 'all' ? LESSONS.map((l) => l.id) : [id];
  if (id !== 'all' && !LESSONS.some((l) => l.id === id)) {
    throw new LessonNotFoundError(`no lesson "${id}" (lessons: ${LESSONS.map((l) => l.id).join(', ')}, or all)`);
  }
  const htmlFile = join(webDir, 'index.html');
  const entry = join(webDir, 'main.ts');
  for (const needed of [htmlFile, entry]) {
    if (!existsSync(needed)) throw new Error(`cannot export: ${needed} does not exist`);
  }
  const lessons = [];
  for (const lessonId of ids) lessons.push(await lesson(lessonId));

  const out = resolve(outDir);
  mkdirSync(out, { recursive: true });
  const result = await build({
    entryPoints: { main: entry },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: out,
    absWorkingDir: PROJECT_ROOT,
    minify: options.minify ?? true,
    sourcemap: false,
    logLevel: 'silent',
    metafile: true,
    tsconfigRaw: tsconfigRaw(),
    nodePaths: NODE_MODULES_DIRS,
    plugins: resolve(webDir) === resolve(PROJECT_ROOT, 'web') ? [capstonePlugin] : [capstonePlugin, projectPlugin(webDir)],
    loader: { '.wasm': 'file', '.png': 'file', '.svg': 'file' },
  });
  const bundleFiles = Object.keys(result.metafile.outputs).map((f) => resolve(PROJECT_ROOT, f));
  const wasm = join(out, 'capstone.wasm');
  copyFileSync(join(packageDir('@alexaltea/capstone-js'), 'dist/capstone.wasm'), wasm);
  copyStaticFiles(webDir, out, bundleFiles);
  const data = { version: STATIC_FORMAT_VERSION, info: info(), lessons };
  const index = join(out, 'index.html');
  writeFileSync(index, staticHtml(readFileSync(htmlFile, 'utf8'), data, existsSync(join(out, 'main.css'))));
  return { files: [index, ...bundleFiles, wasm] };
}
