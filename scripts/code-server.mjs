#!/usr/bin/env node
// A disposable code-server (a real VS Code workbench served over HTTP) for the in-host tests, the UI tests and
// `npm start`. Recipe and pitfalls: docs/testing.md §Running a real VS Code.
//
//   import { startCodeServer, findCodeServer, findChromium } from '../scripts/code-server.mjs';
//   const cs = await startCodeServer({ folder: '/abs/workspace' });   // free 127.0.0.1 port, /healthz answered
//   cs.url / cs.folderUrl(folder) / cs.log / cs.pid;  await cs.stop();  // kills the whole process group
//
// As a command: node scripts/code-server.mjs [folder] [--port N] [--dev [extensionPath]] [--install-extension x.vsix]
//                [--copy-folder] [--keep]
//   starts one, prints the URL and runs until Ctrl+C. --dev: the URL loads the extension from its folder (default:
//   the repository; build it first), --install-extension: installs a .vsix into the disposable extensions dir.
//
// Where code-server is looked for: $HRM_LENS_CODE_SERVER (the executable) if set, else
// ${HRM_LENS_CODE_SERVER_HOME:-/opt/hrm-lens/code-server-4.100.3}/node_modules/.bin/code-server
// (scripts/install-code-server.sh installs it there). Chromium: $HRM_LENS_CHROMIUM if set, else /usr/bin/chromium.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, cpSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
export const DEFAULT_CODE_SERVER_HOME = `/opt/hrm-lens/code-server-${CODE_SERVER_VERSION}`;
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** User settings of every disposable instance: quiet, offline, no trust prompt, no walkthroughs. */
export const DEFAULT_SETTINGS = {
  'telemetry.telemetryLevel': 'off',
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'chat.commandCenter.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'git.enabled': false,
};

function isExecutable(p) {
  try { accessSync(p, constants.X_OK); return true; } catch { return false; }
}

/** The code-server executable, or null when it is not installed. */
export function findCodeServer(env = process.env) {
  const bin = codeServerPath(env);
  return isExecutable(bin) ? bin : null;
}

/** Where code-server is expected. An explicit setting is the only place looked at: a wrong one should show. */
export function codeServerPath(env = process.env) {
  return env.HRM_LENS_CODE_SERVER
    || path.join(env.HRM_LENS_CODE_SERVER_HOME || DEFAULT_CODE_SERVER_HOME, 'node_modules/.bin/code-server');
}

/** The version line of a code-server executable ("4.100.3 <commit> with Code 1.100.3"), or null. */
export function codeServerVersion(bin) {
  const r = spawnSync(bin, ['--config', '/dev/null', '--version'], { encoding: 'utf8', timeout: 30_000 });
  return r.status === 0 ? r.stdout.trim().split('\n')[0] : null;
}

/** A Chromium for Playwright (playwright-core downloads none), or null. */
export function findChromium(env = process.env) {
  if (env.HRM_LENS_CHROMIUM) return isExecutable(env.HRM_LENS_CHROMIUM) ? env.HRM_LENS_CHROMIUM : null;
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find(isExecutable) ?? null;
}

/** Arguments for chromium.launchPersistentContext (headless, as root, offline-friendly). */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-dev-shm-usage',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * The workbench `payload` URL parameter that loads an extension from its folder (not installed) and, optionally,
 * runs a tests module in the extension host (the test-electron contract; docs/testing.md §In-host tests).
 * Use: cs.folderUrl(folder, { payload: devPayload(repoRoot, testsJs) }).
 */
export function devPayload(extensionDevelopmentPath, extensionTestsPath) {
  const remote = (p) => `vscode-remote://remote${path.resolve(p)}`;
  const entries = [['extensionDevelopmentPath', remote(extensionDevelopmentPath)]];
  if (extensionTestsPath) entries.push(['extensionTestsPath', remote(extensionTestsPath)]);
  return JSON.stringify(entries);
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function groupAlive(pgid) {
  try { process.kill(-pgid, 0); return true; } catch (e) { return e.code === 'EPERM'; }
}

/** Environment for code-server (and so for the extension host): the caller's, minus a parent VS Code's hooks. */
function cleanEnv(extra) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE' || k === 'TERM_PROGRAM' || k === 'TERM_PROGRAM_VERSION') delete env[k];
  }
  return { ...env, ...extra };
}

/**
 * Start a disposable code-server. Options:
 *   folder            folder to open (default: none; pass ?folder= yourself)
 *   port              default: a free port
 *   bin               code-server executable (default: findCodeServer())
 *   runDir            where config, user data, extensions and the log go (default: a new temp folder, removed by stop())
 *   settings          extra user settings merged over DEFAULT_SETTINGS
 *   env               extra environment for code-server and its extension host (e.g. HRM_LENS_TEST=1)
 *   installExtensions .vsix paths (or ids) to install into the disposable extensions dir before starting
 *   extraArgs         more code-server arguments
 *   workspaceTrust    true: workspace trust is enforced (the default passes --disable-workspace-trust); with the
 *                     user settings security.workspace.trust.* the folder then opens in Restricted Mode
 *   healthTimeoutMs   default 60000
 *   keep              keep runDir on stop() (default false; also HRM_LENS_KEEP=1)
 */
export async function startCodeServer(opts = {}) {
  const bin = opts.bin ?? findCodeServer();
  if (!bin) throw new Error(`code-server not found: run scripts/install-code-server.sh (installs into ${DEFAULT_CODE_SERVER_HOME}) or set HRM_LENS_CODE_SERVER`);
  const ownRunDir = !opts.runDir;
  const runDir = opts.runDir ?? mkdtempSync(path.join(tmpdir(), 'hrm-lens-cs-'));
  const userDataDir = path.join(runDir, 'user-data');
  const extensionsDir = path.join(runDir, 'extensions');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...opts.settings }, null, 2));
  const env = cleanEnv(opts.env);

  let port = opts.port ?? (await freePort());
  const configFile = path.join(runDir, 'config.yaml');
  const writeConfig = () => writeFileSync(configFile, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  writeConfig();
  const base = ['--config', configFile, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const ext of opts.installExtensions ?? []) {
    const r = spawnSync(bin, [...base, '--install-extension', ext, '--force'], { encoding: 'utf8', env, timeout: 120_000 });
    if (r.status !== 0) throw new Error(`code-server --install-extension ${ext} failed:\n${r.stdout}${r.stderr}`);
  }

  const logFile = path.join(runDir, 'code-server.log');
  const keep = opts.keep ?? process.env.HRM_LENS_KEEP === '1';
  const healthTimeoutMs = opts.healthTimeoutMs ?? 60_000;

  // A port taken between freePort() and code-server's bind: try again on another one (only when we chose it).
  for (let attempt = 1; ; attempt++) {
    const args = [
      ...base, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
      ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']), '--disable-getting-started-override', '--ignore-last-opened', ...(opts.extraArgs ?? []),
      ...(opts.folder ? [opts.folder] : []),
    ];
    const fd = openSync(logFile, 'a');
    // detached = setsid: code-server and everything it spawns (extension host, file watcher, pty host, the
    // extension's own processes) share one process group, which stop() kills as a whole.
    const child = spawn(bin, args, { cwd: runDir, env, detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const pgid = child.pid;
    let exited = null;
    child.on('exit', (code, signal) => { exited = { code, signal }; });
    const killNow = () => { try { process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ } };
    process.on('exit', killNow); // never leave a code-server behind, even when the caller crashes

    const url = `http://127.0.0.1:${port}`;
    const t0 = Date.now();
    let healthy = false;
    while (Date.now() - t0 < healthTimeoutMs && !exited) {
      try {
        const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) { healthy = true; break; }
      } catch { /* not up yet */ }
      await sleep(100);
    }
    const stop = async () => {
      process.off('exit', killNow);
      if (groupAlive(pgid)) {
        try { process.kill(-pgid, 'SIGTERM'); } catch { /* gone */ }
        // The file watcher can outlive the server by a few seconds: SIGKILL whatever is left after 5 s.
        for (let i = 0; i < 50 && groupAlive(pgid); i++) await sleep(100);
        if (groupAlive(pgid)) killNow();
        for (let i = 0; i < 20 && groupAlive(pgid); i++) await sleep(100);
      }
      if (ownRunDir && !keep) rmSync(runDir, { recursive: true, force: true, maxRetries: 3 });
    };
    if (healthy) {
      return {
        url, port, pid: child.pid, pgid, runDir, userDataDir, extensionsDir, logFile, bin, startMs: Date.now() - t0,
        /** URL that opens `folder` (absolute path) with optional extra query parameters. */
        folderUrl(folder, query = {}) {
          const q = new URLSearchParams({ folder, ...query });
          return `${url}/?${q.toString().replace(/\+/g, '%20')}`;
        },
        readLog() { try { return readFileSync(logFile, 'utf8'); } catch { return ''; } },
        stop,
      };
    }
    const log = (() => { try { return readFileSync(logFile, 'utf8'); } catch { return ''; } })();
    await stop();
    if (!opts.port && attempt < 3 && /EADDRINUSE/.test(log)) { port = await freePort(); writeConfig(); continue; }
    const why = exited ? `exited (${exited.signal ?? `code ${exited.code}`})` : `no /healthz answer in ${healthTimeoutMs} ms`;
    throw new Error(`code-server ${why}; its log:\n${log.split('\n').slice(-40).join('\n')}`);
  }
}

// ---------------------------------------------------------------- command line
async function main(argv) {
  const opts = { keep: argv.includes('--keep') };
  let folder;
  let copyFolder = false;
  let dev = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = Number(argv[++i]);
    else if (a === '--install-extension') (opts.installExtensions ??= []).push(path.resolve(argv[++i]));
    else if (a === '--copy-folder') copyFolder = true;
    else if (a === '--dev') dev = argv[i + 1] && !argv[i + 1].startsWith('--') ? path.resolve(argv[++i]) : repoRoot;
    else if (a === '--keep') continue;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/code-server.mjs [folder] [--port N] [--dev [extensionPath]] [--install-extension x.vsix] [--copy-folder] [--keep]');
      return;
    } else folder = path.resolve(a);
  }
  let copyDir = null;
  if (folder && copyFolder) {
    copyDir = mkdtempSync(path.join(tmpdir(), 'hrm-lens-ws-'));
    const copy = path.join(copyDir, path.basename(folder));
    cpSync(folder, copy, { recursive: true });
    folder = copy;
  }
  const cs = await startCodeServer({ ...opts, folder });
  const query = dev ? { payload: devPayload(dev) } : {};
  const url = folder ? cs.folderUrl(folder, query) : dev ? `${cs.url}/?${new URLSearchParams(query)}` : cs.url;
  console.log(`code-server ${CODE_SERVER_VERSION} (pid ${cs.pid}, log ${cs.logFile}); Ctrl+C stops it\n${url}`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await cs.stop();
    if (copyDir && !opts.keep) rmSync(copyDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  setInterval(() => {}, 1 << 30); // run until a signal
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => { console.error(e instanceof Error ? e.message : e); process.exit(1); });
}
