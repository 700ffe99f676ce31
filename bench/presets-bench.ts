/**
 * `npm run bench -- presets`: training steps/s of each preset on the installed backend (bench/preset-steps.ts: the
 * preset's model, batch and generated puzzles, as `hrm-lens train --preset NAME` runs them), `--warmup` steps first,
 * then `--runs` runs of `--steps` timed steps each; median and spread (min–max) over the runs. Optionally the wall
 * time of `hrm-lens reproduce` on a baseline and a data-mixing run (the built CLI, dist/cli.js), when both folders
 * are given; skipped otherwise.
 *   npx tsx bench/presets-bench.ts [--presets tiny-4x4,small-6x6,hard-6x6,easy-9x9] [--steps 20] [--warmup 3]
 *     [--runs 3] [--backend auto|wasm|cpu|…] [--quick] [--results DIR]   (--presets none: only the reproduce timing)
 *     [--reproduce-baseline DIR --reproduce-mixing DIR [--reproduce-runs 1] [--reproduce-args "--puzzles 100 …"]]
 * --quick: 1 run of 5 steps after 2 warm-up steps (a check that it runs, not a figure to report).
 * Writes presets.json (every run, the machine, the load average) and presets.md to bench/results/ (or --results DIR).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { selectBackend, type BackendChoice } from '../engine/backend';
import { BENCH_PRESETS, type PresetTiming, timePresetSteps } from './preset-steps';

const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const int = (name: string, def: number, min: number): number => {
  const v = arg(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
};
const quick = argv.includes('--quick');
const steps = int('steps', quick ? 5 : 20, 1);
const warmup = int('warmup', quick ? 2 : 3, 0);
const runs = int('runs', quick ? 1 : 3, 1);
const presetsArg = arg('presets') ?? BENCH_PRESETS.join(',');
const presets = presetsArg === 'none' ? [] : presetsArg.split(',').map((s) => s.trim()).filter(Boolean);
const backend = (arg('backend') ?? process.env.HRM_LENS_BACKEND ?? 'auto') as BackendChoice;
const reproduceBaseline = arg('reproduce-baseline');
const reproduceMixing = arg('reproduce-mixing');
const reproduceRuns = int('reproduce-runs', 1, 1);
const reproduceArgs = (arg('reproduce-args') ?? '').split(/\s+/).filter(Boolean);
const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
const resultsDir = path.resolve(arg('results') ?? path.join(__dirname, 'results'));

interface Spread { median: number; min: number; max: number; n: number }
function spread(xs: readonly number[]): Spread | null {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  return s.length ? { median: s[Math.floor((s.length - 1) / 2)], min: s[0], max: s[s.length - 1], n: s.length } : null;
}

type PresetRow = (PresetTiming & { stat: Spread | null }) | { preset: string; error: string };

interface ReproduceTiming { skipped?: string; error?: string; command?: string[]; seconds?: number[]; stat?: Spread | null }

/** `node dist/cli.js reproduce …` timed `reproduceRuns` times, each into a fresh report folder (removed after). */
function timeReproduce(): ReproduceTiming {
  if (!reproduceBaseline || !reproduceMixing) return { skipped: 'not asked (--reproduce-baseline DIR --reproduce-mixing DIR)' };
  if (!existsSync(cli)) return { error: 'dist/cli.js is missing: run `npm run build` first' };
  const seconds: number[] = [];
  let command: string[] = [];
  for (let i = 0; i < reproduceRuns; i++) {
    const out = mkdtempSync(path.join(tmpdir(), 'hrm-bench-reproduce-'));
    try {
      command = ['reproduce', '--baseline', reproduceBaseline, '--mixing', reproduceMixing, '--backend', backend, '--quiet', ...reproduceArgs];
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [cli, ...command, '--out', path.join(out, 'report')], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
      if (r.status !== 0) return { command, error: `exit ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-2).join(' ')}` };
      seconds.push((performance.now() - t0) / 1000);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }
  return { command, seconds, stat: spread(seconds) };
}

async function main(): Promise<void> {
  if (Boolean(reproduceBaseline) !== Boolean(reproduceMixing)) {
    console.error('presets-bench: --reproduce-baseline DIR and --reproduce-mixing DIR go together');
    process.exit(1);
  }
  const load0 = loadavg()[0];
  const t0 = Date.now();
  const info = await selectBackend({ backend });
  const rows: PresetRow[] = [];
  for (const name of presets) {
    const t = Date.now();
    try {
      const timing = await timePresetSteps(name, { steps, warmup, runs });
      rows.push({ ...timing, stat: spread(timing.stepsPerSecond) });
    } catch (e) {
      rows.push({ preset: name, error: e instanceof Error ? e.message : String(e) });
    }
    console.error(`bench presets: ${name}: ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
  const reproduce = timeReproduce();
  const fmt = (s: Spread | null | undefined, d: number): string => (s ? `${s.median.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})` : '–');
  const rel = (s: Spread | null): string => (s && s.n > 1 ? `±${((50 * (s.max - s.min)) / s.median).toFixed(0)}%` : '–');
  const table = ['| preset | grid | hidden | batch (micro) | parameters | training steps/s | spread | s per 1,000 steps |', '|---|---|---|---|---:|---|---|---:|',
    ...rows.map((r) => ('error' in r ? `| ${r.preset} | not run: ${r.error} | | | | | | |`
      : `| ${r.preset} | ${r.gridSize}×${r.gridSize} | ${r.hidden} | ${r.batch} (${r.microBatch}) | ${r.params.toLocaleString('en-US')} | ${fmt(r.stat, 2)} | ${rel(r.stat)} | ${r.stat ? (1000 / r.stat.median).toFixed(0) : '–'} |`))];
  const repro = reproduce.skipped ? `\`hrm-lens reproduce\`: skipped (${reproduce.skipped}).`
    : reproduce.error ? `\`hrm-lens reproduce\`: not timed: ${reproduce.error}.`
      : `\`hrm-lens ${(reproduce.command ?? []).join(' ')}\`: ${fmt(reproduce.stat, 1)} s over ${reproduce.stat?.n ?? 0} run(s).`;
  const header = `\`npm run bench -- presets\` (bench/presets-bench.ts${quick ? ' --quick' : ''}: ${warmup} warm-up steps, then ${runs} run${runs > 1 ? 's' : ''} of ${steps} steps), `
    + `${new Date().toISOString().slice(0, 16)}Z; ${info.name} (${info.detail}); ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}; `
    + `load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}; ${((Date.now() - t0) / 60000).toFixed(1)} min. Median (min–max) over the runs; `
    + 'a step draws its generated puzzles, as in training.';
  const md = `${header}\n\n${table.join('\n')}\n\n${repro}\n`;
  console.log(`\n${md}`);
  mkdirSync(resultsDir, { recursive: true });
  const json = { date: new Date().toISOString(), backend: { name: info.name, detail: info.detail, threads: info.threads }, steps, warmup, runs, quick,
    loadavg: [load0, loadavg()[0]], cpus: `${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}`, presets: rows, reproduce };
  writeFileSync(path.join(resultsDir, 'presets.json'), `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(path.join(resultsDir, 'presets.md'), md);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
