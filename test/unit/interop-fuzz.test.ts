/**
 * Fuzzing of the readers (torch zip, its pickle, the pickle VM, safetensors, npy, CSV): a few hundred seeded
 * mutations each, and a few dozen inputs of each hostile shape (deep nesting, cycles, shared and oversized storages,
 * zip bombs, non-finite values, huge config values, npy headers, long lines). Every case must parse or throw a
 * DataError naming the input, hostile inputs beyond the bounds must be refused, no case may hang, and the peak
 * resident set of the run must stay under 500 MB. The run is scripts/fuzz-readers.ts in a child process, so that
 * its peak is its own; the full run is that script with its defaults.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fuzzReaders, hostileShapes, type FuzzReport } from './helpers/fuzz-readers';

const CASES = 300;
const HOSTILE = 40;
const MAX_RSS_MB = 500;
const root = path.join(__dirname, '..', '..');

interface Run { summary?: { peakRssBytes: number }; reports: FuzzReport[]; problem?: string }

function runFuzz(): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join('scripts', 'fuzz-readers.ts'),
      '--cases', String(CASES), '--hostile', String(HOSTILE), '--limit-ms', '20000', '--max-rss-mb', String(MAX_RSS_MB), '--json'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    // Only catches a hang: the run takes well under a minute.
    const timer = setTimeout(() => child.kill('SIGKILL'), 280_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const last = err.trim().split('\n').slice(-3).join(' | ');
      try {
        const parsed = JSON.parse(out) as Run;
        resolve(parsed);
      } catch {
        resolve({ reports: [], problem: `the fuzz run ended with ${signal ?? `status ${code}`} and no report; last: ${last}` });
      }
    });
  });
}

let run: Run = { reports: [] };
before(async () => { run = await runFuzz(); }, { timeout: 300_000 });

const { readers, cleanup } = fuzzReaders();
const { shapes, cleanup: cleanupShapes } = hostileShapes();
const names = [...readers.map((r) => `${r.name}: ${CASES} mutations`), ...shapes.map((s) => `${s.name}: ${HOSTILE} hostile inputs`)];
cleanup();
cleanupShapes();

for (const label of names) {
  const name = label.slice(0, label.indexOf(':'));
  test(`fuzz ${label} parse or fail clearly: no crash, no hang, nothing hostile accepted`, () => {
    assert.equal(run.problem, undefined, run.problem);
    const r = run.reports.find((x) => x.reader === name);
    assert.ok(r, `a report for ${name}`);
    const errs = Object.values(r.errors).reduce((a, b) => a + b, 0);
    process.stdout.write(`# ${name}: ${r.parsed} parsed, ${errs} clear errors, ${r.crashes} crashes, ${r.hangs} hangs, `
      + `${r.accepted} accepted, max ${r.maxCaseMs.toFixed(0)} ms/case, peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MB\n`);
    assert.equal(r.crashes, 0, r.failureExamples.join('\n'));
    assert.equal(r.hangs, 0, r.failureExamples.join('\n'));
    assert.equal(r.accepted, 0, r.failureExamples.join('\n'));
    assert.equal(r.parsed + errs, r.cases);
  });
}

test(`the fuzz run's peak resident set stays under ${MAX_RSS_MB} MB`, () => {
  assert.equal(run.problem, undefined, run.problem);
  const peak = run.summary?.peakRssBytes ?? Infinity;
  assert.ok(peak < MAX_RSS_MB * 2 ** 20, `peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`);
});
