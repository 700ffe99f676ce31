#!/usr/bin/env node
// `npm run screenshots [-- --run]`: refresh the README's pictures (media/screenshots/, tracked) from the screenshots
// the browser walks saved under out/shots/ (ignored output: tests never write tracked files).
//
//   (no flag)  copy the pictures listed in scripts/shots.mjs PICTURES from out/shots/ as they are now (run the walks first:
//              `npm run test:e2e` and `node test/e2e/start.e2e.mjs`, or use --run)
//   --run      first build, then run test/e2e/inspector.e2e.mjs and test/e2e/start.e2e.mjs (code-server and
//              Chromium needed: `npm run setup`); a walk that fails leaves media/screenshots/ unchanged
//
// Nothing is copied unless every listed source exists and is a PNG. Exit 1 otherwise.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PICTURES, PICTURES_DIR, SHOTS_DIR, SHOTS_REL } from './shots.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function isPng(file) {
  const head = Buffer.alloc(8);
  const fd = openSync(file, 'r');
  try {
    return readSync(fd, head, 0, 8, 0) === 8 && head.equals(PNG_SIGNATURE);
  } finally {
    closeSync(fd);
  }
}

function run(label, args) {
  console.log(`screenshots: ${label}`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`screenshots: ${label} failed (exit ${r.status ?? r.signal}); media/screenshots/ left unchanged`);
    process.exit(1);
  }
}

if (process.argv.includes('--run')) {
  run('building', [path.join(root, 'esbuild.mjs')]);
  for (const walk of [...new Set(PICTURES.map((p) => p.walk))]) run(`running ${walk}`, [path.join(root, walk)]);
}

const problems = [];
for (const p of PICTURES) {
  const src = path.join(SHOTS_DIR, p.source);
  if (!existsSync(src)) problems.push(`${SHOTS_REL}/${p.source} is missing (taken by ${p.walk})`);
  else if (!isPng(src)) problems.push(`${SHOTS_REL}/${p.source} is not a PNG`);
}
if (problems.length) {
  console.error(`screenshots: nothing copied:\n  ${problems.join('\n  ')}\n  run the walks first, or \`npm run screenshots -- --run\``);
  process.exit(1);
}
mkdirSync(PICTURES_DIR, { recursive: true });
for (const p of PICTURES) {
  const src = path.join(SHOTS_DIR, p.source);
  copyFileSync(src, path.join(PICTURES_DIR, p.name));
  console.log(`screenshots: media/screenshots/${p.name} ← ${SHOTS_REL}/${p.source} (taken ${statSync(src).mtime.toISOString()})`);
}
