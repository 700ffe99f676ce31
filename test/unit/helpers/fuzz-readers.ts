/**
 * Seeded mutation fuzzing of the engine's file readers: torch.save zip, its pickle (mutated, then re-zipped with
 * valid CRCs so that the pickle VM and the tensor rebuilding are reached), the bare pickle VM, safetensors, npy and
 * the CSV dataset reader. Each case applies 1–4 random mutations (bit flips, interesting bytes and 32-bit values,
 * deletions, duplications, insertions, truncation) to a valid seed file and runs the reader. The outcome must be a
 * parse or an Error whose message names the input file (a DataError); anything else — another error type, a thrown
 * non-Error, a case slower than the time limit — is counted as a failure with its first examples.
 *
 * Used by test/unit/interop-fuzz.test.ts (a few hundred cases per reader) and scripts/fuzz-readers.ts (10,000).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Rng } from '../../../engine/util/rng';
import { DataError } from '../../../engine/util/errors';
import { parseTorchCheckpoint, TORCH_ALLOWED_GLOBALS, torchPersistentLoad } from '../../../engine/interop/torch-zip';
import { ZipArchive } from '../../../engine/interop/zip-entries';
import { unpickle } from '../../../engine/interop/pickle';
import { encodeSafetensors, parseSafetensors } from '../../../engine/interop/safetensors';
import { encodeNpy, parseNpy } from '../../../engine/interop/npy';
import { readCsv } from '../../../engine/sudoku/dataset';
import { storedZip } from './stored-zip';

export interface FuzzReport {
  reader: string;
  cases: number;
  parsed: number;
  /** Clear errors (DataError naming the input), by their first words. */
  errors: Record<string, number>;
  /** Failures: unclear errors, non-Errors, too slow. */
  failures: number;
  failureExamples: string[];
  maxCaseMs: number;
  totalMs: number;
}

interface Reader {
  name: string;
  seeds: Uint8Array[];
  /** Parses; returns normally or throws. `name` is the file name errors must mention. */
  run(bytes: Uint8Array, name: string): void | Promise<void>;
  /** Optional: mutate a part of the seed and rebuild the rest (e.g. re-zip a mutated pickle). */
  rebuild?(mutated: Uint8Array, seedIndex: number): Uint8Array;
  /** The part to mutate (default: the seed itself). */
  part?(seedIndex: number): Uint8Array;
}

const FIX = path.join(__dirname, '..', '..', 'fixtures', 'torch');
const INTERESTING8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x28, 0x2e, 0x52, 0x63, 0x93, 0x7b, 0x22];
const INTERESTING32 = [0, 1, -1, 0x7fffffff, -0x80000000, 0xffff, 0x10000, 1 << 24, 1 << 30];

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** 1–4 random mutations of `input` (never returns the same object). */
export function mutate(input: Uint8Array, rng: Rng): Uint8Array {
  let b: Uint8Array = input.slice();
  const n = 1 + rng.int(4);
  for (let k = 0; k < n; k++) {
    const len = b.length;
    const at = len ? rng.int(len) : 0;
    switch (rng.int(8)) {
      case 0: if (len) b[at] ^= 1 << rng.int(8); break;
      case 1: if (len) b[at] = INTERESTING8[rng.int(INTERESTING8.length)]; break;
      case 2: if (len) b[at] = rng.int(256); break;
      case 3: if (len >= 4) new DataView(b.buffer).setInt32(Math.min(at, len - 4), INTERESTING32[rng.int(INTERESTING32.length)], rng.int(2) === 0); break;
      case 4: { // delete a range
        const m = Math.min(len - at, 1 + rng.int(16));
        b = concat(b.subarray(0, at), b.subarray(at + m));
        break;
      }
      case 5: { // duplicate a range in place
        const m = Math.min(len - at, 1 + rng.int(16));
        b = concat(b.subarray(0, at + m), b.subarray(at, at + m), b.subarray(at + m));
        break;
      }
      case 6: { // insert random bytes
        const m = 1 + rng.int(8);
        const ins = Uint8Array.from({ length: m }, () => rng.int(256));
        b = concat(b.subarray(0, at), ins, b.subarray(at));
        break;
      }
      case 7: b = b.slice(0, at); break; // truncate
    }
  }
  return b;
}

function read(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(FIX, rel)));
}

function smallSafetensors(): Uint8Array {
  const f = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  return encodeSafetensors({
    'model.inner.q_head.weight': { shape: [2, 4], data: f(8) },
    'model.inner.q_head.bias': { shape: [2], data: f(2), dtype: 'BF16' },
    H_init: { shape: [4], data: f(4), dtype: 'F16' },
    step: { shape: [1], data: BigInt64Array.from([7n]) },
    ids: { shape: [3], data: Int32Array.from([1, 2, 3]) },
  }, { format: 'hrm-lens', config: '{"hidden":4}' });
}

const CSV_SEED = new TextEncoder().encode([
  'source,question,answer,rating',
  'a,..53.....8......2..7..1.5..4....53...1..7...6..32...8..6.5....9..4....3......97..,145327698839654127672918543496185372218473956753296481367542819984761235521839764,12',
  'b,"12..4......5.69.1...9...5.........7.7...52.9..3......2.9.6...5.4..9..8.1..3...9.4",126547398347869512895213746532498167718635924469172853273981465654327981981756239,0',
  '',
].join('\n'));

function torchParts(file: string): { zipBytes: Uint8Array; entries: { name: string; data: Uint8Array }[]; pkl: number } {
  const zipBytes = read(file);
  const zip = new ZipArchive(zipBytes, file);
  const entries = zip.entries.map((e) => ({ name: e.name, data: zip.read(e.name).slice() }));
  return { zipBytes, entries, pkl: entries.findIndex((e) => e.name.endsWith('data.pkl')) };
}

/** The readers and their seed files; `cleanup` removes the CSV temp folder. */
export function fuzzReaders(): { readers: Reader[]; cleanup: () => void } {
  const torch = [torchParts('hrm/step_100_bf16'), torchParts('trm/step_200_bf16')];
  const csvDir = mkdtempSync(path.join(tmpdir(), 'hrm-fuzz-csv-'));
  let csvCount = 0;
  const readers: Reader[] = [
    { name: 'torch-zip', seeds: torch.map((t) => t.zipBytes), run: (b, name) => { parseTorchCheckpoint(b, name); } },
    {
      name: 'torch-pickle', seeds: torch.map((t) => t.zipBytes),
      part: (i) => torch[i].entries[torch[i].pkl].data,
      rebuild: (pkl, i) => storedZip(torch[i].entries.map((e, k) => (k === torch[i].pkl ? { name: e.name, data: pkl } : e))),
      run: (b, name) => { parseTorchCheckpoint(b, name); },
    },
    {
      name: 'pickle', seeds: torch.map((t) => t.entries[t.pkl].data),
      run: (b, name) => { unpickle(b, { file: name, allowedGlobals: TORCH_ALLOWED_GLOBALS, persistentLoad: torchPersistentLoad }); },
    },
    { name: 'safetensors', seeds: [smallSafetensors(), read('hrm/reference-layout.safetensors')], run: (b, name) => { parseSafetensors(b, name); } },
    {
      name: 'npy',
      seeds: [read('expected/hrm4-learned-noyaml.logits.npy'), encodeNpy({ shape: [2, 3], data: Int32Array.from([1, 2, 3, 4, 5, 6]) }),
        encodeNpy({ shape: [4], data: BigInt64Array.from([1n, -2n, 3n, 4n]) })],
      run: (b, name) => { parseNpy(b, name); },
    },
    {
      name: 'csv', seeds: [CSV_SEED],
      run: async (b, name) => {
        const file = path.join(csvDir, `${name}-${csvCount++ % 4}.csv`);
        writeFileSync(file, b);
        try {
          for await (const r of readCsv(file)) void r;
        } catch (err) {
          if (err instanceof DataError && err.location.file === file) throw new DataError({ ...err.location, file: name }, err.reason);
          throw err;
        }
      },
    },
  ];
  return { readers, cleanup: () => rmSync(csvDir, { recursive: true, force: true }) };
}

/** An error message with its particulars (quoted text, numbers) blanked, to count errors by kind. */
export function errorKind(reason: string): string {
  return reason.replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '"…"').replace(/0x[0-9a-f]+/gi, '0xN').replace(/\b[0-9]+\b/g, 'N')
    .replace(/\[[^\]]*\]/g, '[…]').slice(0, 60).trim();
}

/** Run `cases` mutations for one reader. */
export async function fuzzReader(reader: Reader, cases: number, seed: number, caseLimitMs = 2000): Promise<FuzzReport> {
  const rng = new Rng(seed);
  const report: FuzzReport = { reader: reader.name, cases, parsed: 0, errors: {}, failures: 0, failureExamples: [], maxCaseMs: 0, totalMs: 0 };
  const t0 = performance.now();
  for (let i = 0; i < cases; i++) {
    const s = rng.int(reader.seeds.length);
    const base = reader.part ? reader.part(s) : reader.seeds[s];
    const mutated = mutate(base, rng);
    const bytes = reader.rebuild ? reader.rebuild(mutated, s) : mutated;
    const name = `fuzz-${reader.name}-${i}`;
    const c0 = performance.now();
    let failure: string | undefined;
    try {
      await reader.run(bytes, name);
      report.parsed++;
    } catch (err) {
      if (err instanceof DataError && err.message.includes(name)) {
        const kind = errorKind(err.reason);
        report.errors[kind] = (report.errors[kind] ?? 0) + 1;
      } else if (err instanceof Error) {
        failure = `case ${i}: unclear ${err.name}: ${err.message.slice(0, 200)}`;
      } else {
        failure = `case ${i}: threw a non-Error ${String(err).slice(0, 100)}`;
      }
    }
    const ms = performance.now() - c0;
    report.maxCaseMs = Math.max(report.maxCaseMs, ms);
    if (ms > caseLimitMs) failure = `case ${i}: took ${ms.toFixed(0)} ms (limit ${caseLimitMs})`;
    if (failure) {
      report.failures++;
      if (report.failureExamples.length < 5) report.failureExamples.push(failure);
    }
  }
  report.totalMs = performance.now() - t0;
  return report;
}
