/**
 * In-host tests: run inside code-server's extension host (see test/vscode/index.ts), against the extension loaded
 * from the repository (extensionDevelopmentPath) and the fixture workspace copied from test/vscode/workspace/.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { HrmLensApi } from '../../extension/extension';

const EXTENSION_ID = 'hrm-lens.hrm-lens';

interface Manifest {
  contributes?: { commands?: { command: string }[] };
}

/** A figure for the runner's summary (see the console protocol in index.ts). */
function metric(name: string, value: number): void {
  console.log(`HRM_LENS_METRIC ${name}=${value}`);
}

interface Proc { pid: number; cmdline: string }

/** All descendants of a process (Linux /proc), with their command lines. */
function descendants(pid: number): Proc[] {
  const out: Proc[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() as number;
    let tasks: string[] = [];
    try { tasks = readdirSync(`/proc/${p}/task`); } catch { continue; }
    for (const t of tasks) {
      let children = '';
      try { children = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8'); } catch { continue; }
      for (const c of children.split(/\s+/).filter(Boolean).map(Number)) {
        let cmdline = '';
        try { cmdline = readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').join(' ').trim(); } catch { /* exited */ }
        out.push({ pid: c, cmdline });
        queue.push(c);
      }
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

suite('HRM Lens activation', () => {
  let ext: vscode.Extension<HrmLensApi>;
  let childrenBefore: Proc[] = [];

  suiteSetup(() => {
    const found = vscode.extensions.getExtension<HrmLensApi>(EXTENSION_ID);
    assert.ok(found, `extension ${EXTENSION_ID} is not loaded`);
    ext = found;
    childrenBefore = existsSync('/proc/self') ? descendants(process.pid) : [];
  });

  test('the extension is present, loaded from the repository', () => {
    assert.equal(ext.id, EXTENSION_ID);
    const manifest = ext.packageJSON as { name?: string; publisher?: string; main?: string };
    assert.equal(`${manifest.publisher}.${manifest.name}`, EXTENSION_ID);
    assert.ok(manifest.main, 'package.json has no "main"');
    assert.ok(existsSync(path.join(ext.extensionPath, manifest.main)), `${manifest.main} is missing: run \`npm run build\``);
  });

  test('activates, and activation is timed', async () => {
    const wasActive = ext.isActive;
    const t0 = performance.now();
    await ext.activate();
    const ms = performance.now() - t0;
    assert.ok(ext.isActive, 'extension did not become active');
    console.log(`activation: ${ms.toFixed(1)} ms${wasActive ? ' (was already active before the test)' : ''}`);
    metric('activationMs', Number(ms.toFixed(1)));
  });

  test('every command in package.json contributes.commands is registered', async () => {
    await ext.activate();
    const manifest = JSON.parse(readFileSync(path.join(ext.extensionPath, 'package.json'), 'utf8')) as Manifest;
    const contributed = (manifest.contributes?.commands ?? []).map((c) => c.command);
    assert.ok(contributed.length > 0, 'package.json contributes no commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `contributed but not registered after activation: ${missing.join(', ')}`);
  });

  test('activation starts no engine process', async () => {
    const api = await ext.activate();
    await sleep(300); // a fork() during activation would show up by now
    // The extension's own account: the engine client never started.
    assert.equal(api.engine.state(), 'stopped');
    assert.equal(api.engine.pid(), undefined);
    // The system's account (Linux /proc): no child process of the extension appeared.
    if (existsSync('/proc/self')) {
      assert.ok(readdirSync(`/proc/${process.pid}/task`).length > 0, 'the extension host\'s threads are not readable in /proc');
      const before = new Set(childrenBefore.map((p) => p.pid));
      const added = descendants(process.pid).filter((p) => !before.has(p.pid));
      if (added.length > 0) console.log(`new child processes of the extension host: ${added.map((p) => `${p.pid} ${p.cmdline}`).join(' | ')}`);
      const ours = added.filter((p) => p.cmdline.includes(`${ext.extensionPath}${path.sep}`) || /dist\/engine\.js/.test(p.cmdline));
      assert.deepEqual(ours, [], 'activation spawned a process of the extension');
    }
  });

  test('the fixture workspace is open and writable', async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder is open');
    const puzzles = new TextDecoder().decode(await vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, 'puzzles.txt')));
    const lines = puzzles.split('\n').filter(Boolean);
    assert.ok(lines.length >= 1);
    for (const l of lines) assert.match(l, /^[0-9.]{81}$/);
    const probe = vscode.Uri.joinPath(folder.uri, '.hrm-write-probe');
    await vscode.workspace.fs.writeFile(probe, new TextEncoder().encode('ok'));
    await vscode.workspace.fs.delete(probe);
  });
});
