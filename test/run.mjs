#!/usr/bin/env node
// The README's test command (`npm test`): plain-Node unit tests (node:test through tsx), then the suites that need a
// real VS Code (code-server) and a real browser when they are present. Ends with one line: "N passed, N failed".
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const unitOnly = args.includes('--unit-only');
const filter = args.filter((a) => !a.startsWith('--'));

function findTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => path.join(dir, f))
    .filter((f) => filter.length === 0 || filter.some((s) => f.includes(s)))
    .sort();
}

let passed = 0;
let failed = 0;
let skipped = 0;

function runNodeTests(label, files) {
  if (files.length === 0) return;
  const tapFile = path.join(mkdtempSync(path.join(tmpdir(), 'hrm-lens-test-')), 'report.tap');
  console.log(`\n== ${label}: ${files.length} files ==`);
  const res = spawnSync(process.execPath, [
    '--import', 'tsx', '--test', '--test-concurrency=1',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    ...files,
  ], { cwd: root, stdio: 'inherit', env: { ...process.env, HRM_LENS_TEST: '1' } });
  const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
  rmSync(path.dirname(tapFile), { recursive: true, force: true });
  const count = (key) => Number((tap.match(new RegExp(`^# ${key} (\\d+)`, 'm')) ?? [])[1] ?? 0);
  passed += count('pass');
  failed += count('fail') + count('cancelled');
  skipped += count('skipped') + count('todo');
  if (res.status !== 0 && count('fail') + count('cancelled') === 0) failed += 1; // the runner itself broke
}

runNodeTests('unit tests', findTests(path.join(root, 'test', 'unit')));

if (!unitOnly && existsSync(path.join(root, 'test', 'vscode', 'run-in-code-server.mjs'))) {
  console.log('\n== tests inside VS Code (code-server) ==');
  // The in-host tests load dist/: build it from the current sources first (about 2 s), so `npm ci && npm test` works.
  const build = spawnSync(process.execPath, [path.join(root, 'esbuild.mjs')], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) failed += 1;
  await runCounted(path.join(root, 'test', 'vscode', 'run-in-code-server.mjs'));
  console.log('\n== tests inside VS Code in Restricted Mode (an untrusted workspace) ==');
  await runCounted(path.join(root, 'test', 'vscode', 'run-in-code-server.mjs'), ['--untrusted']);
}

if (!unitOnly && existsSync(path.join(root, 'test', 'e2e', 'inspector.e2e.mjs'))) {
  console.log('\n== browser test: the inspector in code-server + Chromium (Playwright) ==');
  await runCounted(path.join(root, 'test', 'e2e', 'inspector.e2e.mjs'));
}

if (!unitOnly && existsSync(path.join(root, 'test', 'e2e', 'interventions.e2e.mjs'))) {
  console.log('\n== browser test: the inspector\'s Interventions section in code-server + Chromium (Playwright) ==');
  await runCounted(path.join(root, 'test', 'e2e', 'interventions.e2e.mjs'));
}

if (!unitOnly && existsSync(path.join(root, 'test', 'e2e', 'start.e2e.mjs'))) {
  console.log('\n== npm start: the packaged extension installed in code-server, on the demo workspace ==');
  await runCounted(path.join(root, 'test', 'e2e', 'start.e2e.mjs'));
}

/** Runs a test script that ends with "N passed, N failed, N skipped", streaming its output; adds its counts. */
async function runCounted(script, scriptArgs = []) {
  // Stream the output live (CI logs show progress) while keeping it to read the closing count line.
  const res = await new Promise((resolve) => {
    let stdout = '';
    const child = spawn(process.execPath, [script, ...scriptArgs], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk) => { stdout += chunk; process.stdout.write(chunk); });
    child.on('close', (status) => resolve({ status, stdout }));
  });
  const m = /^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/m.exec(res.stdout);
  if (m) { passed += Number(m[1]); failed += Number(m[2]); skipped += Number(m[3] ?? 0); }
  if (res.status !== 0 && (!m || Number(m[2]) === 0)) failed += 1;
}

console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
