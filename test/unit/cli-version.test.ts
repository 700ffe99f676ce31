/**
 * One version, written once: `hrm-lens --version` prints package.json's "version" (the extension's "About HRM Lens"
 * reads the same field); the launcher the extension puts on the terminal PATH runs the bundled CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { VERSION } from '../../engine/version';

const root = path.resolve(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };

test('hrm-lens --version prints the package version', () => {
  assert.equal(VERSION, pkg.version);
  const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(root, 'engine', 'cli.ts'), '--version'], { cwd: root, encoding: 'utf8' });
  assert.equal(out.trim(), pkg.version);
});

test('the launcher put on the terminal PATH runs ../dist/cli.js with HRM_LENS_NODE (as Node.js), and with `node` from PATH without it', { skip: process.platform === 'win32' }, () => {
  // The launcher's layout, with a stand-in for the bundle that reports how it was run.
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-launcher-'));
  try {
    mkdirSync(path.join(dir, 'bin'));
    mkdirSync(path.join(dir, 'dist'));
    copyFileSync(path.join(root, 'bin', 'hrm-lens'), path.join(dir, 'bin', 'hrm-lens'));
    chmodSync(path.join(dir, 'bin', 'hrm-lens'), 0o755);
    writeFileSync(path.join(dir, 'dist', 'cli.js'), 'console.log(JSON.stringify({ args: process.argv.slice(2), electronAsNode: process.env.ELECTRON_RUN_AS_NODE ?? null }));\n');
    const run = (env: NodeJS.ProcessEnv) => JSON.parse(execFileSync(path.join(dir, 'bin', 'hrm-lens'), ['train', '--steps', '3 4'], { env, encoding: 'utf8' })) as unknown;
    // No node on PATH at all: HRM_LENS_NODE runs it.
    assert.deepEqual(run({ PATH: '/nonexistent', HRM_LENS_NODE: process.execPath }), { args: ['train', '--steps', '3 4'], electronAsNode: '1' });
    // Without HRM_LENS_NODE: the node on PATH.
    assert.deepEqual(run({ PATH: `${path.dirname(process.execPath)}${path.delimiter}/usr/bin${path.delimiter}/bin` }), { args: ['train', '--steps', '3 4'], electronAsNode: null });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
