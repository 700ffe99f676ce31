/**
 * The action of `hrm-lens import` (loaded on demand): import, then optionally evaluate and store the figures in
 * the new checkpoint's .eval.json (under the dataset's file name).
 */
import * as path from 'node:path';
import { backendFromFlags } from './train-run';
import { importCheckpoint } from '../interop/import-checkpoint';
import { evaluateCheckpointFile } from '../train/eval-session';
import { LIMITS, intOption } from '../util/limits';

export interface ImportFlags {
  config?: string; out?: string; evalData?: string; segments?: string; limit?: string; heads?: string; json?: boolean;
  backend: string; threads?: string;
}

export async function runImport(file: string, flags: ImportFlags): Promise<void> {
  const segments = intOption(flags.segments, 'segments', LIMITS.segments);
  const limit = intOption(flags.limit, 'limit', LIMITS.limit);
  const heads = intOption(flags.heads, 'heads', LIMITS.heads);
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
