#!/usr/bin/env node
// `hrm-lens` / `npx hrm-lens`: runs the bundled CLI (dist/cli.js); from a source checkout without a build, runs
// engine/cli.ts through tsx so that the command always reflects the sources.
const path = require('node:path');
const fs = require('node:fs');
const root = path.resolve(__dirname, '..');
const bundled = path.join(root, 'dist', 'cli.js');
if (fs.existsSync(bundled) && !fs.existsSync(path.join(root, 'engine', 'cli.ts'))) {
  require(bundled);
} else if (fs.existsSync(bundled) && fs.statSync(bundled).mtimeMs >= newestSource(path.join(root, 'engine'))) {
  require(bundled);
} else {
  const { spawnSync } = require('node:child_process');
  const { pathToFileURL } = require('node:url');
  // tsx from this installation: a bare `--import tsx` would resolve it from the working directory.
  const tsx = pathToFileURL(require.resolve('tsx', { paths: [root] })).href;
  const res = spawnSync(process.execPath, ['--import', tsx, path.join(root, 'engine', 'cli.ts'), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(res.status ?? 1);
}

function newestSource(dir) {
  let newest = 0;
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    if (String(f).endsWith('.ts')) newest = Math.max(newest, fs.statSync(path.join(dir, String(f))).mtimeMs);
  }
  return newest;
}
