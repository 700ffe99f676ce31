/**
 * Export a run's checkpoint for the reference PyTorch code (sapientinc/HRM `hrm_act_v1`, TRM `trm` with attention):
 *
 *   <out>/step_<N>          torch.save of the loss head's state dict, as the reference's pretrain.py saves it: an
 *                           OrderedDict whose keys are the engine's weight names behind `model.inner.` (or
 *                           `_orig_mod.model.inner.` with `compiled`, the keys of a torch.compile'd loss head), written
 *                           by torch-save-writer.ts; `torch.load` + `load_state_dict(strict=True)` on the reference's
 *                           loss head take it as is
 *   <out>/all_config.yaml   the reference's config dump for the model (official-config.ts)
 *
 * The default `out` is the run folder's sibling `<run>-hrm-official`; both files are written atomically (temp file and
 * rename). The checkpoint is the run's newest `step-N.safetensors` unless one is named; it is read and checked by the
 * importer's own path (import-checkpoint.ts mapCheckpointFile: names, shapes, config ranges, finite values), so only a
 * checkpoint that imports cleanly is exported.
 *
 * What the reference cannot express is rewritten into an equivalent it can, and listed in `notes`:
 *   - SwiGLU width: the reference rounds it up to a multiple of 256 (`_find_multiple(…, 256)`); a narrower engine width
 *     (e.g. 96 with interMultiple 32) is padded with zero units (zero gate and up rows, zero down columns), which add
 *     silu(0)·0 = 0 to every output, so the reference model computes the same function. `arch.expansion` is chosen so
 *     that the reference's rule gives the written width.
 *   - HRM prefix longer than one position: the reference's prefix is ceil(puzzle_emb_ndim / hidden) positions filled
 *     from one puzzle vector; the engine's (vector at position 0, zeros after) is `puzzle_emb.weights` zero-padded to
 *     puzzleEmbLen · hidden columns.
 * Data types: `fp32` writes every tensor as float32 (bit-identical to the checkpoint); `bf16` every tensor as
 * bfloat16; `reference` float32 weights with H_init / L_init in bfloat16, the dtypes of the reference's own
 * checkpoints (its evaluate.py loads with assign=True, which keeps the file's dtypes, and its bfloat16 forward pass
 * needs bfloat16 initial states).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { DataError } from '../util/errors';
import { writeFileAtomic } from '../util/atomic-write';
import { type HrmConfig, modelDims, swigluInter } from '../model/config';
import { latestCheckpoint } from '../train/checkpoint';
import { VERSION } from '../version';
import { mapCheckpointFile, stepFromFileName } from './import-checkpoint';
import { type TorchSaveDtype, type TorchSaveTensor, encodeTorchSave } from './torch-save-writer';
import { type OfficialTraining, officialConfigObject, officialConfigYaml } from './official-config';

export const EXPORT_FORMATS = ['hrm-official'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const OFFICIAL_DTYPES = ['fp32', 'bf16', 'reference'] as const;
export type OfficialDtype = (typeof OFFICIAL_DTYPES)[number];

/** The export format named on the command line, checked (`run` names the run in the error). */
export function exportFormat(name: string, run: string): ExportFormat {
  if (!(EXPORT_FORMATS as readonly string[]).includes(name)) {
    throw new DataError({ file: path.resolve(run), field: 'format' }, `unknown export format "${name}" (known: ${EXPORT_FORMATS.join(', ')})`);
  }
  return name as ExportFormat;
}

/** Key prefixes: the loss head's (`loss_head.state_dict()`), and a torch.compile'd loss head's. */
export const OFFICIAL_PREFIX = 'model.inner.';
export const OFFICIAL_COMPILED_PREFIX = '_orig_mod.model.inner.';
/** The reference's SwiGLU width multiple. */
export const REFERENCE_INTER_MULTIPLE = 256;
/** The config file name the reference writes beside its checkpoints. */
export const OFFICIAL_CONFIG_FILE = 'all_config.yaml';

export interface ExportOfficialOptions {
  /** The checkpoint to export: a path (relative to the current directory, else to the run folder). Default: the newest. */
  checkpoint?: string;
  /** Folder to write (default `<run>-hrm-official`). */
  out?: string;
  /** Default 'fp32'. */
  dtype?: OfficialDtype;
  /** Keys under `_orig_mod.model.inner.` (a torch.compile'd loss head's state dict). */
  compiled?: boolean;
}

export interface ExportOfficialResult {
  format: ExportFormat;
  /** The torch.save file written (`<dir>/step_<N>`). */
  file: string;
  /** The all_config.yaml written beside it. */
  configFile: string;
  dir: string;
  run: string;
  /** The checkpoint exported. */
  source: string;
  step: number;
  variant: HrmConfig['variant'];
  config: HrmConfig;
  dtype: OfficialDtype;
  prefix: string;
  /** State-dict keys written, in order, with shapes and dtypes. */
  keys: { key: string; shape: number[]; dtype: TorchSaveDtype }[];
  bytes: number;
  /** SwiGLU width in the engine and as written (greater when padded), and `arch.expansion`. */
  swiglu: { inter: number; written: number; expansion: number };
  /** Rewrites and assumptions worth telling the user. */
  notes: string[];
}

async function statOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await fs.stat(p);
  } catch {
    return null;
  }
}

/** The run folder, checked. */
async function runFolder(run: string): Promise<string> {
  const dir = path.resolve(run);
  const st = await statOrNull(dir);
  if (st === null) throw new DataError({ file: dir, field: 'run' }, 'no such run folder');
  if (!st.isDirectory()) {
    throw new DataError({ file: dir, field: 'run' }, 'not a run folder but a file (name the run folder, and the file with --checkpoint)');
  }
  return dir;
}

/** The checkpoint to export: the named one (current directory first, then the run folder), else the run's newest. */
async function checkpointFile(dir: string, named: string | undefined): Promise<string> {
  if (named !== undefined) {
    const candidates = path.isAbsolute(named) ? [named] : [path.resolve(named), path.join(dir, named)];
    for (const c of candidates) {
      const st = await statOrNull(c);
      if (st?.isFile()) return c;
    }
    throw new DataError({ file: candidates[candidates.length - 1], field: 'checkpoint' }, 'no such checkpoint file');
  }
  let newest;
  try {
    newest = await latestCheckpoint(dir);
  } catch (err) {
    throw new DataError({ file: dir, field: 'run' }, `cannot list the run folder: ${(err as Error).message}`);
  }
  if (!newest) throw new DataError({ file: dir, field: 'run' }, 'no checkpoint in the run folder (no step-N.safetensors)');
  return newest.file;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Training settings recorded in the run's run.json (absent or imported runs: none). */
async function runTraining(dir: string): Promise<OfficialTraining | undefined> {
  const file = path.join(dir, 'run.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  let run: unknown;
  try {
    run = JSON.parse(text);
  } catch (err) {
    throw new DataError({ file, field: 'run.json' }, `not valid JSON: ${(err as Error).message}`);
  }
  const spec = (run as { spec?: unknown } | null)?.spec;
  if (spec === null || typeof spec !== 'object') return undefined;
  const s = spec as { train?: Record<string, unknown>; seed?: unknown; data?: { kind?: unknown; path?: unknown } };
  const t = s.train ?? {};
  const training: OfficialTraining = {
    batch: num(t.batch), lr: num(t.lr), lrMinRatio: num(t.lrMinRatio), warmup: num(t.warmup), weightDecay: num(t.weightDecay),
    puzzleEmbLr: num(t.puzzleEmbLr), puzzleEmbWeightDecay: num(t.puzzleEmbWeightDecay),
    lossType: typeof t.lossType === 'string' ? t.lossType : undefined, ema: num(t.ema), seed: num(s.seed),
  };
  if (s.data?.kind === 'file' && typeof s.data.path === 'string' && (await statOrNull(s.data.path))?.isDirectory()) training.dataPath = s.data.path;
  return training;
}

/** The expansion whose reference width (rounded to 256) is `width`: the model's own when it gives it, else an exact one. */
function referenceExpansion(hidden: number, expansion: number, width: number): number {
  const raw = (expansion * hidden * 2) / 3;
  const tie = Math.abs(raw - Math.floor(raw) - 0.5) < 1e-9; // Python rounds halves to even, JavaScript up: avoid ties
  if (!tie && swigluInter(hidden, expansion, REFERENCE_INTER_MULTIPLE) === width) return expansion;
  const exact = (1.5 * width) / hidden;
  if (swigluInter(hidden, exact, REFERENCE_INTER_MULTIPLE) === width) return exact;
  throw new Error(`no SwiGLU expansion gives width ${width} for hidden ${hidden}`);
}

/** gate_up [2·inter, D] → [2·width, D]: gate rows, zero rows, up rows, zero rows. */
function padGateUp(data: Float32Array, inter: number, width: number, D: number): Float32Array {
  const out = new Float32Array(2 * width * D);
  out.set(data.subarray(0, inter * D), 0);
  out.set(data.subarray(inter * D, 2 * inter * D), width * D);
  return out;
}

/** down [D, inter] → [D, width]: zero columns after each row's inter values. */
function padDown(data: Float32Array, inter: number, width: number, D: number): Float32Array {
  const out = new Float32Array(D * width);
  for (let r = 0; r < D; r++) out.set(data.subarray(r * inter, (r + 1) * inter), r * width);
  return out;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Refuse to overwrite an all_config.yaml that describes another model (other checkpoints in that folder need it). */
async function checkExistingConfig(file: string, arch: unknown): Promise<void> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new DataError({ file, field: 'all_config.yaml' }, `already exists and is not valid YAML (${(err as Error).message}); export into another folder (--out)`);
  }
  const existing = doc !== null && typeof doc === 'object' ? (doc as { arch?: unknown }).arch : undefined;
  // Compare through the same YAML round trip (key order and float spelling do not matter).
  const sorted = (v: unknown): unknown => (v !== null && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, x]) => [k, sorted(x)]))
    : v);
  if (!sameJson(sorted(existing), sorted(arch))) {
    throw new DataError({ file, field: 'arch' }, 'already exists for a different model (its arch section differs); export into another folder (--out)');
  }
}

/** Write the reference-layout checkpoint and all_config.yaml for a run's checkpoint (see the file comment). */
export async function exportOfficial(run: string, opts: ExportOfficialOptions = {}): Promise<ExportOfficialResult> {
  const dtype = opts.dtype ?? 'fp32';
  const dir = await runFolder(run);
  if (!(OFFICIAL_DTYPES as readonly string[]).includes(dtype)) {
    throw new DataError({ file: dir, field: 'dtype' }, `unknown dtype "${String(dtype)}" (${OFFICIAL_DTYPES.join(', ')})`);
  }
  const source = await checkpointFile(dir, opts.checkpoint);
  const mapped = await mapCheckpointFile(source);
  const config = mapped.config;
  const D = config.hidden;
  const notes = [...mapped.notes];
  const step = stepFromFileName(source);

  // SwiGLU width under the reference's rounding.
  const inter = modelDims(config).inter;
  const width = Math.ceil(inter / REFERENCE_INTER_MULTIPLE) * REFERENCE_INTER_MULTIPLE;
  const expansion = referenceExpansion(D, config.expansion, width);
  if (width !== inter) {
    notes.push(`SwiGLU width ${inter} padded with zero units to ${width} (the reference rounds it to a multiple of ${REFERENCE_INTER_MULTIPLE}); the outputs are unchanged`);
  }
  if (expansion !== config.expansion) notes.push(`arch.expansion ${expansion} (the engine's ${config.expansion} gives another width under the reference's rounding)`);

  // Puzzle vector: HRM's prefix is ceil(ndim / hidden) positions.
  const prefix = config.puzzleEmbLen;
  const puzzleEmbNdim = prefix === 0 ? 0 : config.variant === 'hrm' ? prefix * D : D;
  if (config.variant === 'hrm' && prefix > 1) {
    notes.push(`puzzle_emb.weights zero-padded to ${prefix}·${D} columns (the reference's HRM prefix is ceil(puzzle_emb_ndim / hidden) = ${prefix} positions)`);
  }

  const keyPrefix = opts.compiled ? OFFICIAL_COMPILED_PREFIX : OFFICIAL_PREFIX;
  const tensorDtype = (name: string): TorchSaveDtype => (dtype === 'bf16' || (dtype === 'reference' && (name === 'H_init' || name === 'L_init')) ? 'bfloat16' : 'float32');
  const tensors: TorchSaveTensor[] = [];
  for (const name of referenceOrder([...mapped.tensors.keys()])) {
    const t = mapped.tensors.get(name) as { shape: number[]; data: Float32Array };
    let { shape, data } = t;
    if (width !== inter && name.endsWith('.mlp.gate_up_proj.weight')) {
      data = padGateUp(data, inter, width, D);
      shape = [2 * width, D];
    } else if (width !== inter && name.endsWith('.mlp.down_proj.weight')) {
      data = padDown(data, inter, width, D);
      shape = [D, width];
    } else if (name === 'puzzle_emb.weights' && puzzleEmbNdim !== D) {
      const padded = new Float32Array(puzzleEmbNdim);
      padded.set(data);
      data = padded;
      shape = [1, puzzleEmbNdim];
    }
    tensors.push({ name: `${keyPrefix}${name}`, shape, data, dtype: tensorDtype(name) });
  }
  if (dtype === 'fp32') {
    notes.push('all tensors float32; the reference\'s evaluate.py loads with assign=True (keeping float32 H_init / L_init), for its bfloat16 forward use --dtype reference');
  }

  const out = path.resolve(opts.out ?? `${dir}-hrm-official`);
  const file = path.join(out, `step_${step}`);
  const configFile = path.join(out, OFFICIAL_CONFIG_FILE);
  const training = await runTraining(dir);
  const yamlInput = {
    config, expansion, puzzleEmbNdim, training, runName: path.basename(dir), checkpointPath: out,
    header: [
      `Written by HRM Lens ${VERSION} (hrm-lens export --format hrm-official) from ${source.replace(/[\r\n]+/g, ' ')}, step ${step}.`,
      `The reference's all_config.yaml: arch is the model; training fields are ${training ? 'the run\'s where it recorded them, else ' : ''}the reference's Sudoku recipe.`,
      ...(training?.dataPath ? [] : [`data_path(s) is a placeholder: a dataset in the reference's layout with vocab_size ${modelDims(config).vocab} and seq_len ${modelDims(config).cells}.`]),
      ...notes.filter((n) => n.startsWith('SwiGLU') || n.startsWith('puzzle_emb')),
    ],
  };
  const yamlText = officialConfigYaml(yamlInput);
  await checkExistingConfig(configFile, officialConfigObject(yamlInput).arch);

  let bytes: Uint8Array;
  try {
    bytes = encodeTorchSave(tensors);
  } catch (err) {
    throw new DataError({ file, field: 'torch.save' }, (err as Error).message);
  }
  await fs.mkdir(out, { recursive: true });
  await writeFileAtomic(file, bytes);
  await writeFileAtomic(configFile, yamlText);
  return {
    format: 'hrm-official', file, configFile, dir: out, run: dir, source, step, variant: config.variant, config, dtype, prefix: keyPrefix,
    keys: tensors.map((t) => ({ key: t.name, shape: [...t.shape], dtype: t.dtype })), bytes: bytes.length,
    swiglu: { inter, written: width, expansion }, notes,
  };
}

/** The reference's state-dict order: embeddings and heads, puzzle embedding, positions, H then L blocks, initial states. */
function referenceOrder(names: string[]): string[] {
  const rank = (n: string): number => {
    const order = ['embed_tokens.', 'lm_head.', 'q_head.weight', 'q_head.bias', 'puzzle_emb.', 'embed_pos.', 'H_level.', 'L_level.', 'H_init', 'L_init'];
    const i = order.findIndex((p) => n.startsWith(p));
    return i < 0 ? order.length : i;
  };
  const block = (n: string): [number, number] => {
    const m = /\.layers\.(\d+)\.(.*)$/.exec(n);
    if (!m) return [0, 0];
    const parts = ['self_attn.qkv_proj.weight', 'self_attn.o_proj.weight', 'mlp.gate_up_proj.weight', 'mlp.down_proj.weight'];
    return [Number(m[1]), parts.indexOf(m[2])];
  };
  return [...names].sort((a, b) => {
    const d = rank(a) - rank(b);
    if (d !== 0) return d;
    const [la, pa] = block(a);
    const [lb, pb] = block(b);
    return la - lb || pa - pb || (a < b ? -1 : a > b ? 1 : 0);
  });
}
