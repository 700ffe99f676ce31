/**
 * The action of `hrm-lens import` (loaded on demand): import, then optionally evaluate and store the figures in
 * the new checkpoint's .eval.json (under the dataset's file name).
 */
import * as path from 'node:path';
import { backendFromFlags } from './train-run';
import { importCheckpoint } from '../interop/import-checkpoint';
import { evaluateCheckpointFile } from '../train/eval-session';

export interface ImportFlags {
  config?: string; out?: string; evalData?: string; segments?: string; limit?: string; heads?: string; json?: boolean;
  backend: string; threads?: string;
}

const int = (v: string | undefined, name: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, got "${v}"`);
  return n;
};

export async function runImport(file: string, flags: ImportFlags): Promise<void> {
  const segments = int(flags.segments, 'segments');
  const limit = int(flags.limit, 'limit');
  const heads = int(flags.heads, 'heads');
  await backendFromFlags(flags);
  const result = await importCheckpoint(file, { config: flags.config, out: flags.out, overrides: heads ? { heads } : undefined });
  const evaluation = flags.evalData === undefined ? undefined
    : (await evaluateCheckpointFile({ checkpoint: result.file, data: flags.evalData, segments, limit, save: '' })).report;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ ...result, evaluation: evaluation ?? null }, null, 2)}\n`);
    return;
  }
  const c = result.config;
  process.stdout.write(`${result.source} (${result.sourceFormat}; ${Object.entries(result.dtypes).map(([d, n]) => `${n} ${d}`).join(', ')})\n`
    + `  → ${result.file}\n`
    + `  ${result.variant.toUpperCase()} ${c.gridSize}×${c.gridSize}, hidden ${c.hidden}, heads ${c.heads}, layers H${c.H_layers}/L${c.L_layers}, `
    + `cycles H${c.H_cycles}×L${c.L_cycles}, ${c.positions}, prefix ${c.puzzleEmbLen}, ${result.numParams.toLocaleString('en-US')} params, step ${result.step}\n`
    + `  config: ${result.configFile ?? 'from the tensor shapes (no all_config.yaml)'}\n`);
  for (const n of result.notes) process.stdout.write(`  note: ${n}\n`);
  if (evaluation) {
    process.stdout.write(`evaluated on ${path.basename(evaluation.data)}: ${evaluation.puzzles} puzzles, ${evaluation.segments} segments, `
      + `exact ${(evaluation.exact * 100).toFixed(1)}%, cell ${(evaluation.cell * 100).toFixed(1)}% (${evaluation.seconds.toFixed(1)} s)\n`);
  }
}
