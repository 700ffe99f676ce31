// What the browser walks (test/e2e/*.e2e.mjs) share around their steps: the count of checks and the closing line
// "N passed, N failed, N skipped" (exit 1 on a failure, or when nothing passed or was skipped), the skip rule
// (code-server or Chromium missing: skipped, failed when CI is set), and the walk itself: the build checked, a copy of
// test/vscode/workspace in a temp folder, a disposable code-server (scripts/code-server.mjs) with the extension
// loaded from the repository (the `payload` extensionDevelopmentPath, no tests module), headless Chromium driven by
// playwright-core on it, and the cleanup. The helpers for the workbench page are in workbench.mjs.
// Env: HRM_LENS_KEEP=1 (keep the temp folders), HRM_LENS_VERBOSE=1 (the browser's console on stderr).
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHROMIUM_ARGS, devPayload, findChromium, findCodeServer, repoRoot, startCodeServer } from '../../scripts/code-server.mjs';
import { SHOTS_DIR } from '../../scripts/shots.mjs';

export const root = repoRoot;
export const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;
const isCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const t0 = Date.now();

/** What a walk loads from the build (`npm run build`). */
const BUILD_OUTPUTS = ['dist/extension.js', 'dist/engine.js', 'dist/webview/inspector.js'];

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/**
 * The checks of one test script (one per process: finish() exits). `label` starts its own lines ("e2e: …").
 * step(): one named check, counted and printed; a failure stops the walk (later steps depend on it).
 */
export function createReport(label) {
  let passed = 0;
  let failed = 0;
  const log = (message) => console.log(`${label}: ${message}`);
  function finish(skipped = 0) {
    console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
    process.exit(failed > 0 || (passed === 0 && skipped === 0) ? 1 : 0);
  }
  function fail(message) {
    console.error(`${label}: ERROR: ${message}`);
    failed++;
    finish();
  }
  function unavailable(what) {
    if (isCI) fail(what);
    log(`skipped: ${what} (bash scripts/install-code-server.sh installs code-server and Chromium)`);
    finish(1);
  }
  /** The Chromium executable; without code-server or Chromium the script ends here (skipped, or failed in CI). */
  function requireBrowser() {
    if (!findCodeServer()) unavailable('code-server is not installed');
    const chromiumBin = findChromium();
    if (!chromiumBin) unavailable('Chromium is not installed');
    return chromiumBin;
  }
  async function step(name, fn) {
    const t = Date.now();
    try {
      const note = await fn();
      passed++;
      console.log(`  ✔ ${name} (${secs(Date.now() - t)})${note ? ` — ${note}` : ''}`);
    } catch (e) {
      failed++;
      console.log(`  ✘ ${name}: ${e instanceof Error ? e.message : e}`);
      throw e;
    }
  }
  /** Adds checks counted elsewhere (a child process's lines). */
  function count(morePassed, moreFailed) {
    passed += morePassed;
    failed += moreFailed;
  }
  return { log, finish, fail, unavailable, requireBrowser, step, count, failed: () => failed };
}

/**
 * A walk in the browser: checks code-server, Chromium and the build (or ends the script), copies the test workspace
 * into a new temp folder named `tmpPrefix`…, and answers the report's functions with `work` (the temp folder),
 * `folder` (the workspace copy, to prepare before run) and run(walk).
 */
export async function openWalk(label, tmpPrefix) {
  const report = createReport(label);
  const { log, step, finish } = report;
  const chromiumBin = report.requireBrowser();
  const { chromium } = await import('playwright-core');
  for (const f of BUILD_OUTPUTS) {
    if (!existsSync(path.join(root, f))) report.fail(`${f} is missing; run \`npm run build\` first`);
  }
  const work = mkdtempSync(path.join(tmpdir(), tmpPrefix));
  const folder = path.join(work, 'workspace');
  cpSync(path.join(root, 'test', 'vscode', 'workspace'), folder, { recursive: true });

  /**
   * Starts code-server and Chromium, opens `folder` (the first step: the workbench loads with HRM Lens), runs
   * `walk(page)`, then cleans up (on a failure: a screenshot and the code-server log, the temp folder kept), prints
   * the total time and the closing line, and exits.
   */
  async function run(walk) {
    let cs;
    let context;
    try {
      cs = await startCodeServer({ env: { FORCE_COLOR: '0' } });
      log(`code-server on ${cs.url} ready in ${secs(cs.startMs)}`);
      context = await chromium.launchPersistentContext(path.join(work, 'chromium-profile'), {
        executablePath: chromiumBin, headless: true, viewport: { width: 1600, height: 1000 }, args: CHROMIUM_ARGS,
      });
      const page = context.pages()[0] ?? (await context.newPage());
      if (process.env.HRM_LENS_VERBOSE === '1') page.on('console', (m) => console.error(`[browser ${m.type()}] ${m.text()}`));
      mkdirSync(SHOTS_DIR, { recursive: true });

      await step('the workbench loads with HRM Lens', async () => {
        await page.goto(cs.folderUrl(folder, { payload: devPayload(root) }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
        await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'puzzles.txt' }).waitFor({ timeout: 90_000 });
        await page.locator('.activitybar a.action-label[aria-label^="HRM"]').waitFor({ timeout: 60_000 });
        await page.locator('.monaco-workbench .part.editor').click();
      });
      await walk(page);
    } catch (e) {
      if (report.failed() === 0) { report.count(0, 1); console.error(`${label}: ERROR: ${e instanceof Error ? e.stack ?? e.message : e}`); }
      const pg = context?.pages()[0];
      if (pg) await pg.screenshot({ path: path.join(work, 'failure.png') }).catch(() => {});
      if (cs) console.error(`--- code-server log (last 30 lines)\n${cs.readLog().split('\n').slice(-30).join('\n')}`);
    } finally {
      await context?.close().catch(() => {});
      await cs?.stop().catch(() => {});
      if (process.env.HRM_LENS_KEEP === '1' || report.failed()) console.error(`${label}: kept ${work}`);
      else rmSync(work, { recursive: true, force: true, maxRetries: 3 });
    }
    log(`total ${secs(Date.now() - t0)}`);
    finish();
  }

  return { ...report, work, folder, run };
}
