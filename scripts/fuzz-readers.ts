/**
 * The full fuzzing run of the file readers: seeded mutations of valid files per reader (torch zip, torch zip with a
 * mutated pickle, the pickle VM, safetensors, npy, CSV) and hostile shapes generated from scratch (deep nesting,
 * cycles and shared sub-objects, shared and oversized storages and zip bombs, non-finite values, huge config values
 * and long metadata, npy headers, long lines without a line break). Prints, per reader or shape, the inputs tried,
 * how many parsed, the clear errors by kind, the failures — crashes (errors that are not a DataError naming the
 * input), hangs (cases over the time limit), hostile inputs accepted — and the peak resident set.
 *
 *   node --import tsx scripts/fuzz-readers.ts [--cases 10000] [--hostile 500] [--seed 1] [--limit-ms 2000]
 *                                             [--max-rss-mb 500] [--only <name part>] [--json]
 *
 * Exit status 1 when anything failed or the peak resident set passed --max-rss-mb.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fuzzReader, fuzzReaders, fuzzShape, hostileShapes, type FuzzReport } from '../test/unit/helpers/fuzz-readers';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function print(r: FuzzReport): void {
  const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
  process.stdout.write(`${r.reader.padEnd(17)} ${r.cases} inputs: ${r.parsed} parsed, ${errs} clear errors `
    + `(${Object.keys(r.errors).length} kinds), ${r.crashes} crashes, ${r.hangs} hangs, ${r.accepted} accepted; `
    + `max ${r.maxCaseMs.toFixed(1)} ms/case, ${(r.totalMs / 1000).toFixed(1)} s, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MB\n`);
  const top = Object.entries(r.errors).sort((a, b) => b[1] - a[1]).slice(0, 6);
  for (const [kind, n] of top) process.stdout.write(`    ${String(n).padStart(6)}  ${kind}\n`);
  for (const f of r.failureExamples) process.stdout.write(`    FAILURE ${f}\n`);
}

async function main(): Promise<void> {
  const cases = arg('cases', 10_000);
  const hostile = arg('hostile', 500);
  const seed = arg('seed', 1);
  const limitMs = arg('limit-ms', 2000);
  const maxRssMb = arg('max-rss-mb', 500);
  const oi = process.argv.indexOf('--only');
  const only = oi >= 0 ? process.argv[oi + 1] : undefined;
  const json = process.argv.includes('--json');
  // Collect garbage between cases, so that the peak measures what one case needs.
  const g = globalThis as { gc?: () => void };
  if (!g.gc) {
    setFlagsFromString('--expose-gc');
    g.gc = runInNewContext('gc') as () => void;
  }
  const { readers, cleanup } = fuzzReaders();
  const { shapes, cleanup: cleanupShapes } = hostileShapes();
  const reports: FuzzReport[] = [];
  const wanted = (name: string): boolean => only === undefined || name.includes(only);
  try {
    for (const [k, reader] of readers.entries()) {
      if (!wanted(reader.name) || cases === 0) continue;
      process.stderr.write(`fuzzing ${reader.name}\n`);
      reports.push(await fuzzReader(reader, cases, seed * 1000 + k, limitMs));
      if (!json) print(reports[reports.length - 1]);
    }
    for (const [k, shape] of shapes.entries()) {
      if (!wanted(shape.name) || hostile === 0) continue;
      process.stderr.write(`fuzzing ${shape.name}\n`);
      reports.push(await fuzzShape(shape, hostile, seed * 1000 + 100 + k, limitMs));
      if (!json) print(reports[reports.length - 1]);
    }
  } finally {
    cleanup();
    cleanupShapes();
  }
  const sum = (key: 'cases' | 'crashes' | 'hangs' | 'accepted' | 'failures'): number => reports.reduce((a, r) => a + r[key], 0);
  const peak = Math.max(0, ...reports.map((r) => r.peakRssBytes));
  const summary = {
    inputs: sum('cases'), crashes: sum('crashes'), hangs: sum('hangs'), accepted: sum('accepted'), peakRssBytes: peak, maxRssBytes: maxRssMb * 2 ** 20,
  };
  if (json) process.stdout.write(`${JSON.stringify({ summary, reports }, null, 2)}\n`);
  else {
    process.stdout.write(`total: ${summary.inputs} inputs, ${summary.crashes} crashes, ${summary.hangs} hangs, ${summary.accepted} hostile inputs `
      + `accepted; peak RSS ${(peak / 2 ** 20).toFixed(0)} MB (limit ${maxRssMb} MB)\n`);
  }
  process.exitCode = sum('failures') > 0 || peak > summary.maxRssBytes ? 1 : 0;
}

void main();
