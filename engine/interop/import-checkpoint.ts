/**
 * Import a PyTorch-world checkpoint as a native HRM Lens run:
 *
 *   <file>   a torch.save zip (sapientinc/HRM `step_N`, TRM, the paper's fork; fp32, fp16 or bf16) or a safetensors
 *            file in the PyTorch key layout (reference keys, with or without `_orig_mod.` / `model.inner.`, or an
 *            HRM Lens checkpoint, whose metadata config is then used)
 *   config   `all_config.yaml` beside the file unless `config` names one (heads, cycles, … that shapes cannot tell)
 *   out      a run folder (default `.hrm/runs/import-<name>` under the current directory) that receives
 *            `step-<N>.safetensors` (N from a `step_N` file name, else 0; written by engine/train/checkpoint.ts)
 *            and a `run.json` describing the import, so it shows in the Runs tree like a trained run.
 *
 * Reading never executes anything from the file (pickle.ts). The model is built from the tensors before anything is
 * written, so a written checkpoint always loads. A TF.js backend must be selected first (engine/backend.ts).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DataError } from '../util/errors';
import { writeFileAtomic } from '../util/atomic-write';
import { saveCheckpoint, type JsonObject } from '../train/checkpoint';
import { type HrmConfig, configFromFile, configToJson, linearWeightNames, modelFromWeights } from '../model';
import { parseSafetensors } from './safetensors';
import { parseTorchCheckpoint } from './torch-zip';
import { type MappedCheckpoint, type NamedTensor, type ReferenceArch, mapReferenceStateDict, parseReferenceConfigYaml } from './hrm-keys';

export interface ImportOptions {
  /** all_config.yaml to use (default: the one beside the checkpoint, if any). */
  config?: string;
  /** Run folder to write into. */
  out?: string;
  /** Config fields that win over the file and the YAML (e.g. `{ heads: 8 }`). */
  overrides?: Partial<HrmConfig>;
  /** Step number recorded (default: from a `step_N` / `step-N` file name, else 0). */
  step?: number;
}

export interface ImportResult {
  /** The native checkpoint written. */
  file: string;
  /** Its run folder. */
  dir: string;
  source: string;
  sourceFormat: 'torch' | 'safetensors';
  /** The YAML used, if any. */
  configFile: string | null;
  config: HrmConfig;
  variant: MappedCheckpoint['variant'];
  step: number;
  numParams: number;
  prefixes: Record<string, number>;
  dtypes: Record<string, number>;
  ignored: string[];
  notes: string[];
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Step from names like `step_26040`, `step-000500.safetensors`. */
export function stepFromFileName(file: string): number {
  const m = /step[_-]?(\d+)/i.exec(path.basename(file));
  const n = m ? Number(m[1]) : 0;
  return Number.isSafeInteger(n) ? n : 0;
}

/** Read a checkpoint file's tensors (any supported format) with their source dtypes. */
export async function readCheckpointTensors(file: string): Promise<{
  tensors: Map<string, NamedTensor>; format: 'torch' | 'safetensors'; engineConfig?: HrmConfig;
}> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await fs.readFile(file));
  } catch (err) {
    throw new DataError({ file, field: 'file' }, `cannot read: ${(err as Error).message}`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x50 && bytes[1] === 0x4b) {
    const ck = parseTorchCheckpoint(bytes, file);
    return { tensors: new Map([...ck.tensors].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape, data: t.data }])), format: 'torch' };
  }
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] <= 5) return { tensors: new Map(parseTorchCheckpoint(bytes, file).tensors), format: 'torch' };
  if (bytes.length >= 9 && bytes[8] === 0x7b) {
    const st = parseSafetensors(bytes, file);
    const tensors = new Map<string, NamedTensor>();
    for (const [k, t] of st.tensors) {
      if (!(t.data instanceof Float32Array)) throw new DataError({ file, field: k }, `weight must be F32, F16 or BF16, found ${t.dtype}`);
      tensors.set(k, { dtype: t.dtype, shape: t.shape, data: t.data });
    }
    const engineConfig = st.metadata.format === 'hrm-lens' && st.metadata.config !== undefined
      ? configFromFile(st.metadata.config, file, '__metadata__.config') : undefined;
    return { tensors, format: 'safetensors', engineConfig };
  }
  throw new DataError({ file, field: 'format' }, 'neither a torch.save zip nor a safetensors file');
}

/** The reference arch section: `configFile` if given, else `all_config.yaml` beside the checkpoint, else none. */
export async function findReferenceConfig(checkpoint: string, configFile?: string): Promise<{ arch?: ReferenceArch; file: string | null }> {
  const file = path.resolve(configFile ?? path.join(path.dirname(checkpoint), 'all_config.yaml'));
  if (configFile === undefined && !(await exists(file))) return { file: null };
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new DataError({ file, field: 'file' }, `cannot read: ${(err as Error).message}`);
  }
  return { arch: parseReferenceConfigYaml(text, file), file };
}

/** Map a checkpoint file onto the engine's names and config, without writing anything. */
export async function mapCheckpointFile(file: string, opts: Pick<ImportOptions, 'config' | 'overrides'> = {}): Promise<MappedCheckpoint & {
  format: 'torch' | 'safetensors'; configFile: string | null;
}> {
  const { tensors, format, engineConfig } = await readCheckpointTensors(file);
  const ref = await findReferenceConfig(file, opts.config);
  const overrides = { ...(engineConfig ?? {}), ...(opts.overrides ?? {}) };
  const mapped = mapReferenceStateDict(tensors, { file, arch: ref.arch, archFile: ref.file ?? undefined, overrides });
  if (engineConfig) mapped.notes.length = 0; // the metadata config is complete: no assumptions were made
  return { ...mapped, format, configFile: ref.file };
}

function defaultOutDir(file: string): string {
  const stem = path.basename(file).replace(/\.(safetensors|pt|pth|ckpt|bin)$/i, '').replace(/[^A-Za-z0-9._-]+/g, '_');
  const parent = path.basename(path.dirname(path.resolve(file))).replace(/[^A-Za-z0-9._-]+/g, '_');
  return path.join(process.cwd(), '.hrm', 'runs', `import-${parent ? `${parent}-` : ''}${stem}`);
}

/** Convert `file` into a native checkpoint (see the file comment). */
export async function importCheckpoint(file: string, opts: ImportOptions = {}): Promise<ImportResult> {
  const mapped = await mapCheckpointFile(file, opts);
  const dir = path.resolve(opts.out ?? defaultOutDir(file));
  const step = opts.step ?? stepFromFileName(file);
  const model = modelFromWeights(mapped.config, mapped.tensors);
  try {
    const source = path.resolve(file);
    const imported: JsonObject = {
      source, sourceFormat: mapped.format, configFile: mapped.configFile, variant: mapped.variant,
      prefixes: mapped.prefixes, dtypes: mapped.dtypes, ignored: mapped.ignored, notes: mapped.notes, time: new Date().toISOString(),
    };
    const saved = await saveCheckpoint(dir, step, {
      weights: model.weights, transposeNames: new Set(linearWeightNames(mapped.config)), config: configToJson(mapped.config),
      meta: { imported, step },
    });
    const run: JsonObject = {
      format: 'hrm-lens-run', imported, model: configToJson(mapped.config), numParams: model.numParams(), created: new Date().toISOString(),
    };
    await writeFileAtomic(path.join(dir, 'run.json'), `${JSON.stringify(run, null, 2)}\n`);
    return {
      file: saved.file, dir, source, sourceFormat: mapped.format, configFile: mapped.configFile, config: mapped.config,
      variant: mapped.variant, step, numParams: model.numParams(), prefixes: mapped.prefixes, dtypes: mapped.dtypes,
      ignored: mapped.ignored, notes: mapped.notes,
    };
  } finally {
    model.dispose();
  }
}
