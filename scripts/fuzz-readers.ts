/**
 * The full fuzzing run of the file readers (issue 4): 10,000 seeded mutations per reader (torch zip, torch zip with
 * a mutated pickle, the pickle VM, safetensors, npy, CSV). Prints, per reader, the inputs tried, how many parsed,
 * the clear errors by kind, failures (unclear errors, crashes, cases over the time limit) and the time taken.
 *
 *   node --import tsx scripts/fuzz-readers.ts [--cases 10000] [--seed 1] [--json]
 *
 * Exit status 1 when any reader had a failure.
 */
import { fuzzReader, fuzzReaders, type FuzzReport } from '../test/unit/helpers/fuzz-readers';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const cases = arg('cases', 10_000);
  const seed = arg('seed', 1);
  const json = process.argv.includes('--json');
  const { readers, cleanup } = fuzzReaders();
  const reports: FuzzReport[] = [];
  try {
    for (const [k, reader] of readers.entries()) {
      const r = await fuzzReader(reader, cases, seed * 1000 + k, 2000);
      reports.push(r);
      if (!json) {
        const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
        process.stdout.write(`${r.reader.padEnd(13)} ${r.cases} inputs: ${r.parsed} parsed, ${errs} clear errors `
          + `(${Object.keys(r.errors).length} kinds), ${r.failures} failures; max ${r.maxCaseMs.toFixed(1)} ms/case, ${(r.totalMs / 1000).toFixed(1)} s\n`);
        const top = Object.entries(r.errors).sort((a, b) => b[1] - a[1]).slice(0, 6);
        for (const [kind, n] of top) process.stdout.write(`    ${String(n).padStart(6)}  ${kind}\n`);
        for (const f of r.failureExamples) process.stdout.write(`    FAILURE ${f}\n`);
      }
    }
  } finally {
    cleanup();
  }
  if (json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
  const failures = reports.reduce((a, r) => a + r.failures, 0);
  if (!json) process.stdout.write(`total: ${reports.reduce((a, r) => a + r.cases, 0)} inputs, ${failures} failures (crashes, hangs, unclear errors)\n`);
  process.exitCode = failures ? 1 : 0;
}

void main();
