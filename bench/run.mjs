#!/usr/bin/env node
// `npm run bench [-- --quick] [-- name…]`: without names, the one summary table (bench/summary.mjs: every backend
// side by side with PyTorch). With names, those benchmarks one after another, each in its own process, results in
// bench/results/. Names: summary, sudoku, dataset, model, agreement, parallel, fma, paired, presets, torch-backend.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
// Flags pass through; a flag's value (`--runs 3`, `--presets tiny-4x4`, `--reproduce-baseline DIR`) is not a benchmark name.
const VALUE_FLAGS = new Set(['--presets', '--backend', '--results', '--reproduce-baseline', '--reproduce-mixing', '--reproduce-args', '--device', '--python', '--rows', '--big-config']);
const flags = args.filter((a, i) => a.startsWith('--') || (i > 0 && args[i - 1].startsWith('--') && (/^\d/.test(a) || VALUE_FLAGS.has(args[i - 1]))));
const names = args.filter((a) => !flags.includes(a));
const all = { summary: 'summary.mjs', sudoku: 'sudoku-bench.ts', dataset: 'dataset-bench.ts', model: 'model-bench.ts', agreement: 'agreement.ts', parallel: 'parallel-ab.ts', fma: 'fma-ceiling.mjs', paired: 'paired.ts', presets: 'presets-bench.ts', 'torch-backend': 'torch-backend.ts' };
if (names.length === 0) names.push('summary');
let failed = 0;
for (const [name, file] of Object.entries(all)) {
  if (names.length && !names.includes(name)) continue;
  const script = path.join(here, file);
  if (!existsSync(script)) continue;
  console.log(`\n== bench: ${name} ==`);
  const res = spawnSync(process.execPath, ['--import', 'tsx', script, ...flags], { stdio: 'inherit', cwd: path.resolve(here, '..') });
  if (res.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
