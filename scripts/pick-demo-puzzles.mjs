#!/usr/bin/env node
// Picks demo puzzles for a model by what `hrm-lens classify` measures on a dataset: one puzzle of each of the four
// reasoning modes, one stuck at a spurious fixed point, and one corruption. Writes them in the demo's puzzle-list
// format (one puzzle per line, `.` = blank, `#` comment lines; the dataset reader and the "Inspect this puzzle" code
// lens both read it), each puzzle under a comment line saying what classify measured.
//
//   node scripts/pick-demo-puzzles.mjs --checkpoint FILE --data FILE --out FILE [--segments N] [--backend NAME]
//                                      [--save-report FILE] [--report FILE]
//     --checkpoint   the model (e.g. models/hard-6x6.safetensors)
//     --data         puzzles in dataset order (CSV with answers, or one puzzle per line)
//     --out          the puzzle list to write (e.g. demo/puzzles-6x6.txt)
//     --segments N   segments per puzzle (default: the model's haltMaxSteps)
//     --backend      passed to classify (default: classify's own, i.e. HRM_LENS_BACKEND or auto)
//     --save-report  also write classify's JSON report there
//     --report FILE  pick from a saved `hrm-lens classify --json` report instead of running classify
//
// Runs the built command line (dist/cli.js: `npm run build`). Kinds, each the first match in dataset order that no
// earlier kind took (when every match was taken, the comment points at the puzzle above):
//   trivial-success, non-trivial-success, trivial-failure, non-trivial-failure   classify's mode
//   spurious-fixed-point   a non-trivial failure: settled (drift below τ, the same grid over the late window) on a
//                          grid with wrong cells
//   corruption             exact at some segment, wrong at a later one (classify's corruptions)
// A kind with no match is written as a comment and reported on stderr ("no … puzzle among N puzzles"); the exit
// status is still 0. Exit 1 on bad arguments or a failed classify.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'cli.js');

const MODES = ['trivial-success', 'non-trivial-success', 'trivial-failure', 'non-trivial-failure'];

/** The kinds in the order they are picked: name, what it means (for the missing-kind line), the test. */
const KINDS = [
  ...MODES.map((m) => ({ name: m, meaning: `classified ${m}`, test: (e) => e.mode === m })),
  {
    name: 'spurious-fixed-point', meaning: 'a non-trivial failure settled on a grid with wrong cells',
    test: (e) => e.mode === 'non-trivial-failure' && e.settled === true && (e.finalWrong ?? 1) > 0,
  },
  { name: 'corruption', meaning: 'exact at some segment and wrong at a later one', test: (e) => Array.isArray(e.corruptions) && e.corruptions.length > 0 },
];

function fail(message) {
  console.error(`pick-demo-puzzles: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const known = new Set(['checkpoint', 'data', 'out', 'segments', 'backend', 'save-report', 'report']);
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([\w-]+)$/.exec(argv[i]);
    if (!m || !known.has(m[1])) fail(`unknown argument ${JSON.stringify(argv[i])} (flags: ${[...known].map((k) => `--${k}`).join(', ')})`);
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) fail(`--${m[1]} needs a value`);
    flags[m[1]] = value;
    i++;
  }
  if (!flags.out) fail('--out FILE is required');
  if (!flags.report && (!flags.checkpoint || !flags.data)) fail('--checkpoint FILE and --data FILE are required (or --report FILE)');
  if (flags.segments !== undefined && !/^[1-9]\d{0,2}$/.test(flags.segments)) fail(`--segments must be an integer from 1 to 999, got ${JSON.stringify(flags.segments)}`);
  return flags;
}

/** classify's JSON report: run the built CLI, or read a saved one. */
function classifyReport(flags) {
  if (flags.report) {
    try {
      return JSON.parse(readFileSync(flags.report, 'utf8'));
    } catch (e) {
      fail(`${flags.report}: not a classify JSON report (${e instanceof Error ? e.message : e})`);
    }
  }
  if (!existsSync(cli)) fail(`${path.relative(process.cwd(), cli) || cli} is missing: run \`npm run build\` first`);
  const args = [cli, 'classify', '--checkpoint', flags.checkpoint, '--data', flags.data, '--json'];
  if (flags.segments) args.push('--segments', flags.segments);
  if (flags.backend) args.push('--backend', flags.backend);
  const r = spawnSync(process.execPath, args, { cwd: process.cwd(), encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) fail(`hrm-lens classify failed (exit ${r.status ?? r.signal}): ${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ')}`);
  try {
    return JSON.parse(r.stdout);
  } catch (e) {
    return fail(`hrm-lens classify printed no JSON report (${e instanceof Error ? e.message : e})`);
  }
}

/** "first exact segment 3, corruptions at segments 5, 6, final wrong cells 2". */
function measured(e) {
  const corr = e.corruptions?.length ? `at segment${e.corruptions.length > 1 ? 's' : ''} ${e.corruptions.join(', ')}` : 'none';
  return `${e.mode}; first exact segment ${e.firstExact ?? 'never'}; corruptions ${corr}; final wrong cells ${e.finalWrong ?? 'unknown (no solution)'}`
    + `; ${e.settled ? 'settled' : 'not settled'}`;
}

/** For each kind, the entry picked (or undefined), and whether it was already picked by an earlier kind. */
function pick(entries) {
  const taken = new Map();
  return KINDS.map((k) => {
    const matches = entries.filter(k.test);
    const fresh = matches.find((e) => !taken.has(e));
    const entry = fresh ?? matches[0];
    const sameAs = fresh ? undefined : entry && taken.get(entry);
    if (fresh) taken.set(fresh, k.name);
    return { kind: k, entry, sameAs };
  });
}

const flags = parseArgs(process.argv.slice(2));
const report = classifyReport(flags);
const entries = Array.isArray(report?.entries) ? report.entries : fail('the classify report has no entries');
if (flags['save-report']) {
  mkdirSync(path.dirname(path.resolve(flags['save-report'])), { recursive: true });
  writeFileSync(flags['save-report'], `${JSON.stringify(report, null, 2)}\n`);
}
const source = path.basename(String(report.source ?? flags.data ?? 'the dataset'));
const tau = Number.isFinite(report.tau) ? Number(report.tau).toPrecision(3) : '–';
const lines = [
  `# Demo puzzles for ${path.basename(String(report.checkpoint ?? flags.checkpoint))}: picked by scripts/pick-demo-puzzles.mjs from ${source}`,
  `# (hrm-lens classify: ${entries.length} puzzles, ${report.segments ?? '?'} segments, τ = ${tau} (${report.tauSource ?? '?'}); the first match in dataset order).`,
  '# One puzzle per line under its comment; "." is a blank. Click "Inspect this puzzle" above a puzzle to watch it segment by segment.',
];
let missing = 0;
for (const { kind, entry, sameAs } of pick(entries)) {
  lines.push('');
  if (!entry) {
    missing++;
    lines.push(`# ${kind.name}: none among the ${entries.length} puzzles (${kind.meaning})`);
    console.error(`pick-demo-puzzles: no ${kind.name} puzzle among ${entries.length} puzzles (${kind.meaning})`);
    continue;
  }
  if (sameAs) {
    lines.push(`# ${kind.name}: see the ${sameAs} puzzle above (${entry.id}; every ${kind.name} puzzle is listed already): ${measured(entry)}`);
    continue;
  }
  lines.push(`# ${kind.name} (${entry.id} of ${source}): ${measured(entry)}`, entry.puzzle);
}
mkdirSync(path.dirname(path.resolve(flags.out)), { recursive: true });
writeFileSync(flags.out, `${lines.join('\n')}\n`);
console.log(`pick-demo-puzzles: wrote ${flags.out}: ${KINDS.length - missing} of ${KINDS.length} kinds${missing ? ` (${missing} missing, listed above)` : ''}`);
