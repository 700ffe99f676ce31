#!/usr/bin/env node
// Runs the in-host tests (test/vscode/*.test.ts, bundled into dist/test/vscode/index.js by `npm run build`) inside
// a real VS Code: a disposable code-server and headless Chromium driven by playwright-core, with the test-electron
// contract passed through the workbench `payload` URL parameter (docs/testing.md §In-host tests):
// extensionDevelopmentPath = the repository, extensionTestsPath = the bundle, a copy of test/vscode/workspace/ open.
// The exit code comes back through window.codeAutomationExit; the console of the extension host (and some of the
// workbench's own log) through window.codeAutomationLog, which this runner streams to stdout.
//
// --untrusted: the Restricted Mode pass instead: workspace trust enforced and the folder not trusted; only the suite
// titled "HRM untrusted workspace" runs (test/vscode/untrusted.test.ts; the ordinary pass leaves it out).
//
// Builds nothing: run `npm run build` first. Closing line: "N passed, N failed, N skipped"; exit 1 on failure.
// Without code-server or Chromium: fails when CI is set, otherwise reports "0 passed, 0 failed, 1 skipped" + a hint.
//
// Env: HRM_LENS_VSCODE_TIMEOUT_MS (default 300000), HRM_LENS_VSCODE_GREP (mocha --grep, in the extension host),
//      HRM_LENS_KEEP=1 (keep the temp folders), HRM_LENS_VERBOSE=1 (browser console too),
//      HRM_LENS_CODE_SERVER / HRM_LENS_CODE_SERVER_HOME / HRM_LENS_CHROMIUM (see scripts/code-server.mjs).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { format } from 'node:util';
import { fileURLToPath } from 'node:url';
import { codeServerPath, devPayload, findChromium, findCodeServer, startCodeServer, CHROMIUM_ARGS, DEFAULT_CODE_SERVER_HOME } from '../../scripts/code-server.mjs';
import { SHOTS_DIR, SHOTS_REL } from '../../scripts/shots.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const testsBundle = path.join(root, 'dist', 'test', 'vscode', 'index.js');
const fixture = path.join(root, 'test', 'vscode', 'workspace');
const isCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');
const timeoutMs = Number(process.env.HRM_LENS_VSCODE_TIMEOUT_MS ?? 300_000);
const verbose = process.env.HRM_LENS_VERBOSE === '1';
const keep = process.env.HRM_LENS_KEEP === '1';
const untrusted = process.argv.includes('--untrusted');
/** User settings of the Restricted Mode pass: trust enforced, no prompt (the folder opens untrusted), no banner. */
const UNTRUSTED_SETTINGS = {
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'never',
  'security.workspace.trust.banner': 'never',
  'security.workspace.trust.emptyWindow': false,
};
const t0 = Date.now();
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** Print the closing line and leave. */
function finish(passed, failed, skipped) {
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed > 0 || (passed === 0 && skipped === 0) ? 1 : 0);
}

function unavailable(what, hint) {
  if (isCI) {
    console.error(`in-host tests: ERROR: ${what}. CI must run them: ${hint}`);
    finish(0, 1, 0);
  }
  console.log(`in-host tests: skipped: ${what}.\n  hint: ${hint}`);
  finish(0, 0, 1);
}

// ---------------------------------------------------------------- preconditions
const csBin = findCodeServer();
if (!csBin) unavailable(`code-server is not installed (no ${codeServerPath()})`, `run \`bash scripts/install-code-server.sh\` (installs code-server 4.100.3 into ${process.env.HRM_LENS_CODE_SERVER_HOME || DEFAULT_CODE_SERVER_HOME}, and the apt packages), or set HRM_LENS_CODE_SERVER`);
const chromiumBin = findChromium();
if (!chromiumBin) unavailable('Chromium is not installed', 'run `bash scripts/install-code-server.sh` (apt-get install chromium), or set HRM_LENS_CHROMIUM');
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.error(`in-host tests: ERROR: playwright-core cannot be loaded (${e.message}); run \`npm ci\``);
  finish(0, 1, 0);
}
for (const f of [testsBundle, path.join(root, 'dist', 'extension.js')]) {
  if (!existsSync(f)) {
    console.error(`in-host tests: ERROR: ${path.relative(root, f)} is missing; run \`npm run build\` first`);
    finish(0, 1, 0);
  }
}
// A stale bundle runs old tests: say so (the runner builds nothing on purpose).
const bundleTime = statSync(testsBundle).mtimeMs;
const newer = readdirSync(path.join(root, 'test', 'vscode'))
  .filter((f) => f.endsWith('.ts') && statSync(path.join(root, 'test', 'vscode', f)).mtimeMs > bundleTime);
if (newer.length) console.error(`in-host tests: warning: ${newer.join(', ')} changed after the last build; run \`npm run build\``);

// ---------------------------------------------------------------- set up
const work = mkdtempSync(path.join(tmpdir(), 'hrm-lens-inhost-'));
const folder = path.join(work, 'workspace');
cpSync(fixture, folder, { recursive: true });

let cs;
let context;
let cleaning;
let interrupted = false;
/** Close the browser, stop code-server, remove the temp folders (kept on failure). Runs once; awaitable from anywhere. */
function cleanup(failed) {
  cleaning ??= (async () => {
    await context?.close().catch(() => {});
    await cs?.stop().catch(() => {});
    const shot = existsSync(path.join(work, 'failure.png')) ? ', failure.png' : '';
    if ((keep || failed) && !interrupted) console.error(`in-host tests: kept ${work} (workspace, browser profile${shot})`);
    else rmSync(work, { recursive: true, force: true, maxRetries: 3 });
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`in-host tests: ${sig}, stopping`);
    await cleanup(false);
    process.exit(130);
  });
}

/** Tail of the code-server log and of the extension-host logs, for a failure report. */
function diagnostics() {
  const parts = [];
  const tail = (file, n = 40) => {
    let text = '';
    try { text = readFileSync(file, 'utf8').trimEnd(); } catch { /* none */ }
    if (text) parts.push(`--- ${file} (last ${n} lines)\n${text.split('\n').slice(-n).join('\n')}`);
  };
  if (cs) {
    tail(cs.logFile);
    const logs = path.join(cs.userDataDir, 'logs');
    if (existsSync(logs)) {
      for (const f of readdirSync(logs, { recursive: true }).map(String)) {
        if (/remoteexthost\.log$|hrm-lens[^/]*\/.*\.log$/i.test(f)) tail(path.join(logs, f), 30);
      }
    }
  }
  return parts.join('\n');
}

let passed = 0;
let failed = 0;
let skipped = 0;
let result = null;
const metrics = {};
let exitCode = null;
const timings = {};

try {
  let t = Date.now();
  cs = await startCodeServer({
    bin: csBin,
    keep,
    // No ANSI colors in mocha's report (its symbols colour themselves when CI is set).
    env: { HRM_LENS_TEST: '1', FORCE_COLOR: '0', NO_COLOR: '1', ...(untrusted ? { HRM_LENS_VSCODE_GREP: 'HRM untrusted workspace' } : {}) },
    ...(untrusted ? { workspaceTrust: true, settings: UNTRUSTED_SETTINGS } : {}),
  });
  timings.codeServer = Date.now() - t;
  console.log(`in-host tests: code-server on ${cs.url} (pid ${cs.pid}) ready in ${secs(timings.codeServer)}${untrusted ? ' (Restricted Mode: workspace trust enforced, folder not trusted)' : ''}`);

  t = Date.now();
  context = await chromium.launchPersistentContext(path.join(work, 'chromium-profile'), {
    executablePath: chromiumBin, headless: true, viewport: { width: 1400, height: 900 }, args: CHROMIUM_ARGS,
  });
  timings.browser = Date.now() - t;
  const page = context.pages()[0] ?? (await context.newPage());

  let resolveExit;
  const exited = new Promise((resolve) => { resolveExit = resolve; });
  await page.exposeFunction('codeAutomationExit', (code) => resolveExit(Number(code)));
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = format(...(Array.isArray(args) ? args : [args]));
    // The workbench's marketplace lookup (open-vsx.org) fails offline; harmless, and its stack is long.
    if (/ENOTFOUND open-vsx\.org/.test(text) && !verbose) {
      console.log('[vscode] (marketplace lookup failed: offline, harmless)');
      return;
    }
    for (const line of text.split('\n')) {
      const m = /^HRM_LENS_(RESULT|METRIC|SCREENSHOT) (.*)$/.exec(line);
      if (m?.[1] === 'SCREENSHOT') {
        // A test asks for a picture of the workbench as it is now (it waits a moment before going on).
        const name = m[2].trim().replace(/[^\w.-]+/g, '-').slice(0, 80);
        mkdirSync(SHOTS_DIR, { recursive: true });
        page.screenshot({ path: path.join(SHOTS_DIR, `${name}.png`) }).then(() => console.log(`in-host tests: screenshot ${SHOTS_REL}/${name}.png`), () => {});
        continue;
      }
      if (m?.[1] === 'RESULT') { try { result = JSON.parse(m[2]); } catch { /* ignore */ } continue; }
      if (m?.[1] === 'METRIC') { const [k, v] = m[2].split('='); metrics[k] = v; continue; }
      // Keep the closing-line pattern unique to this runner's last line.
      const safe = /^\S*\s*\d+ passed, \d+ failed/.test(line) ? `| ${line}` : line;
      if (type === 'error' || type === 'warn') console.log(`[vscode ${type}] ${safe}`);
      else console.log(safe);
    }
  });
  page.on('crash', () => resolveExit('page crashed'));
  context.on('close', () => resolveExit('browser closed'));
  if (verbose) page.on('console', (msg) => console.error(`[browser ${msg.type()}] ${msg.text()}`));
  page.on('pageerror', (err) => { if (verbose) console.error(`[browser pageerror] ${err.message}`); });

  t = Date.now();
  await page.goto(cs.folderUrl(folder, { payload: devPayload(root, testsBundle) }), { waitUntil: 'domcontentloaded', timeout: 60_000 });
  let timer;
  const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
  const outcome = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  timings.tests = Date.now() - t;

  if (typeof outcome === 'number') {
    exitCode = outcome;
  } else {
    console.error(`in-host tests: ERROR: ${outcome === 'timeout' ? `no result from the extension host within ${secs(timeoutMs)}` : outcome}`);
    await page.screenshot({ path: path.join(work, 'failure.png') }).catch(() => {});
  }
} catch (e) {
  console.error(`in-host tests: ERROR: ${e instanceof Error ? e.stack ?? e.message : e}`);
}

if (interrupted) { await cleanup(false); process.exit(130); }
if (result) ({ passed, failed, skipped } = result);
if (exitCode !== 0 && failed === 0) failed = 1; // run() threw before or outside mocha, or no exit code came back
const bad = failed > 0 || exitCode !== 0;
if (bad) console.error(`in-host tests: exit code ${exitCode ?? 'none'}\n${diagnostics()}`);
await cleanup(bad);

const figures = Object.entries(metrics).map(([k, v]) => `${k}=${v}`);
console.log(`in-host tests: code-server start ${secs(timings.codeServer ?? 0)}, browser ${secs(timings.browser ?? 0)}, `
  + `workbench + tests ${secs(timings.tests ?? 0)}, total ${secs(Date.now() - t0)}${figures.length ? `; ${figures.join(', ')}` : ''}`);
finish(passed, failed, skipped);
