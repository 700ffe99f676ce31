/**
 * Is a file an HRM Lens checkpoint? A safetensors file starts with an 8-byte little-endian header length and a JSON
 * header whose `__metadata__` holds string values; HRM Lens writes `format: "hrm-lens"` and the model's config as
 * JSON (engine/train/checkpoint.ts). Only those 8 bytes and a header of at most MAX_HEADER_BYTES are read, from a
 * regular file (bounded-read.ts): a FIFO, a device or a large model of another kind costs nothing. The grid size
 * comes from the config (`gridSize`), the preset from the training metadata (`meta`). No `vscode` import, no
 * numerics: unit-tested on real files.
 */
import * as path from 'node:path';
import { FileReadRefused, readFilePrefix } from './bounded-read';

/** Largest safetensors header read (an HRM Lens checkpoint's is a few KiB: ~100 bytes per tensor, plus the config). */
export const MAX_HEADER_BYTES = 1024 * 1024;

export const CHECKPOINT_FORMAT = 'hrm-lens';
const OPTIM_FORMAT = 'hrm-lens-optim';

export type CheckpointKind =
  | { hrm: true; gridSize: 4 | 6 | 9 | undefined; step: number | undefined }
  | { hrm: false; why: string };

const notHrm = (why: string): CheckpointKind => ({ hrm: false, why });

function gridSizeOf(configText: unknown): 4 | 6 | 9 | undefined {
  if (typeof configText !== 'string') return undefined;
  try {
    const c: unknown = JSON.parse(configText);
    const g = typeof c === 'object' && c !== null ? (c as Record<string, unknown>).gridSize : undefined;
    return g === 4 || g === 6 || g === 9 ? g : undefined;
  } catch {
    return undefined;
  }
}

/** What the safetensors header of `file` says: an HRM Lens checkpoint (with its grid size), or why not. */
export async function readCheckpointKind(file: string): Promise<CheckpointKind> {
  return (await readCheckpointHeader(file)).kind;
}

/** The preset named in an HRM Lens checkpoint's `meta` (engine/train/checkpoint.ts: JSON with a `preset` string). */
function presetOf(metaText: unknown): string | undefined {
  if (typeof metaText !== 'string') return undefined;
  try {
    const m: unknown = JSON.parse(metaText);
    const p = typeof m === 'object' && m !== null ? (m as Record<string, unknown>).preset : undefined;
    return typeof p === 'string' && p.length > 0 && p.length <= 100 ? p : undefined;
  } catch {
    return undefined;
  }
}

/** readCheckpointKind, plus the preset the checkpoint was trained with when its metadata names one. */
export async function readCheckpointHeader(file: string): Promise<{ kind: CheckpointKind; preset?: string }> {
  const notHrmHeader = (why: string) => ({ kind: notHrm(why) });
  try {
    const head = await readFilePrefix(file, 8);
    if (head.bytes.length < 8) return notHrmHeader('not a safetensors file (shorter than the 8-byte header length)');
    const declared = head.bytes.readBigUInt64LE(0);
    if (declared > BigInt(MAX_HEADER_BYTES)) return notHrmHeader(`its safetensors header declares ${declared} bytes, more than the ${MAX_HEADER_BYTES} bytes an HRM Lens header can have`);
    const n = Number(declared);
    if (8 + n > head.size) return notHrmHeader(`not a safetensors file (its header length ${n} runs past the end of the ${head.size}-byte file)`);
    const { bytes } = await readFilePrefix(file, 8 + n);
    let header: unknown;
    try {
      header = JSON.parse(bytes.subarray(8).toString('utf8'));
    } catch {
      return notHrmHeader('not a safetensors file (its header is not JSON)');
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return notHrmHeader('not a safetensors file (its header is not a JSON object)');
    const md = (header as Record<string, unknown>).__metadata__;
    const meta = typeof md === 'object' && md !== null && !Array.isArray(md) ? (md as Record<string, unknown>) : {};
    if (meta.format === OPTIM_FORMAT) return notHrmHeader('it holds the optimizer state of a checkpoint, not the model: use the step-….safetensors beside it');
    if (meta.format !== CHECKPOINT_FORMAT) {
      return notHrmHeader(typeof meta.format === 'string'
        ? `its safetensors metadata format is ${JSON.stringify(meta.format.slice(0, 40))}, not "${CHECKPOINT_FORMAT}"`
        : 'its safetensors header has no HRM Lens metadata (__metadata__.format "hrm-lens")');
    }
    const step = typeof meta.step === 'string' && /^\d{1,12}$/.test(meta.step) ? Number(meta.step) : undefined;
    const preset = presetOf(meta.meta);
    return { kind: { hrm: true, gridSize: gridSizeOf(meta.config), step }, ...(preset ? { preset } : {}) };
  } catch (e) {
    return notHrmHeader(e instanceof FileReadRefused ? (e.reason === 'missing' ? 'no such file' : e.detail) : e instanceof Error ? e.message : String(e));
  }
}

/** The refusal shown when a command is given a file that is not an HRM Lens checkpoint. */
export function notCheckpointMessage(file: string, why: string): string {
  return `HRM: ${path.basename(file)} is not an HRM Lens checkpoint: ${why}. A PyTorch checkpoint (HRM, TRM) can be converted with "HRM: Import Checkpoint".`;
}
