#!/usr/bin/env node
// `npm start`: HRM Lens in a browser, as a user gets it. Builds and packages the extension (dist/hrm-lens.vsix),
// installs code-server 4.100.3 when it is missing (scripts/install-code-server.sh, as CI does), makes a demo
// workspace in .hrm-demo/ (the shipped model as a run with its training history and held-out accuracy, 4×4 puzzles,
// a generated dataset, a START-HERE.md), starts code-server with the .vsix installed on that folder and prints the
// URL. Runs until Ctrl+C.
//
//   node scripts/start.mjs [--port N] [--no-package] [--check]
//     --port N       listen on 127.0.0.1:N (default: a free port)
//     --no-package   reuse dist/hrm-lens.vsix
//     --check        open the URL in headless Chromium (playwright-core), check that HRM Lens works (activity bar,
//                    the demo run and its accuracy in the Runs tree, the inspector on a demo puzzle), print one line
//                    per check ("  ✔ …" / "  ✘ …") and exit 0 or 1 (test/e2e/start.e2e.mjs runs this)
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CHROMIUM_ARGS, findChromium, findCodeServer, repoRoot, startCodeServer } from './code-server.mjs';
import { SHOTS_DIR } from './shots.mjs';

const argv = process.argv.slice(2);
const check = argv.includes('--check');
const noPackage = argv.includes('--no-package');
const portArg = argv.indexOf('--port');
const port = portArg >= 0 ? Number(argv[portArg + 1]) : undefined;
const demo = path.join(repoRoot, '.hrm-demo');
const vsix = path.join(repoRoot, 'dist', 'hrm-lens.vsix');
const t0 = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

function run(what, cmd, args, opts = {}) {
  const t = Date.now();
  const r = spawnSync(cmd, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', ...opts });
  if (r.status !== 0) {
    console.error(`start: ${what} failed (exit ${r.status}):\n${(r.stdout ?? '').slice(-3000)}${(r.stderr ?? '').slice(-3000)}`);
    process.exit(1);
  }
  console.log(`start: ${what} (${secs(Date.now() - t)})`);
  return r.stdout ?? '';
}

// 1. Build and package.
if (!noPackage || !existsSync(vsix)) run('built and packaged dist/hrm-lens.vsix', 'npm', ['run', 'package']);

// 2. code-server, installed as CI does when it is missing.
let bin = findCodeServer();
if (!bin) {
  console.log('start: code-server 4.100.3 is not installed; installing it (scripts/install-code-server.sh: Debian packages need root or sudo)…');
  const r = spawnSync('bash', [path.join(repoRoot, 'scripts', 'install-code-server.sh')], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    console.error('start: could not install code-server (see above). Either, as root:\n    sudo bash scripts/install-code-server.sh\n'
      + 'or, once the Debian packages chromium libkrb5-dev ripgrep build-essential python3 are installed, into a folder you own:\n'
      + '    HRM_LENS_CODE_SERVER_HOME=$HOME/.cache/hrm-lens-code-server npm start\nthen run `npm start` again.');
    process.exit(1);
  }
  bin = findCodeServer();
  if (!bin) { console.error('start: code-server is still missing after scripts/install-code-server.sh'); process.exit(1); }
}

// 3. The demo workspace, made fresh from the repository's files.
const tDemo = Date.now();
rmSync(demo, { recursive: true, force: true });
const runDir = path.join(demo, '.hrm', 'runs', 'tiny-4x4-shipped');
mkdirSync(runDir, { recursive: true });
copyFileSync(path.join(repoRoot, 'demo', 'START-HERE.md'), path.join(demo, 'START-HERE.md'));
cpSync(path.join(repoRoot, 'demo', 'shipped-run'), runDir, { recursive: true });
const ckpt = path.join(runDir, 'step-002000.safetensors');
copyFileSync(path.join(repoRoot, 'models', 'tiny-4x4.safetensors'), ckpt);
copyFileSync(path.join(repoRoot, 'models', 'tiny-4x4.eval.json'), ckpt.replace(/\.safetensors$/, '.eval.json'));
// The hard-6x6 pair (baseline and data mixing) with their last 10 checkpoints, for HRM: Paper Report and Compare Runs,
// and the 6×6 puzzle lists picked by classify (scripts/pick-demo-puzzles.mjs).
for (const name of ['hard-6x6', 'hard-6x6-mixing']) cpSync(path.join(repoRoot, 'models', `${name}-run`), path.join(demo, '.hrm', 'runs', name), { recursive: true });
for (const list of ['puzzles-hard-6x6.txt', 'puzzles-small-6x6.txt']) copyFileSync(path.join(repoRoot, 'demo', list), path.join(demo, list));
const cli = path.join(repoRoot, 'dist', 'cli.js');
const csv = path.join(demo, 'sample-4x4.csv');
run('generated sample-4x4.csv (200 puzzles with answers)', process.execPath, [cli, 'data', 'generate', '--size', '4', '--count', '200', '--seed', '7', '--out', csv]);
const puzzles = readFileSync(csv, 'utf8').trim().split('\n').slice(1, 13).map((l) => l.split(',')[1]);
writeFileSync(path.join(demo, 'puzzles-4x4.txt'), `${puzzles.join('\n')}\n`);
run('evaluated the shipped model on sample-4x4.csv', process.execPath, [cli, 'eval', '--checkpoint', ckpt, '--data', csv, '--save', '--backend', 'wasm']);
console.log(`start: demo workspace ${path.relative(repoRoot, demo)}/ ready (${secs(Date.now() - tDemo)})`);

// 4. code-server with the packaged extension on the demo folder.
const cs = await startCodeServer({ bin, port, folder: demo, installExtensions: [vsix], settings: { 'workbench.startupEditor': 'none' } });
const url = cs.folderUrl(demo);
console.log(`start: code-server ${cs.url} ready (${secs(cs.startMs)}); total ${secs(Date.now() - t0)}`);

if (!check) {
  console.log(`\n  HRM Lens is running. Open this URL in a browser:\n\n    ${url}\n\n  Start with START-HERE.md. Ctrl+C stops code-server (log: ${cs.logFile}).\n`);
  const stop = async () => { await cs.stop(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  setInterval(() => {}, 1 << 30);
} else {
  let failed = 0;
  const chromiumBin = findChromium();
  const { chromium } = await import('playwright-core');
  const context = chromiumBin ? await chromium.launchPersistentContext(path.join(cs.runDir, 'chromium'), {
    executablePath: chromiumBin, headless: true, viewport: { width: 1400, height: 900 }, args: CHROMIUM_ARGS,
  }) : null;
  const step = async (name, fn) => {
    const t = Date.now();
    try {
      const note = await fn();
      console.log(`  ✔ ${name} (${secs(Date.now() - t)})${note ? ` — ${note}` : ''}`);
      return true;
    } catch (e) {
      failed++;
      console.log(`  ✘ ${name}: ${e instanceof Error ? e.message.split('\n')[0] : e}`);
      return false;
    }
  };
  try {
    if (!context) throw new Error('Chromium is not installed (scripts/install-code-server.sh installs it)');
    const page = context.pages()[0] ?? (await context.newPage());
    const ok = await step('the URL opens the workbench on the demo folder, with the installed HRM Lens', async () => {
      await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'START-HERE.md' }).waitFor({ timeout: 90_000 });
      await page.locator('.activitybar a.action-label[aria-label^="HRM"]').waitFor({ timeout: 60_000 });
      const installed = spawnSync(bin, ['--config', path.join(cs.runDir, 'config.yaml'), '--user-data-dir', cs.userDataDir, '--extensions-dir', cs.extensionsDir,
        '--list-extensions', '--show-versions'], { encoding: 'utf8' }).stdout.trim().split('\n').pop() ?? '';
      if (!/hrm-lens\.hrm-lens@/.test(installed)) throw new Error(`not installed: ${installed}`);
      return installed;
    });
    if (ok) {
      await step('the Runs view lists the shipped model\'s run and its checkpoint\'s held-out accuracy', async () => {
        await page.locator('.activitybar a.action-label[aria-label^="HRM"]').click();
        const runRow = page.locator('.monaco-list-row', { hasText: 'tiny-4x4-shipped' }).first();
        await runRow.waitFor({ timeout: 60_000 });
        if ((await runRow.getAttribute('aria-expanded')) !== 'true') await runRow.click();
        const ck = page.locator('.monaco-list-row', { hasText: 'step-002000' }).first();
        await ck.waitFor({ timeout: 30_000 });
        const desc = ((await ck.locator('.label-description').textContent()) ?? '').trim();
        if (!/\d+(\.\d+)?%/.test(desc)) throw new Error(`no accuracy in "${desc}"`);
        return desc;
      });
      await step('Inspect this puzzle (CodeLens) on puzzles-4x4.txt opens the inspector', async () => {
        await page.locator('.activitybar a.action-label[aria-label^="Explorer"]').first().click();
        await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'puzzles-4x4.txt' }).first().click();
        const lens = page.locator('.codelens-decoration a', { hasText: 'Inspect this puzzle' }).first();
        await lens.waitFor({ timeout: 60_000 });
        await lens.click();
        const end = Date.now() + 120_000;
        while (Date.now() < end) {
          for (const f of page.frames()) {
            try { if (await f.locator('body[data-render-ms] #badge').count()) return `class "${await f.locator('#badge').textContent()}"`; } catch { /* detached */ }
          }
          await page.waitForTimeout(300);
        }
        throw new Error('no inspector panel within 120 s');
      });
      mkdirSync(SHOTS_DIR, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS_DIR, 'start-demo.png') }).catch(() => {});
    }
  } catch (e) {
    failed++;
    console.log(`  ✘ ${e instanceof Error ? e.message : e}`);
  } finally {
    await context?.close().catch(() => {});
    await cs.stop();
  }
  console.log(`start: --check ${failed ? 'FAILED' : 'passed'} (${secs(Date.now() - t0)})`);
  process.exit(failed ? 1 : 0);
}
