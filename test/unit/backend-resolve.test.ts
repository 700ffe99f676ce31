/**
 * Where the optional backend packages come from: the installation, or directories named explicitly
 * (`--backend-path`, env HRM_LENS_BACKEND_PATH) — never the working directory. The `hrm-lens` command runs in a
 * folder that holds a planted node_modules (a GPU backend package and a `tsx` that each write a marker file when
 * loaded), as a cloned repository could.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-lens-backend-resolve-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A folder whose node_modules holds packages that write `markers/<name>` when they are loaded. */
function plantedFolder(name: string): { dir: string; markers: () => string[] } {
  const dir = path.join(tmp, name);
  const markerDir = path.join(dir, 'markers');
  mkdirSync(markerDir, { recursive: true });
  const plant = (pkg: string, manifest: object, file: string, source: string) => {
    const at = path.join(dir, 'node_modules', ...pkg.split('/'));
    mkdirSync(path.dirname(path.join(at, file)), { recursive: true });
    writeFileSync(path.join(at, 'package.json'), JSON.stringify({ name: pkg, version: '99.0.0', ...manifest }));
    writeFileSync(path.join(at, file), source);
  };
  const mark = (label: string) => `require('node:fs').writeFileSync(${JSON.stringify(path.join(markerDir, label))}, 'loaded');\n`;
  plant('@tensorflow/tfjs-node-gpu', { main: 'index.js' }, 'index.js', mark('tfjs-node-gpu'));
  plant('@tensorflow/tfjs-node', { main: 'index.js' }, 'index.js', mark('tfjs-node'));
  plant('tsx', { exports: { '.': './dist/loader.mjs' } }, 'dist/loader.mjs',
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(path.join(markerDir, 'tsx'))}, 'loaded');\n`);
  return { dir, markers: () => readdirSync(markerDir).sort() };
}

/** `hrm-lens train` of one step in `cwd` with `--backend auto`; its output. */
function trainOneStep(cwd: string, extra: string[] = []): { status: number | null; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.HRM_LENS_BACKEND;
  delete env.HRM_LENS_BACKEND_PATH;
  const out = path.join(cwd, 'run');
  const res = spawnSync(process.execPath, [path.join(root, 'bin', 'hrm-lens.cjs'), ...extra, 'train', '--preset', 'tiny-4x4', '--steps', '1',
    '--backend', 'auto', '--out', out], { cwd, env, encoding: 'utf8', timeout: 300_000 });
  return { status: res.status, output: `${res.stdout}\n${res.stderr}` };
}

test('hrm-lens --backend auto in a folder with a planted node_modules loads none of it and runs on wasm', () => {
  const folder = plantedFolder('clone');
  const { status, output } = trainOneStep(folder.dir);
  assert.deepEqual(folder.markers(), [], `a package from the working directory was loaded:\n${output}`);
  assert.equal(status, 0, output);
  assert.match(output, /backend wasm/);
});

test('--backend-path names a folder to load optional backends from; the working directory still is not one', () => {
  const folder = plantedFolder('clone-explicit');
  const named = plantedFolder('named');
  const { status, output } = trainOneStep(folder.dir, ['--backend-path', named.dir]);
  assert.equal(status, 0, output);
  assert.deepEqual(folder.markers(), [], `a package from the working directory was loaded:\n${output}`);
  // The named folder's GPU package was loaded (it registers no backend, so the choice falls through to wasm).
  assert.deepEqual(named.markers(), ['tfjs-node-gpu'], output);
  assert.match(output, /backend wasm/);
  assert.ok(existsSync(path.join(folder.dir, 'run')), output);
});
