/**
 * Seeded fuzzing of the engine's file readers, in two kinds:
 *
 *  - mutations: torch.save zip, its pickle (mutated, then re-zipped with valid CRCs so that the pickle VM and the
 *    tensor rebuilding are reached), the bare pickle VM, safetensors, npy and the CSV dataset reader. Each case
 *    applies 1–4 random mutations (bit flips, interesting bytes and 32-bit values, deletions, duplications,
 *    insertions, truncation) to a valid seed file and runs the reader.
 *  - hostile shapes, generated from scratch with random parameters: deep nesting (pickle dicts, lists, tuples,
 *    sets, OrderedDicts and mixtures, in every place of a tensor; JSON in safetensors headers; npy shapes), cycles
 *    and shared sub-objects in pickles, shared and oversized storages and zip bombs, non-finite values, huge
 *    config values and long metadata in safetensors, and long lines without a line break for the text readers.
 *
 * The outcome of a case must be a parse or a DataError whose message names the input (shapes that are hostile
 * beyond the readers' bounds must be refused). Anything else is a failure, counted as a crash (another error type,
 * a thrown non-Error), a hang (a case slower than the time limit) or an accepted hostile input, with the first
 * examples. Each report carries the peak resident set of the run (VmHWM on Linux, else sampled RSS).
 *
 * Used by test/unit/interop-fuzz.test.ts (a reduced run, in a child process) and scripts/fuzz-readers.ts.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Rng } from '../../../engine/util/rng';
import { DataError } from '../../../engine/util/errors';
import { parseTorchCheckpoint, TORCH_ALLOWED_GLOBALS, torchPersistentLoad } from '../../../engine/interop/torch-zip';
import { ZipArchive } from '../../../engine/interop/zip-entries';
import { PICKLE_LIMITS, unpickle } from '../../../engine/interop/pickle';
import { encodeSafetensors, f32ToBf16, f32ToF16, parseSafetensors } from '../../../engine/interop/safetensors';
import { encodeNpy, parseNpy } from '../../../engine/interop/npy';
import { readCsv, readLines } from '../../../engine/sudoku/dataset';
import { configFromFile } from '../../../engine/model/config';
import { encodeStoredZip } from '../../../engine/interop/zip-writer';
import {
  PickleWriter, type StorageType, type TensorSpec, deflatedZeros, peakRss, resetPeakRss, stateDictPickle, tensorPickle,
  torchZip, withSharedDirectoryEntry, zipOf,
} from './hostile-files';

export interface FuzzReport {
  reader: string;
  cases: number;
  parsed: number;
  /** Clear errors (DataError naming the input), by their first words. */
  errors: Record<string, number>;
  /** Failures: crashes + hangs + accepted. */
  failures: number;
  /** Errors that are not a DataError naming the input, and thrown non-Errors. */
  crashes: number;
  /** Cases slower than the time limit. */
  hangs: number;
  /** Hostile inputs beyond the bounds that parsed. */
  accepted: number;
  failureExamples: string[];
  maxCaseMs: number;
  totalMs: number;
  /** Peak resident set while this reader ran, in bytes (VmHWM since the run started, else the largest RSS sampled). */
  peakRssBytes: number;
}

export interface Reader {
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
      rebuild: (pkl, i) => encodeStoredZip(torch[i].entries.map((e, k) => (k === torch[i].pkl ? { name: e.name, data: pkl } : e))),
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
  return reason.slice(0, 500).replace(/"(?:[^"\\]|\\.)*"|'[^']*'/g, '"…"').replace(/0x[0-9a-f]+/gi, '0xN').replace(/\b[0-9]+\b/g, 'N')
    .replace(/\[[^\]]*\]/g, '[…]').slice(0, 60).trim();
}

const MiB = 2 ** 20;

/** One case: the bytes, the reader to run on them, and whether they must be refused. */
interface FuzzCase {
  bytes: Uint8Array;
  run(bytes: Uint8Array, name: string): void | Promise<void>;
  /** Set when the input lies beyond the readers' bounds: parsing it is a failure. */
  mustFail?: string;
}

function newReport(reader: string, cases: number): FuzzReport {
  return {
    reader, cases, parsed: 0, errors: {}, failures: 0, crashes: 0, hangs: 0, accepted: 0, failureExamples: [],
    maxCaseMs: 0, totalMs: 0, peakRssBytes: 0,
  };
}

async function runCases(report: FuzzReport, make: (i: number) => FuzzCase, caseLimitMs: number): Promise<FuzzReport> {
  const start = resetPeakRss();
  let sampled = start;
  const t0 = performance.now();
  for (let i = 0; i < report.cases; i++) {
    const c = make(i);
    const name = `fuzz-${report.reader}-${i}`;
    const c0 = performance.now();
    let failure: string | undefined;
    let kind: 'crashes' | 'hangs' | 'accepted' | undefined;
    try {
      await c.run(c.bytes, name);
      report.parsed++;
      if (c.mustFail) {
        kind = 'accepted';
        failure = `case ${i}: accepted ${c.mustFail}`;
      }
    } catch (err) {
      if (err instanceof DataError && err.message.includes(name)) {
        const k = errorKind(err.reason);
        report.errors[k] = (report.errors[k] ?? 0) + 1;
      } else {
        kind = 'crashes';
        failure = err instanceof Error ? `case ${i}: unclear ${err.name}: ${err.message.slice(0, 200)}`
          : `case ${i}: threw a non-Error ${String(err).slice(0, 100)}`;
      }
    }
    const ms = performance.now() - c0;
    report.maxCaseMs = Math.max(report.maxCaseMs, ms);
    if (ms > caseLimitMs) {
      kind = 'hangs';
      failure = `case ${i}: took ${ms.toFixed(0)} ms (limit ${caseLimitMs})${c.mustFail ? ` on ${c.mustFail}` : ''}`;
    }
    if (kind) {
      report[kind]++;
      report.failures++;
      if (report.failureExamples.length < 5) report.failureExamples.push(failure as string);
    }
    const rss = process.memoryUsage.rss();
    sampled = Math.max(sampled, rss);
    // With --expose-gc, collect when the garbage of past cases piles up: the peak then measures what one case needs.
    if (rss > start + 64 * MiB) (globalThis as { gc?: () => void }).gc?.();
  }
  report.totalMs = performance.now() - t0;
  report.peakRssBytes = Math.max(sampled, peakRss());
  return report;
}

/** Run `cases` mutations for one reader. */
export async function fuzzReader(reader: Reader, cases: number, seed: number, caseLimitMs = 2000): Promise<FuzzReport> {
  const rng = new Rng(seed);
  return runCases(newReport(reader.name, cases), () => {
    const s = rng.int(reader.seeds.length);
    const base = reader.part ? reader.part(s) : reader.seeds[s];
    const mutated = mutate(base, rng);
    return { bytes: reader.rebuild ? reader.rebuild(mutated, s) : mutated, run: reader.run };
  }, caseLimitMs);
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile shapes.

/** A family of hostile inputs: `make` draws one from the rng. */
export interface HostileShape {
  name: string;
  make(rng: Rng): FuzzCase;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
/** An integer in [lo, hi], log-uniformly (small and huge values alike). */
const logInt = (rng: Rng, lo: number, hi: number): number => Math.min(hi, Math.floor(Math.exp(Math.log(lo) + rng.float() * (Math.log(hi + 1) - Math.log(lo)))));
const torchRun = (b: Uint8Array, name: string): void => { parseTorchCheckpoint(b, name); };
const ORDERED_DICT = 0; // memo slot of collections.OrderedDict in the state dicts written here
const ONE: TensorSpec = { name: 'w', key: '0', numel: 4, size: [4] };
const oneStorage = [{ key: '0', data: new Uint8Array(16) }];

/** The head of a state dict pickle: OrderedDict in memo 0, the (empty) dict on the stack. */
const stateDictHead = (): PickleWriter => new PickleWriter().proto().global('collections', 'OrderedDict').put(ORDERED_DICT).emptyTuple().reduce();

type NestKind = 'dict' | 'list' | 'tuple' | 'marktuple' | 'frozenset' | 'appends' | 'setitems' | 'mixed';
const NEST_KINDS: readonly NestKind[] = ['dict', 'list', 'tuple', 'marktuple', 'frozenset', 'appends', 'setitems', 'mixed'];

/** Opcodes leaving one value nested `depth` containers deep (plus the innermost empty one) on the stack. */
function nested(kind: NestKind, depth: number, rng: Rng, memoBase: number): PickleWriter {
  const w = new PickleWriter();
  switch (kind) {
    case 'dict': // as pickle writes {'k': {'k': …}}: dicts and keys first, SETITEMs from the innermost out
      for (let i = 0; i < depth; i++) w.emptyDict().str('k');
      return w.emptyDict().setitem(depth);
    case 'setitems':
      for (let i = 0; i < depth; i++) w.emptyDict().mark().str('k');
      return w.emptyDict().op(0x75, depth);
    case 'list': return w.emptyList(depth + 1).append(depth);
    case 'appends':
      for (let i = 0; i < depth; i++) w.emptyList().mark();
      return w.emptyList().op(0x65, depth);
    case 'tuple': return w.emptyTuple().tuple1(depth);
    case 'marktuple': return w.mark(depth + 1).tuple(depth + 1);
    case 'frozenset': return w.mark(depth + 1).frozenset(depth + 1);
    case 'mixed': {
      // Bottom-up: wrap the value so far in a random container each level (through the memo).
      w.emptyList();
      for (let i = 0; i < depth; i++) {
        const m = memoBase + i;
        switch (rng.int(5)) {
          case 0: w.tuple1(); break;
          case 1: w.put(m).pop().emptyList().get(m).append(); break;
          case 2: w.put(m).pop().emptyDict().str('k').get(m).setitem(); break;
          case 3: w.put(m).pop().mark().get(m).frozenset(); break;
          default: w.put(m).pop().get(ORDERED_DICT).emptyList().str('k').get(m).tuple2().append().tuple1().reduce(); break;
        }
      }
      return w;
    }
  }
}

type Place = 'value' | 'root' | 'size' | 'offset' | 'stride' | 'storage key' | 'storage numel' | 'dict key' | 'state';
const PLACES: readonly Place[] = ['value', 'root', 'size', 'offset', 'stride', 'storage key', 'storage numel', 'dict key', 'state'];

/** A torch.save zip whose pickle holds `value` at `place`. */
function placed(place: Place, value: PickleWriter): Uint8Array {
  const tensor = (parts: Parameters<typeof tensorPickle>[1]): PickleWriter => tensorPickle(ONE, parts);
  const pid = (key: PickleWriter | undefined, numel: PickleWriter | undefined): PickleWriter => {
    const w = new PickleWriter().global('torch._utils', '_rebuild_tensor_v2').mark().mark().str('storage').global('torch', 'FloatStorage');
    w.add(key ?? new PickleWriter().str('0')).str('cpu').add(numel ?? new PickleWriter().int(4)).tuple().binpersid();
    return w.int(0).ints([4]).ints([1]).newFalse().get(ORDERED_DICT).emptyTuple().reduce().tuple().reduce();
  };
  const dict = (entries: (w: PickleWriter) => void, state?: PickleWriter): Uint8Array => {
    const w = stateDictHead().mark();
    entries(w);
    w.setitems();
    if (state) w.add(state).build();
    return torchZip(w.stop().bytes(), oneStorage);
  };
  switch (place) {
    case 'value': return dict((w) => w.str('w').add(tensor({})).str('deep').add(value));
    case 'root': return torchZip(new PickleWriter().proto().global('collections', 'OrderedDict').put(ORDERED_DICT).pop().add(value).stop().bytes(), oneStorage);
    case 'size': return dict((w) => w.str('w').add(tensor({ size: new PickleWriter().add(value).tuple1() })));
    case 'offset': return dict((w) => w.str('w').add(tensor({ offset: value })));
    case 'stride': return dict((w) => w.str('w').add(tensor({ stride: new PickleWriter().add(value).tuple1() })));
    case 'storage key': return dict((w) => w.str('w').add(pid(value, undefined)));
    case 'storage numel': return dict((w) => w.str('w').add(pid(undefined, value)));
    case 'dict key': return dict((w) => w.str('w').add(tensor({})).add(value).int(1));
    case 'state': return dict((w) => w.str('w').add(tensor({})), value);
  }
}

/** Deep nesting of every container kind, in every place of a checkpoint; deeper than the bound must be refused. */
const pickleDeep: HostileShape = {
  name: 'pickle-deep',
  make(rng) {
    const kind = pick(rng, NEST_KINDS);
    const depth = logInt(rng, 1, 30_000);
    const place = pick(rng, PLACES);
    const bytes = placed(place, nested(kind, depth, rng, 1000));
    return { bytes, run: torchRun, mustFail: depth > PICKLE_LIMITS.maxDepth + 2 ? `a ${depth}-deep ${kind} as ${place}` : undefined };
  },
};

/** Cycles, containers grown after nesting, shared sub-objects (DAGs with exponentially many paths), long key paths. */
const pickleGraph: HostileShape = {
  name: 'pickle-graph',
  make(rng) {
    const m = 500;
    switch (rng.int(8)) {
      case 0: return { bytes: placed(pick(rng, PLACES), new PickleWriter().emptyList().put(m).get(m).append()), run: torchRun, mustFail: 'a list holding itself' };
      case 1: return { bytes: placed(pick(rng, PLACES), new PickleWriter().emptyDict().put(m).str('k').get(m).setitem()), run: torchRun, mustFail: 'a dict holding itself' };
      case 2: return { bytes: placed(pick(rng, PLACES), new PickleWriter().op(0x8f).put(m).mark().get(m).op(0x90)), run: torchRun, mustFail: 'a set holding itself' };
      case 3: { // a ↔ b
        const w = new PickleWriter().emptyList().put(m).emptyList().put(m + 1).get(m).append().pop().get(m + 1).append();
        return { bytes: placed(pick(rng, PLACES), w), run: torchRun, mustFail: 'two lists holding each other' };
      }
      case 4: { // a chain grown after nesting: d0['k'] = d1, then d1['k'] = d2, …
        const n = logInt(rng, 2, 30_000);
        const w = new PickleWriter().emptyDict().put(m);
        for (let i = 1; i <= n; i++) w.get(m + i - 1).str('k').emptyDict().put(m + i).setitem().pop();
        return { bytes: placed('value', w), run: torchRun, mustFail: `a ${n}-long dict chain grown after nesting` };
      }
      case 5: { // x(k+1) = (x(k), x(k)) or [x(k), x(k)]: 2^depth paths
        const depth = logInt(rng, 1, 900);
        const w = new PickleWriter().emptyList();
        for (let i = 0; i < depth; i++) {
          w.put(m + i);
          if (rng.int(2)) w.get(m + i).tuple2();
          else w.pop().mark().get(m + i).get(m + i).list();
        }
        return { bytes: placed(pick(rng, PLACES), w), run: torchRun };
      }
      case 6: { // d(k+1) = {'a': d(k), 'b': d(k)} with a tensor at the bottom: one dict reached by 2^depth paths
        const depth = logInt(rng, 1, 900);
        const w = new PickleWriter().emptyDict().str('t').add(tensorPickle(ONE)).setitem();
        for (let i = 0; i < depth; i++) w.put(m + i).pop().emptyDict().str('a').get(m + i).setitem().str('b').get(m + i).setitem();
        return { bytes: placed('value', w), run: torchRun };
      }
      default: { // one long key reused at every level: key paths of megabytes
        const keyLen = logInt(rng, 1, 1 << 16);
        const depth = logInt(rng, 1, 900);
        const w = new PickleWriter().emptyDict().str('t').add(tensorPickle(ONE)).setitem();
        w.str('k'.repeat(keyLen)).put(m).pop();
        for (let i = 0; i < depth; i++) w.put(m + 1 + i).pop().emptyDict().get(m).get(m + 1 + i).setitem();
        return { bytes: placed('value', w), run: torchRun, mustFail: keyLen * depth > 8192 ? `key paths of ${keyLen * depth} characters` : undefined };
      }
    }
  },
};

const STORAGE_SIZES: Readonly<Record<StorageType, number>> = {
  FloatStorage: 4, HalfStorage: 2, BFloat16Storage: 2, DoubleStorage: 8, LongStorage: 8, ByteStorage: 1,
};

/** Random bytes (fast: a repeated random block). */
function randomBytes(rng: Rng, n: number): Uint8Array {
  const block = Uint8Array.from({ length: 4096 }, () => rng.int(256));
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += block.length) out.set(block.subarray(0, Math.min(block.length, n - at)), at);
  return out;
}

/** Many tensors sharing few storages: contiguous, sliced, reshaped, strided, tied (memo) and out-of-range views. */
const torchStorages: HostileShape = {
  name: 'torch-storages',
  make(rng) {
    const storages = Array.from({ length: 1 + rng.int(3) }, (_, k) => {
      const type = pick(rng, Object.keys(STORAGE_SIZES) as StorageType[]);
      const numel = logInt(rng, 1, (4 * MiB) / STORAGE_SIZES[type]);
      return { key: String(k), type, numel };
    });
    const w = stateDictHead().put(1).mark();
    const n = logInt(rng, 1, 200);
    const memo: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = pick(rng, storages);
      const t: TensorSpec = { name: `t${i}`, key: s.key, type: s.type, numel: s.numel, size: [s.numel] };
      const side = Math.max(1, Math.floor(Math.sqrt(s.numel)));
      switch (rng.int(8)) {
        case 0: break;
        case 1: { const off = rng.int(s.numel); Object.assign(t, { offset: off, size: [rng.int(s.numel - off + 1)] }); break; }
        case 2: Object.assign(t, { size: [side, Math.floor(s.numel / side)] }); break;
        case 3: Object.assign(t, { size: [side, side], stride: [1, side] }); break;
        case 4: Object.assign(t, { size: [rng.int(4) + 1, side], stride: [0, 1] }); break;
        case 5: Object.assign(t, { offset: rng.int(2 * s.numel + 2) }); break;
        case 6: Object.assign(t, { numel: s.numel + rng.range(-1, 1), type: pick(rng, [s.type, 'FloatStorage', 'ByteStorage'] as const) }); break;
        default:
          if (memo.length > 0) { w.str(`t${i}`).get(pick(rng, memo)); continue; }
      }
      w.str(t.name).add(tensorPickle(t)).put(2000 + i);
      memo.push(2000 + i);
    }
    const bytes = torchZip(w.setitems().stop().bytes(), storages.filter(() => rng.int(20) > 0).map((s) => ({
      key: s.key, data: randomBytes(rng, s.numel * STORAGE_SIZES[s.type]),
    })));
    return { bytes, run: torchRun };
  },
};

/** Zip bombs and declared sizes past every bound: all must be refused, before anything large is inflated or copied. */
const torchOversized: HostileShape = {
  name: 'torch-oversized',
  make(rng) {
    const big = logInt(rng, 128, 1024) * MiB;
    const spec = (numel: number): Uint8Array => stateDictPickle([{ ...ONE, numel, size: [Math.min(numel, 4)] }]);
    switch (rng.int(9)) {
      case 0: {
        const numel = logInt(rng, 2 ** 20, 2 ** 52);
        return { bytes: torchZip(spec(numel), oneStorage), run: torchRun, mustFail: `a storage declaring ${numel} elements in 16 bytes` };
      }
      case 1: return { bytes: torchZip(spec(big / 4), [{ key: '0', deflated: deflatedZeros(big), size: big }]), run: torchRun, mustFail: `a ${big}-byte deflated storage` };
      case 2: return { bytes: torchZip(spec(4), [{ key: '0', deflated: deflatedZeros(big), size: big }]), run: torchRun, mustFail: `a ${big}-byte entry for a 16-byte storage` };
      case 3: return { bytes: torchZip(spec(4), [{ key: '0', deflated: deflatedZeros(big), size: 16 }]), run: torchRun, mustFail: 'an entry inflating past its declared size' };
      case 4: return { bytes: zipOf([{ name: 'a/data.pkl', deflated: deflatedZeros(big), size: big }]), run: torchRun, mustFail: `a ${big}-byte deflated data.pkl` };
      case 5: // a second directory entry for the same data
        return { bytes: withSharedDirectoryEntry(torchZip(spec(4), oneStorage)), run: torchRun, mustFail: 'two entries sharing their data' };
      case 6: { // a zip64 directory claiming too many entries or bytes
        const count = rng.int(2) ? logInt(rng, 100_001, 2 ** 40) : 3;
        const cdSize = rng.int(2) ? 46 * 100_001 : logInt(rng, 64 * MiB + 1, 2 ** 50);
        const size = Math.min(cdSize, 46 * 100_001);
        const b = new Uint8Array(size + 98);
        const v = new DataView(b.buffer);
        b.set([0x50, 0x4b]);
        v.setUint32(size, 0x06064b50, true);
        v.setBigUint64(size + 32, BigInt(count), true);
        v.setBigUint64(size + 40, BigInt(cdSize), true);
        v.setUint32(size + 56, 0x07064b50, true);
        v.setUint32(size + 64, size, true);
        v.setUint32(size + 76, 0x06054b50, true);
        v.setUint16(size + 86, 0xffff, true);
        v.setUint32(size + 88, 0xffffffff, true);
        v.setUint32(size + 92, 0xffffffff, true);
        return { bytes: b, run: torchRun, mustFail: `a directory of ${count} entries in ${cdSize} bytes` };
      }
      case 7: { // thousands of distinct strided views of one storage: gigabytes of dense copies
        const side = 1024;
        const numel = side * side + 2048;
        const views = Array.from({ length: 1100 + rng.int(900) }, (_, k) => ({ name: `t${k}`, key: '0', numel, offset: k, size: [side, side], stride: [1, side] }));
        return { bytes: torchZip(stateDictPickle(views), [{ key: '0', data: new Uint8Array(4 * numel) }]), run: torchRun, mustFail: `${views.length} dense copies of 4 MiB` };
      }
      default: { // a million tiny containers: the pickle's value budget
        const n = PICKLE_LIMITS.maxValues / 2 + 1;
        const pairs = new Uint8Array(2 * n);
        for (let i = 0; i < pairs.length; i += 2) pairs.set([0x5d, 0x61], i); // EMPTY_LIST, APPEND
        const w = stateDictHead().str('w').add(tensorPickle(ONE)).setitem().str('x').emptyList().raw(pairs).setitem();
        return { bytes: torchZip(w.stop().bytes(), oneStorage), run: torchRun, mustFail: `${n} lists in a list` };
      }
    }
  },
};

const SPECIAL = [Number.NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -0, 65504, 1e300, -1e300];

/** Float tensors full of NaN, ±Inf, extremes and subnormals, in every float format of every reader. */
const nonFinite: HostileShape = {
  name: 'non-finite',
  make(rng) {
    const n = logInt(rng, 1, 4096);
    const values = Float64Array.from({ length: n }, () => (rng.int(3) ? pick(rng, SPECIAL) : rng.normal()));
    switch (rng.int(3)) {
      case 0: {
        const type = pick(rng, ['FloatStorage', 'HalfStorage', 'BFloat16Storage', 'DoubleStorage'] as const);
        const data = new Uint8Array(n * STORAGE_SIZES[type]);
        const v = new DataView(data.buffer);
        values.forEach((x, i) => {
          if (type === 'FloatStorage') v.setFloat32(4 * i, x, true);
          else if (type === 'DoubleStorage') v.setFloat64(8 * i, x, true);
          else v.setUint16(2 * i, type === 'HalfStorage' ? f32ToF16(x) : f32ToBf16(x), true);
        });
        return { bytes: torchZip(stateDictPickle([{ name: 'w', key: '0', type, numel: n, size: [n] }]), [{ key: '0', data }]), run: torchRun };
      }
      case 1:
        return {
          bytes: encodeSafetensors({ w: { shape: [n], data: Float32Array.from(values), dtype: pick(rng, ['F32', 'F16', 'BF16'] as const) } }),
          run: (b, name) => { parseSafetensors(b, name); },
        };
      default:
        return { bytes: encodeNpy({ shape: [n], data: Float32Array.from(values) }), run: (b, name) => { parseNpy(b, name); } };
    }
  },
};

/** A safetensors file with the given JSON header text and data bytes. */
function safetensorsWith(header: string, data = new Uint8Array(0)): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

/** Deeply nested JSON, huge numbers and strings, long metadata and names in safetensors headers. */
const safetensorsHeader: HostileShape = {
  name: 'safetensors-json',
  make(rng) {
    const run = (b: Uint8Array, name: string): void => { parseSafetensors(b, name); };
    const depth = logInt(rng, 1, 30_000);
    const deepJson = rng.int(2) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const tensor = '"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}';
    const deepFail = depth > 30 ? `JSON nested ${depth} deep` : undefined;
    switch (rng.int(6)) {
      case 0: return { bytes: safetensorsWith(`{"__metadata__": {"config": ${deepJson}}, ${tensor}}`, new Uint8Array(4)), run, mustFail: `metadata: ${deepFail ?? 'an object value'}` };
      case 1: return { bytes: safetensorsWith(`{"w": {"dtype": "F32", "shape": ${deepJson}, "data_offsets": [0, 4]}}`, new Uint8Array(4)), run, mustFail: deepFail ?? (deepJson === '[]' ? undefined : 'a nested shape') };
      case 2: { // config values a model could never have, as the metadata string they travel in
        const huge = pick(rng, ['1e308', '-1', String(2 ** 53 + 1), '1e999', '0', '-0', '3.5', '"x"', 'null', `"${'9'.repeat(logInt(rng, 1, 4 * MiB))}"`,
          `${'9'.repeat(logInt(rng, 1, 100_000))}`, `[${'1,'.repeat(logInt(rng, 1, 100_000))}1]`]);
        const field = pick(rng, ['gridSize', 'hidden', 'heads', 'expansion', 'H_layers', 'L_cycles', 'haltMaxSteps', 'ropeTheta', 'rmsEps',
          'puzzleEmbLen', 'positions', 'x'.repeat(logInt(rng, 1, MiB))]);
        const config = JSON.stringify(JSON.stringify({ hidden: 4 })).replace('}"', `,\\"${field}\\": ${huge.replace(/"/g, '\\"')}}"`);
        // The reader returns the metadata as it is; reading the config from it (as loading a checkpoint does) must
        // then refuse what no model can have.
        const withConfig = (b: Uint8Array, name: string): void => {
          const st = parseSafetensors(b, name);
          configFromFile(st.metadata.config, name, '__metadata__.config');
        };
        return { bytes: safetensorsWith(`{"__metadata__": {"format": "hrm-lens", "config": ${config}}, ${tensor}}`, new Uint8Array(4)), run: withConfig };
      }
      case 3: { // many or long metadata entries
        const keys = logInt(rng, 1, 100_000);
        const len = logInt(rng, 1, Math.floor((4 * MiB) / keys));
        const meta = Array.from({ length: keys }, (_, i) => `"k${i}": "${'v'.repeat(len)}"`).join(', ');
        return { bytes: safetensorsWith(`{"__metadata__": {${meta}}, ${tensor}}`, new Uint8Array(4)), run };
      }
      case 4: { // numbers past every integer type
        const num = pick(rng, ['1e400', '-1', '1.5', String(2 ** 53), '9'.repeat(logInt(rng, 17, 2000)), '18446744073709551616']);
        const where = pick(rng, [`"shape": [${num}], "data_offsets": [0, 4]`, `"shape": [1], "data_offsets": [0, ${num}]`, `"shape": [${num}, 0], "data_offsets": [0, 0]`]);
        return { bytes: safetensorsWith(`{"w": {"dtype": "F32", ${where}}}`, new Uint8Array(4)), run };
      }
      default: { // a header length past the file, or past any sane size
        const b = safetensorsWith(`{${tensor}}`, new Uint8Array(4));
        new DataView(b.buffer).setBigUint64(0, BigInt(logInt(rng, b.length, 2 ** 53)), true);
        return { bytes: b, run, mustFail: 'a header longer than the file' };
      }
    }
  },
};

/** npy headers: nested parentheses, too many or too large dimensions, header lengths past the file or the bound. */
const npyHeader: HostileShape = {
  name: 'npy-header',
  make(rng) {
    const run = (b: Uint8Array, name: string): void => { parseNpy(b, name); };
    const withDict = (dict: string, data = new Uint8Array(0)): Uint8Array => {
      const text = new TextEncoder().encode(`${dict}\n`);
      const out = new Uint8Array(12 + text.length + data.length);
      out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 2, 0]);
      new DataView(out.buffer).setUint32(8, text.length, true);
      out.set(text, 12);
      out.set(data, 12 + text.length);
      return out;
    };
    const dict = (shape: string): string => `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
    switch (rng.int(5)) {
      case 0: { const d = logInt(rng, 1, 30_000); return { bytes: withDict(dict(`${'('.repeat(d)}1${')'.repeat(d)}`), new Uint8Array(4)), run, mustFail: d > 1 ? 'nested parentheses' : undefined }; }
      case 1: { const d = logInt(rng, 65, 100_000); return { bytes: withDict(dict(`(${'1, '.repeat(d)})`), new Uint8Array(4)), run, mustFail: `${d} dimensions` }; }
      case 2: return { bytes: withDict(dict(`(${pick(rng, ['99999999999999999999', String(2 ** 53), '4294967296, 4294967296', '0, 9007199254740991'])},)`)), run };
      case 3: { const pad = logInt(rng, MiB, 4 * MiB); return { bytes: withDict(dict('(1,)').padEnd(pad, ' '), new Uint8Array(4)), run, mustFail: `a ${pad}-byte header` }; }
      default: {
        const b = withDict(dict('(1,)'), new Uint8Array(4));
        new DataView(b.buffer).setUint32(8, logInt(rng, b.length, 0xffffffff), true);
        return { bytes: b, run, mustFail: 'a header longer than the file' };
      }
    }
  },
};

/** Text datasets with a line that never ends, lone-CR endings, huge quoted fields, NUL bytes: the CSV and lines readers. */
function textLines(dir: string): HostileShape {
  let count = 0;
  return {
    name: 'text-lines',
    make(rng) {
      const len = logInt(rng, 1024, 8 * MiB);
      const alphabet = pick(rng, ['0123456789.', '.,"', 'a,', '\r', '\0\x01\xff', '1234567890.\r']);
      const body = new Uint8Array(len);
      const codes = new TextEncoder().encode(alphabet);
      const block = Uint8Array.from({ length: 4096 }, () => codes[rng.int(codes.length)]);
      for (let at = 0; at < len; at += block.length) body.set(block.subarray(0, Math.min(block.length, len - at)), at);
      const header = new TextEncoder().encode(pick(rng, ['source,question,answer,rating\n', 'question,answer\n', '"', '']));
      const bytes = new Uint8Array(header.length + len);
      bytes.set(header);
      bytes.set(body, header.length);
      const csv = rng.int(2) === 0;
      return {
        bytes,
        run: async (b, name) => {
          const file = path.join(dir, `${name}-${count++}.${csv ? 'csv' : 'txt'}`);
          writeFileSync(file, b);
          try {
            for await (const r of csv ? readCsv(file) : readLines(file)) void r;
          } finally {
            unlinkSync(file);
          }
        },
      };
    },
  };
}

/** The hostile shapes; `cleanup` removes their temp folder. */
export function hostileShapes(): { shapes: HostileShape[]; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-fuzz-hostile-'));
  return {
    shapes: [pickleDeep, pickleGraph, torchStorages, torchOversized, nonFinite, safetensorsHeader, npyHeader, textLines(dir)],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Run `cases` inputs of one hostile shape. */
export async function fuzzShape(shape: HostileShape, cases: number, seed: number, caseLimitMs = 2000): Promise<FuzzReport> {
  const rng = new Rng(seed);
  return runCases(newReport(shape.name, cases), () => shape.make(rng), caseLimitMs);
}
