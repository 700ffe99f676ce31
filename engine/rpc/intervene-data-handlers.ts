/**
 * Handlers of `intervene.patchData` and `intervene.kickData` (engine/intervene/intervene-protocol.ts): the
 * dataset-level patch and kicks. Parameters are checked against their ranges (engine/util/limits.ts) before anything
 * is loaded; the heavy halves (engine/intervene/patch-data-run.ts, kick-data-run.ts) load on the first call. A
 * request carrying `torch` runs its segments on the PyTorch worker. Both report progress ({ done, total }
 * row-segments) and stop on cancel.
 */
import { LIMITS } from '../util/limits';
import type { InterventionPuzzles, KickDataParams, PatchDataParams } from '../intervene/intervene-protocol';
import { checkIntParam, checkParam, checkTorchParam, type Handler } from './handler';
import { checkKickSettings, intList, mapOpenerFor } from './patch-kick-handlers';

const loadBackend = async (): Promise<void> => { await (await import('./engine-backend')).engineBackend(); };

const PARTS = ['zH', 'zL', 'both'];
const text = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

function checkPuzzles(q: InterventionPuzzles | undefined): void {
  checkParam(q !== null && typeof q === 'object', 'puzzles must be { data: FILE, limit? } or { generate: N, seed? }');
  const p = q as InterventionPuzzles;
  checkParam((p.data === undefined) !== (p.generate === undefined), 'puzzles must name a dataset file (data) or a count to generate (generate), one of the two');
  checkParam(p.data === undefined || text(p.data), 'puzzles.data must be a file path');
  checkIntParam(p.limit, 'puzzles.limit', LIMITS.limit);
  checkIntParam(p.generate, 'puzzles.generate', LIMITS.puzzles);
  checkIntParam(p.seed, 'puzzles.seed', LIMITS.seed);
}

export const interventionPatchData: Handler<'intervene.patchData'> = async (params: PatchDataParams, ctx) => {
  checkParam(text(params.checkpoint), 'checkpoint must be a file path');
  checkPuzzles(params.puzzles);
  const s = params.source as { kind?: unknown; checkpoint?: unknown; perm?: unknown } | undefined;
  checkParam(s !== null && typeof s === 'object', 'source must be { kind: "trace", checkpoint } or { kind: "relabel", perm }');
  if (s?.kind === 'trace') checkParam(text(s.checkpoint), 'source.checkpoint must be a file path');
  else if (s?.kind === 'relabel') {
    intList(s.perm, 'source.perm', 9, { min: 1, max: 9 });
    checkParam(s.perm !== undefined, 'source.perm must be a permutation of the digits 1…n');
  } else checkParam(false, 'source.kind must be trace or relabel');
  checkIntParam(params.segments, 'segments', LIMITS.segments);
  checkParam(params.part === undefined || PARTS.includes(params.part), 'part must be zH, zL or both');
  intList(params.cells, 'cells', 81, { min: 0, max: 80 });
  intList(params.atSegments, 'atSegments', LIMITS.segments.max, LIMITS.segments);
  checkTorchParam(params.torch);
  const [{ patchDataRun }] = await Promise.all([import('../intervene/patch-data-run'), loadBackend()]);
  return patchDataRun(params, ctx.signal, (e) => ctx.progress(e), undefined, await mapOpenerFor(params.torch, ctx.log));
};

export const interventionKickData: Handler<'intervene.kickData'> = async (params: KickDataParams, ctx) => {
  checkParam(Array.isArray(params.checkpoints) && params.checkpoints.length >= 1 && params.checkpoints.length <= 2
    && params.checkpoints.every(text), 'checkpoints must list one checkpoint file, or two to compare');
  checkPuzzles(params.puzzles);
  checkKickSettings(params);
  checkTorchParam(params.torch);
  const [{ kickDataRun }] = await Promise.all([import('../intervene/kick-data-run'), loadBackend()]);
  return kickDataRun(params, ctx.signal, (e) => ctx.progress(e), undefined, await mapOpenerFor(params.torch, ctx.log));
};
