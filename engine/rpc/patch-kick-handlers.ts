/**
 * Handlers of `intervene.patch` and `intervene.kick` (engine/intervene/intervene-protocol.ts): parameters checked
 * against their ranges (engine/util/limits.ts) before anything is loaded, then the heavy half
 * (engine/intervene/patch-kick-engine.ts, TF.js on the engine's backend) loaded on the first call. A request carrying
 * `torch` runs its segments on the PyTorch worker (torch-engine.ts). Both report progress ({ done, total }
 * row-segments) and stop on cancel.
 */
import { puzzleProblem } from '../sudoku/givens';
import { LIMITS, NUM_LIMITS, limitText } from '../util/limits';
import type { KickParams, KickSettings, PatchParams, PatchSource } from '../intervene/intervene-protocol';
import { kickCount } from '../intervene/kick-defaults';
import type { MapOpener } from '../intervene/trajectory';
import type { TorchParams } from '../torch/torch-protocol';
import type { LogLevel } from '../protocol';
import { checkIntParam, checkNumParam, checkParam, checkTorchParam, type Handler } from './handler';

type Heavy = typeof import('../intervene/patch-kick-engine');
let heavy: Promise<Heavy> | undefined;
const load = async (): Promise<Heavy> => {
  const [mod] = await Promise.all([heavy ??= import('../intervene/patch-kick-engine'), import('./engine-backend').then((b) => b.engineBackend())]);
  return mod;
};

/** The PyTorch worker's map opener when the request carries `torch` (checked already); TF.js's (undefined) otherwise. */
export async function mapOpenerFor(torch: TorchParams | undefined, log: (level: LogLevel, message: string) => void): Promise<MapOpener | undefined> {
  return torch ? (await import('./torch-engine')).torchMapOpener(torch, log) : undefined;
}

const PARTS = ['zH', 'zL', 'both'];
const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function checkPuzzle(puzzle: unknown, name: string): void {
  checkParam(text(puzzle), `${name} must be 16, 36 or 81 characters`);
  const problem = puzzleProblem(puzzle);
  checkParam(problem === '', `${name}: ${problem}`);
}

function checkCommon(p: { checkpoint: unknown; puzzle: unknown; segments?: unknown; part?: unknown }): void {
  checkParam(text(p.checkpoint), 'checkpoint must be a file path');
  checkPuzzle(p.puzzle, 'puzzle');
  checkIntParam(p.segments, 'segments', LIMITS.segments);
  checkParam(p.part === undefined || PARTS.includes(p.part as string), 'part must be zH, zL or both');
}

/** An optional list of 1…maxLength integers, each within `each` (InvalidParams naming the entry otherwise). */
export function intList(v: unknown, name: string, maxLength: number, each: { min: number; max: number }): void {
  if (v === undefined) return;
  checkParam(Array.isArray(v) && v.length >= 1 && v.length <= maxLength, `${name} must list 1…${maxLength} integers`);
  v.forEach((x, i) => checkIntParam(x, `${name}[${i}]`, each, true));
}

function checkSource(s: PatchSource | undefined): void {
  checkParam(s !== null && typeof s === 'object', 'source must be { kind: "trace" | "relabel" | "latents", … }');
  const src = s as { kind?: unknown; checkpoint?: unknown; puzzle?: unknown; perm?: unknown; file?: unknown; segment?: unknown; row?: unknown };
  if (src.kind === 'trace') {
    checkParam(src.checkpoint === undefined || text(src.checkpoint), 'source.checkpoint must be a file path');
    if (src.puzzle !== undefined) checkPuzzle(src.puzzle, 'source.puzzle');
  } else if (src.kind === 'relabel') {
    // The grid size is the model's: the permutation itself is checked against it once the model is open.
    intList(src.perm, 'source.perm', 9, { min: 1, max: 9 });
    checkParam(src.perm !== undefined, 'source.perm must be a permutation of the digits 1…n');
  } else if (src.kind === 'latents') {
    checkParam(text(src.file), 'source.file must be a latents file (.safetensors, .npy or a folder)');
    checkIntParam(src.segment, 'source.segment', LIMITS.segments);
    checkIntParam(src.row, 'source.row', LIMITS.latentsRow);
  } else {
    checkParam(false, 'source.kind must be trace, relabel or latents');
  }
}

export const interventionPatch: Handler<'intervene.patch'> = async (params: PatchParams, ctx) => {
  checkCommon(params);
  checkSource(params.source);
  intList(params.cells, 'cells', 81, { min: 0, max: 80 });
  intList(params.atSegments, 'atSegments', LIMITS.segments.max, LIMITS.segments);
  checkTorchParam(params.torch);
  const heavyHalf = await load();
  return heavyHalf.patchRun(params, ctx.signal, (e) => ctx.progress(e), undefined, await mapOpenerFor(params.torch, ctx.log));
};

/** The kick settings of `intervene.kick` and `intervene.kickData` checked against their ranges. */
export function checkKickSettings(params: KickSettings): void {
  checkIntParam(params.segments, 'segments', LIMITS.segments);
  checkParam(params.part === undefined || PARTS.includes(params.part), 'part must be zH, zL or both');
  checkIntParam(params.runOn, 'runOn', LIMITS.segments);
  if (params.epsilons !== undefined) {
    checkParam(Array.isArray(params.epsilons) && params.epsilons.length >= LIMITS.kickSizes.min && params.epsilons.length <= LIMITS.kickSizes.max,
      `epsilons must list ${limitText(LIMITS.kickSizes)} numbers`);
    params.epsilons.forEach((e, i) => checkNumParam(e, `epsilons[${i}]`, NUM_LIMITS.kickEpsilon, true));
  }
  checkIntParam(params.directions, 'directions', LIMITS.kickDirections);
  checkIntParam(params.pcs, 'pcs', LIMITS.kickPcs);
  checkIntParam(params.seed, 'seed', LIMITS.seed);
  checkParam(kickCount(params) <= LIMITS.kicks.max && kickCount(params) >= LIMITS.kicks.min,
    `epsilons × (directions + 2 · pcs) must be in ${limitText(LIMITS.kicks)} kicks, got ${kickCount(params)}`);
}

export const interventionKick: Handler<'intervene.kick'> = async (params: KickParams, ctx) => {
  checkCommon(params);
  checkKickSettings(params);
  checkTorchParam(params.torch);
  const heavyHalf = await load();
  return heavyHalf.kickRun(params, ctx.signal, (e) => ctx.progress(e), undefined, await mapOpenerFor(params.torch, ctx.log));
};
