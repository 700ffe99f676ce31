// One build script for every bundle: the extension host, the engine process, the CLI, the webviews and test bundles.
// Usage: node esbuild.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// Node bundles keep their identifiers even in production: the threaded-wasm start-up shim (engine/backend.ts) looks
// up bundle-internal names (require$$0, commonjsGlobal) in the worker script.
const node = {
  bundle: true, platform: 'node', format: 'cjs', target: 'node20', sourcemap: !production,
  minifyWhitespace: production, minifySyntax: production,
  external: ['vscode', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'webgpu', '@tensorflow/tfjs-backend-webgpu'],
  logLevel: 'warning',
};
const web = { bundle: true, platform: 'browser', format: 'iife', target: 'es2022', sourcemap: !production, minify: production, logLevel: 'warning' };

const entries = [
  { ...node, entryPoints: { extension: 'extension/extension.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { cli: 'engine/cli.ts' }, outdir: 'dist' },
  // The trainer's data-parallel helper thread (engine/train/data-parallel.ts starts it from beside the bundle).
  { ...node, entryPoints: { 'micro-batch-worker': 'engine/train/micro-batch-worker.ts' }, outdir: 'dist' },
];
if (existsSync(path.join(root, 'engine/server.ts'))) entries.push({ ...node, entryPoints: { engine: 'engine/server.ts' }, outdir: 'dist' });
if (existsSync(path.join(root, 'test/vscode/index.ts'))) entries.push({ ...node, entryPoints: { 'test/vscode/index': 'test/vscode/index.ts' }, outdir: 'dist', external: [...node.external, 'mocha'] });
const webEntries = existsSync(path.join(root, 'webview'))
  ? readdirSync(path.join(root, 'webview')).filter((f) => /^[a-z-]+\.main\.ts$/.test(f)).map((f) => [f.replace('.main.ts', ''), `webview/${f}`])
  : [];
if (webEntries.length) entries.push({ ...web, entryPoints: Object.fromEntries(webEntries), outdir: 'dist/webview' });

// The wasm backend loads its .wasm binaries at run time: ship them beside the bundles.
function copyWasm() {
  const src = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
  const dst = path.join(root, 'dist/wasm');
  mkdirSync(dst, { recursive: true });
  for (const f of readdirSync(src).filter((f) => f.endsWith('.wasm'))) cpSync(path.join(src, f), path.join(dst, f));
}

// The charts' PNG renderer (engine/paper/figures/png.ts) loads resvg's .wasm and its one font from beside the bundles.
function copyFigureAssets() {
  mkdirSync(path.join(root, 'dist/wasm'), { recursive: true });
  mkdirSync(path.join(root, 'dist/fonts'), { recursive: true });
  cpSync(path.join(root, 'node_modules/@resvg/resvg-wasm/index_bg.wasm'), path.join(root, 'dist/wasm/resvg.wasm'));
  cpSync(path.join(root, 'node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf'), path.join(root, 'dist/fonts/DejaVuSans.ttf'));
  cpSync(path.join(root, 'node_modules/dejavu-fonts-ttf/LICENSE'), path.join(root, 'dist/fonts/DejaVuSans-LICENSE.txt'));
}

if (watch) {
  for (const e of entries) await (await esbuild.context(e)).watch();
  copyWasm();
  copyFigureAssets();
  console.log('watching…');
} else {
  const t0 = Date.now();
  await Promise.all(entries.map((e) => esbuild.build(e)));
  copyWasm();
  copyFigureAssets();
  console.log(`built ${entries.length} bundle groups in ${Date.now() - t0} ms${production ? ' (production)' : ''}`);
}
