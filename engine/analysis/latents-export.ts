/**
 * Latents out: the traces an inspection or a classification captures, saved for probing in Python.
 *
 * Tensors (P puzzles, S segments, seq = prefix rows + n·n cells, D hidden, V = n + 2 tokens), C order, little-endian:
 *   z_H, z_L      float32 [P, S, seq, D]   the carries at the end of each segment (prefix rows first, then the cells)
 *   logits        float32 [P, S, n·n, V]   the output head over the cells (token 0 PAD, 1 blank, digit d = d + 1)
 *   q_halt        float32 [P, S]           raw Q-head logits
 *   q_continue    float32 [P, S]
 *   puzzles       int32   [P, n·n]         digits 0…n, 0 = blank
 *   solutions     int32   [P, n·n]         digits 1…n; −1 throughout when the puzzle has no unique solution
 * Axis 1 index k holds segment k + 1 (segments are 1-based everywhere else): S segments run from the initial carry with
 * halting off, as evaluation runs them.
 *
 * Where: FILE.safetensors → one safetensors file, the description in its __metadata__ (strings; config, dims and
 * ids as JSON text). FILE.npy → FILE.<tensor>.npy beside each other plus FILE.json; any other name → a folder FILE/
 * of <tensor>.npy plus metadata.json. The size is known before the forward passes, so the files are written as the
 * batches come (one batch of traces in memory), each to a temp file beside its target, renamed when complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PuzzleTrace } from './trace';
import { encodeNpyHeader } from '../interop/npy';
import { DataError } from '../util/errors';
import { VERSION } from '../version';
import { type HrmConfig, configToJson } from '../model/config';

export const LATENTS_FORMAT = 'hrm-lens-latents';
export const LATENTS_FORMAT_VERSION = '1';

export interface LatentsLayout {
  puzzles: number;
  segments: number;
  /** Rows of a carry: prefix + cells. */
  seq: number;
  hidden: number;
  cells: number;
  vocab: number;
}

export interface LatentsDescription {
  /** The checkpoint file the traces were recorded with. */
  checkpoint: string;
  /** The model config (engine/model/config.ts configToJson). */
  config: Record<string, number | string>;
  /** What recorded them: 'inspect', 'classify', … */
  source: string;
  /** One id per puzzle (dataset line, generator index). */
  ids: readonly string[];
}

export type LatentsTensorName = 'logits' | 'puzzles' | 'q_continue' | 'q_halt' | 'solutions' | 'z_H' | 'z_L';

interface TensorPlan {
  name: LatentsTensorName;
  dtype: 'F32' | 'I32';
  shape: number[];
  bytes: number;
}

/** The tensors of a layout, sorted by name (the order safetensors writers use). */
export function latentsTensors(l: LatentsLayout): TensorPlan[] {
  const { puzzles: P, segments: S } = l;
  const t = (name: LatentsTensorName, dtype: TensorPlan['dtype'], shape: number[]): TensorPlan => ({ name, dtype, shape, bytes: 4 * shape.reduce((a, b) => a * b, 1) });
  return [
    t('logits', 'F32', [P, S, l.cells, l.vocab]), t('puzzles', 'I32', [P, l.cells]), t('q_continue', 'F32', [P, S]),
    t('q_halt', 'F32', [P, S]), t('solutions', 'I32', [P, l.cells]), t('z_H', 'F32', [P, S, l.seq, l.hidden]),
    t('z_L', 'F32', [P, S, l.seq, l.hidden]),
  ];
}

/** Bytes of the tensors' data (headers add a few KB). */
export function latentsDataBytes(l: LatentsLayout): number {
  return latentsTensors(l).reduce((a, t) => a + t.bytes, 0);
}

const CONVENTIONS = {
  segments: 'axis 1 index k = segment k+1; S segments from the initial carry, halting off (as evaluation runs them)',
  z_H: 'carry z_H at the end of each segment, [puzzle, segment, seq, hidden]; seq = prefix rows, then the n*n cells row-major',
  z_L: 'carry z_L at the end of each segment, laid out like z_H',
  logits: 'output head over the cells, [puzzle, segment, cell, vocab]; token 0 = PAD, 1 = blank, digit d = d+1',
  q: 'q_halt, q_continue: raw Q-head logits, [puzzle, segment]',
  puzzles: 'digits 0..n, 0 = blank, [puzzle, cell]',
  solutions: 'digits 1..n, [puzzle, cell]; -1 throughout where the puzzle has no unique solution',
};

/** The description as flat strings (safetensors __metadata__) or as JSON values (metadata.json). */
function description(l: LatentsLayout, d: LatentsDescription, tensors: TensorPlan[], flat: boolean): Record<string, unknown> {
  const dims = { puzzles: l.puzzles, segments: l.segments, seq: l.seq, prefix: l.seq - l.cells, hidden: l.hidden, cells: l.cells, vocab: l.vocab };
  const json = (v: unknown): unknown => (flat ? JSON.stringify(v) : v);
  return {
    format: LATENTS_FORMAT, format_version: LATENTS_FORMAT_VERSION, hrm_lens: VERSION, source: d.source, checkpoint: d.checkpoint,
    config: json(d.config), dims: json(dims), ids: json(d.ids),
    ...(flat ? {} : { tensors: Object.fromEntries(tensors.map((t) => [t.name, { dtype: t.dtype === 'F32' ? 'float32' : 'int32', shape: t.shape }])) }),
    ...Object.fromEntries(Object.entries(CONVENTIONS).map(([k, v]) => [`convention_${k}`, v])),
  };
}

/** Where a latents target's files go: a safetensors file, FILE.<tensor>.npy files, or a folder. */
export function latentsKind(target: string): 'safetensors' | 'npy-files' | 'npy-folder' {
  if (/\.safetensors$/i.test(target)) return 'safetensors';
  return /\.npy$/i.test(target) ? 'npy-files' : 'npy-folder';
}

interface Output {
  final: string;
  tmp: string;
  fd: number | undefined;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function writeAt(fd: number, data: Uint8Array, position: number): void {
  let off = 0;
  while (off < data.length) off += fs.writeSync(fd, data, off, data.length - off, position + off);
}

/** The safetensors header for `tensors` (data offsets in their order), padded with spaces to a multiple of 8. */
function safetensorsHeader(tensors: TensorPlan[], metadata: Record<string, unknown>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes] };
    offset += t.bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const len = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + len).fill(0x20, 8);
  const view = new DataView(out.buffer);
  view.setUint32(0, len % 2 ** 32, true);
  view.setUint32(4, Math.floor(len / 2 ** 32), true);
  out.set(json, 8);
  return out;
}

/**
 * Writes a latents export batch by batch: open() with the layout (refused when the disk lacks room), write() each
 * batch of traces at its puzzle index, commit() to rename the complete files into place — or abort() to remove them.
 */
export class LatentsWriter {
  private readonly written: Uint8Array;
  private committed = false;

  private constructor(
    readonly target: string,
    readonly layout: LatentsLayout,
    private readonly outputs: Output[],
    /** Per tensor: its output and the byte position of its first element there. */
    private readonly places: Map<LatentsTensorName, { out: Output; at: number }>,
    /** Total bytes written to disk. */
    readonly bytes: number,
  ) {
    this.written = new Uint8Array(layout.puzzles);
  }

  /** The files the export consists of (after commit). */
  get files(): string[] {
    return this.outputs.map((o) => o.final);
  }

  /** "FILE (28.5 KiB)" or "TARGET: 8 files (20.7 KiB)", for a line on the terminal. */
  get summary(): string {
    const size = formatBytes(this.bytes);
    return this.outputs.length === 1 ? `${this.outputs[0].final} (${size})` : `${this.target}: ${this.outputs.length} files (${size})`;
  }

  static open(target: string, layout: LatentsLayout, desc: LatentsDescription): LatentsWriter {
    for (const [k, v] of Object.entries(layout)) {
      if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`latents layout: ${k} must be a positive integer, got ${v}`);
    }
    if (desc.ids.length !== layout.puzzles) throw new RangeError(`latents: ${desc.ids.length} ids for ${layout.puzzles} puzzles`);
    const kind = latentsKind(target);
    const tensors = latentsTensors(layout);
    const dir = kind === 'npy-folder' ? target : path.dirname(target);
    const existing = fs.statSync(target, { throwIfNoEntry: false });
    if (kind === 'npy-folder' ? existing && !existing.isDirectory() : existing?.isDirectory()) {
      throw new DataError({ file: target }, kind === 'npy-folder' ? 'is a file: a .npy export needs a folder (or a name ending in .npy or .safetensors)' : 'is a folder');
    }
    fs.mkdirSync(dir, { recursive: true });
    const stamp = `${process.pid}.${Date.now()}`;
    const output = (final: string): Output => ({ final, tmp: path.join(path.dirname(final), `.${path.basename(final)}.${stamp}.tmp`), fd: undefined });
    const outputs: Output[] = [];
    const places = new Map<LatentsTensorName, { out: Output; at: number }>();
    const heads: { out: Output; bytes: Uint8Array }[] = [];
    let total = 0;
    if (kind === 'safetensors') {
      const out = output(target);
      const head = safetensorsHeader(tensors, description(layout, desc, tensors, true));
      let at = head.length;
      for (const t of tensors) { places.set(t.name, { out, at }); at += t.bytes; }
      outputs.push(out);
      heads.push({ out, bytes: head });
      total = at;
    } else {
      const stem = kind === 'npy-files' ? target.replace(/\.npy$/i, '') : '';
      const fileOf = (name: string): string => (kind === 'npy-files' ? `${stem}.${name}` : path.join(target, name));
      for (const t of tensors) {
        const out = output(fileOf(`${t.name}.npy`));
        const head = encodeNpyHeader(t.dtype === 'F32' ? 'float32' : 'int32', t.shape);
        places.set(t.name, { out, at: head.length });
        outputs.push(out);
        heads.push({ out, bytes: head });
        total += head.length + t.bytes;
      }
      const meta = output(fileOf(kind === 'npy-files' ? 'json' : 'metadata.json'));
      const text = new TextEncoder().encode(`${JSON.stringify(description(layout, desc, tensors, false), null, 1)}\n`);
      outputs.push(meta);
      heads.push({ out: meta, bytes: text });
      total += text.length;
    }
    const free = diskFree(dir);
    if (free !== undefined && total > free) {
      throw new DataError({ file: target }, `the latents need ${formatBytes(total)} (${layout.puzzles} puzzles × ${layout.segments} segments), only ${formatBytes(free)} free`);
    }
    const writer = new LatentsWriter(target, layout, outputs, places, total);
    try {
      for (const h of heads) {
        h.out.fd = fs.openSync(h.out.tmp, 'wx');
        writeAt(h.out.fd, h.bytes, 0);
      }
    } catch (err) {
      writer.abort();
      throw err;
    }
    return writer;
  }

  /** Write `traces` as puzzles start, start + 1, … (each puzzle once). */
  write(traces: readonly PuzzleTrace[], start: number): void {
    if (this.committed) throw new Error('latents: already committed');
    const { puzzles: P, segments: S, seq, hidden: D, cells, vocab } = this.layout;
    const put = (name: LatentsTensorName, index: number, data: Float32Array | Int32Array): void => {
      const place = this.places.get(name) as { out: Output; at: number };
      writeAt(place.out.fd as number, bytesOf(data), place.at + index * data.length * 4);
    };
    traces.forEach((t, i) => {
      const p = start + i;
      if (!Number.isInteger(p) || p < 0 || p >= P) throw new RangeError(`latents: puzzle index ${p} outside 0…${P - 1}`);
      if (this.written[p]) throw new RangeError(`latents: puzzle ${p} written twice`);
      if (t.segments.length !== S) throw new RangeError(`latents: puzzle ${p} has ${t.segments.length} segments, the export ${S}`);
      if (t.puzzle.length !== cells) throw new RangeError(`latents: puzzle ${p} has ${t.puzzle.length} cells, the export ${cells}`);
      put('puzzles', p, Int32Array.from(t.puzzle));
      put('solutions', p, t.solution ? Int32Array.from(t.solution) : new Int32Array(cells).fill(-1));
      const qh = new Float32Array(S);
      const qc = new Float32Array(S);
      t.segments.forEach((s, k) => {
        if (!s.zH || !s.zL) throw new RangeError(`latents: puzzle ${p} segment ${k + 1} was captured without z_H / z_L`);
        if (s.zH.length !== seq * D || s.zL.length !== seq * D || s.logits.length !== cells * vocab) {
          throw new RangeError(`latents: puzzle ${p} segment ${k + 1} has the wrong sizes`);
        }
        put('z_H', p * S + k, s.zH);
        put('z_L', p * S + k, s.zL);
        put('logits', p * S + k, s.logits);
        qh[k] = s.qHalt;
        qc[k] = s.qContinue;
      });
      put('q_halt', p, qh);
      put('q_continue', p, qc);
      this.written[p] = 1;
    });
  }

  /** fsync, close and rename every file into place; refused unless every puzzle was written. */
  commit(): void {
    const missing = this.written.indexOf(0);
    if (missing >= 0) throw new Error(`latents: puzzle ${missing} was not written`);
    for (const o of this.outputs) {
      fs.fsyncSync(o.fd as number);
      fs.closeSync(o.fd as number);
      o.fd = undefined;
    }
    for (const o of this.outputs) fs.renameSync(o.tmp, o.final);
    this.committed = true;
  }

  /** Close and remove the temp files (nothing of the export is left); nothing after commit. */
  abort(): void {
    if (this.committed) return;
    for (const o of this.outputs) {
      if (o.fd !== undefined) try { fs.closeSync(o.fd); } catch { /* removed below */ }
      o.fd = undefined;
      fs.rmSync(o.tmp, { force: true });
    }
  }
}

function diskFree(dir: string): number | undefined {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** What latentsLayout and openLatentsExport read of a model (HrmModel has it). */
export interface LatentsModel {
  dims: { totalLen: number; cells: number; vocab: number };
  config: HrmConfig;
}

/** The layout of `puzzles` puzzles × `segments` segments of a model. */
export function latentsLayout(model: LatentsModel, puzzles: number, segments: number): LatentsLayout {
  return { puzzles, segments, seq: model.dims.totalLen, hidden: model.config.hidden, cells: model.dims.cells, vocab: model.dims.vocab };
}

/** A LatentsWriter for `ids.length` puzzles × `segments` segments of `model`, described with its checkpoint and config. */
export function openLatentsExport(target: string, model: LatentsModel, o: { checkpoint: string; source: string; ids: readonly string[]; segments: number }): LatentsWriter {
  return LatentsWriter.open(target, latentsLayout(model, o.ids.length, o.segments), {
    checkpoint: o.checkpoint, config: configToJson(model.config), source: o.source, ids: o.ids,
  });
}

/** Receives batches of traces for puzzles start, start + 1, … (what `onTraces` of the analyses calls). */
export type TraceSink = (traces: readonly PuzzleTrace[], start: number) => void;

/**
 * Runs `run` with a sink that writes the latents export `target` (committed when `run` returns, removed when it throws),
 * or with no sink when there is no target. Returns `run`'s value and the export's writer.
 */
export function withLatentsExport<T>(
  target: string | undefined, model: LatentsModel, o: { checkpoint: string; source: string; ids: readonly string[]; segments: number },
  run: (sink: TraceSink | undefined) => T,
): { value: T; latents: LatentsWriter | undefined } {
  if (target === undefined) return { value: run(undefined), latents: undefined };
  const writer = openLatentsExport(target, model, o);
  try {
    const value = run((traces, start) => writer.write(traces, start));
    writer.commit();
    return { value, latents: writer };
  } catch (err) {
    writer.abort();
    throw err;
  }
}
