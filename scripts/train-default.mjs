#!/usr/bin/env node
// `npm run train:default`: trains the model that ships with the extension (so inspection works on a fresh install
// before any training) and copies its final checkpoint and evaluation into models/. Seeded: the same backend gives
// the same weights. Prints the wall time and the held-out accuracy for the README.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const preset = process.argv[2] ?? 'tiny-4x4';
const runDir = path.join(root, '.hrm', 'runs', `default-${preset}`);
rmSync(runDir, { recursive: true, force: true });
const t0 = Date.now();
const res = spawnSync(process.execPath, [path.join(root, 'bin', 'hrm-lens.cjs'), 'train', '--preset', preset, '--seed', '1', '--backend', 'wasm', '--out', runDir],
  { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
if (res.status !== 0) process.exit(res.status ?? 1);
const seconds = (Date.now() - t0) / 1000;
const summary = JSON.parse(res.stdout.trim().split('\n').pop());
const outDir = path.join(root, 'models');
mkdirSync(outDir, { recursive: true });
const stem = path.join(outDir, preset);
copyFileSync(summary.checkpoint, `${stem}.safetensors`);
copyFileSync(summary.checkpoint.replace(/\.safetensors$/, '.eval.json'), `${stem}.eval.json`);
// The demo workspace of `npm start` shows this run in the Runs view and its training dashboard (scripts/start.mjs).
if (preset === 'tiny-4x4') {
  const demoRun = path.join(root, 'demo', 'shipped-run');
  mkdirSync(demoRun, { recursive: true });
  copyFileSync(path.join(runDir, 'metrics.jsonl'), path.join(demoRun, 'metrics.jsonl'));
  const spec = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8'));
  if (spec.spec?.backend?.detail) spec.spec.backend.detail = spec.spec.backend.detail.split('; binaries')[0];
  writeFileSync(path.join(demoRun, 'run.json'), `${JSON.stringify(spec, null, 2)}\n`);
}
const files = readdirSync(outDir).filter((f) => f.startsWith(preset));
console.log(`default model: ${files.map((f) => path.join('models', f)).join(', ')}`);
console.log(`trained ${summary.step} steps in ${(seconds / 60).toFixed(1)} min; held-out exact ${(summary.heldOut.exact * 100).toFixed(1)}% `
  + `(${summary.heldOut.puzzles} puzzles, ${summary.heldOut.segments} segments); per segment ${summary.heldOut.perSegment.map((s) => (s.exact * 100).toFixed(1)).join(' / ')}`);
console.log(JSON.stringify({ preset, seconds, ...JSON.parse(readFileSync(`${stem}.eval.json`, 'utf8')) }));
