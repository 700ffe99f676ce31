#!/usr/bin/env node
// `npm run bench [-- --quick] [-- name…]`: runs the benchmarks one after another, each in its own process, and
// leaves their results in bench/results/. Names: sudoku, dataset, model, agreement (default: all that exist).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const names = args.filter((a) => !a.startsWith('--'));
const all = { sudoku: 'sudoku-bench.ts', dataset: 'dataset-bench.ts', model: 'model-bench.ts', agreement: 'agreement.ts' };
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
