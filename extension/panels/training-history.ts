/**
 * A run's history for the training dashboard: metrics.jsonl (one JSON object per optimizer step, written by
 * engine/train/trainer.ts logMetrics) → TrainPoint[], and the run's checkpoints with their held-out figures. Lines
 * that are not a step object (a torn last line while the engine writes) are skipped and counted. JSON reading only; the
 * log is read only when it is a regular file, and only its newest MAX_METRICS_BYTES (bounded-read.ts).
 */
import * as path from 'node:path';
import type { TrainEvent } from '../../engine/protocol';
import type { DashboardCheckpoint, TrainPoint } from '../../webview/protocol';
import { MAX_METRICS_BYTES, readTextTail } from '../views/bounded-read';
import type { CheckpointInfo } from '../views/run-files';

/** A metrics line longer than this is not a step object the trainer wrote: skipped unparsed. */
const MAX_LINE_CHARS = 64 * 1024;

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** One metrics.jsonl object → a point, or undefined when it has no step and loss. */
export function pointOfMetrics(o: Record<string, unknown>): TrainPoint | undefined {
  const step = num(o.step);
  const loss = num(o.loss);
  if (step === null || loss === null) return undefined;
  const ms = num(o.stepMs);
  return {
    step, loss, cellAccuracy: num(o.batchCellAccuracy) ?? 0, exactAccuracy: num(o.exactAccuracy), meanSteps: num(o.meanSteps),
    segmentExact: Array.isArray(o.segmentExact) ? o.segmentExact.map(num) : [], stepsPerSecond: ms && ms > 0 ? 1000 / ms : null,
  };
}

export function pointOfEvent(e: Extract<TrainEvent, { kind: 'step' }>): TrainPoint {
  return {
    step: e.step, loss: e.loss, cellAccuracy: e.cellAccuracy, exactAccuracy: e.exactAccuracy, meanSteps: e.meanSteps ?? null,
    segmentExact: e.segmentExact ?? [], stepsPerSecond: e.stepsPerSecond,
  };
}

export interface MetricsHistory {
  points: TrainPoint[];
  /** Lines skipped (not JSON, or no step / loss). */
  skipped: number;
  /** Bytes at the start of a log larger than the bound that were not read (0: the whole log). */
  omittedBytes: number;
}

/**
 * The steps of `<dir>/metrics.jsonl`, in step order; a resumed run re-logs the steps after its checkpoint, so a later
 * line for the same step replaces the earlier one. A missing file (or one that is not a regular file) is an empty
 * history; of a log larger than `maxBytes`, only the newest whole lines within that bound are read.
 */
export async function readMetricsHistory(dir: string, maxBytes = MAX_METRICS_BYTES): Promise<MetricsHistory> {
  let text: string;
  let omittedBytes: number;
  try {
    ({ text, skippedBytes: omittedBytes } = await readTextTail(path.join(dir, 'metrics.jsonl'), maxBytes));
  } catch {
    return { points: [], skipped: 0, omittedBytes: 0 };
  }
  const byStep = new Map<number, TrainPoint>();
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (line.length > MAX_LINE_CHARS) {
      skipped++;
      continue;
    }
    let p: TrainPoint | undefined;
    try {
      const o: unknown = JSON.parse(line);
      p = typeof o === 'object' && o !== null && !Array.isArray(o) ? pointOfMetrics(o as Record<string, unknown>) : undefined;
    } catch {
      p = undefined;
    }
    if (p) byStep.set(p.step, p);
    else skipped++;
  }
  return { points: [...byStep.values()].sort((a, b) => a.step - b.step), skipped, omittedBytes };
}

/** Checkpoints (oldest first) as the dashboard marks them. */
export function dashboardCheckpoints(checkpoints: readonly CheckpointInfo[]): DashboardCheckpoint[] {
  return checkpoints
    .filter((c) => c.step !== undefined)
    .map((c) => ({ step: c.step as number, file: c.file, exact: c.evaluation?.sets.find((s) => s.name === 'held-out')?.exact ?? null }))
    .sort((a, b) => a.step - b.step);
}
