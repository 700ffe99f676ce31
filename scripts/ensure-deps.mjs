#!/usr/bin/env node
// Runs before `npm start` and `npm test`: installs the pinned dependencies (`npm ci`, from package-lock.json) when
// node_modules is missing or older than the lock file, so that a fresh clone needs no separate install step.
// Imports only Node's own modules: it runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lock = path.join(root, 'package-lock.json');
const installed = path.join(root, 'node_modules', '.package-lock.json');

function why() {
  if (!existsSync(installed)) return 'node_modules is missing';
  if (statSync(lock).mtimeMs > statSync(installed).mtimeMs) return 'package-lock.json is newer than node_modules';
  return undefined;
}

const reason = why();
if (reason) {
  console.log(`ensure-deps: ${reason}: npm ci (the pinned versions of package-lock.json)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    console.error(`ensure-deps: npm ci failed (exit ${r.status ?? r.signal}); run it by hand to see why`);
    process.exit(1);
  }
}
