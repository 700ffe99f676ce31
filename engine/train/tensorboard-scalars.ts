/**
 * What training logs to TensorBoard: the metrics.jsonl record of every step, under the reference trainer's tag names
 * where it has the same quantity (so that runs compare in TensorBoard and wandb), and the held-out evaluation written
 * beside a checkpoint. Values are the numbers metrics.jsonl / the .eval.json hold (TensorBoard stores them as float32);
 * nulls and non-finite numbers are left out.
 *
 *   metrics.jsonl key     tag                                eval result      tag
 *   loss                  train/loss                         exact            heldout/exact_accuracy
 *   lmLoss                train/lm_loss                      cell             heldout/accuracy
 *   qHaltLoss             train/q_halt_loss                  haltedAtLast     heldout/halted_at_last
 *   qContinueLoss         train/q_continue_loss              perSegment[s]    heldout/segment_exact/<s>
 *   exactAccuracy         train/exact_accuracy
 *   cellAccuracy          train/accuracy
 *   meanSteps             train/steps
 *   halted                train/count
 *   batchCellAccuracy     train/batch_accuracy
 *   lr                    train/lr
 *   stepMs                train/step_ms
 *   segmentExact[s − 1]   train/segment_exact/<s>   (<s> the 1-based segment, two digits at least: 01, 02, …)
 *   any other number      train/<key>
 */
import type { ScalarValue } from './tensorboard-event';
import type { MetricsRecord } from './metrics-log';
import type { EvalResult } from './evaluate';

export const STEP_TAGS: Readonly<Record<string, string>> = Object.freeze({
  loss: 'train/loss', lmLoss: 'train/lm_loss', qHaltLoss: 'train/q_halt_loss', qContinueLoss: 'train/q_continue_loss',
  exactAccuracy: 'train/exact_accuracy', cellAccuracy: 'train/accuracy', meanSteps: 'train/steps', halted: 'train/count',
  batchCellAccuracy: 'train/batch_accuracy', lr: 'train/lr', stepMs: 'train/step_ms',
});

/** `train/segment_exact/07`: per-segment tags sort in segment order up to 99 segments. */
export const segmentTag = (prefix: string, segment: number): string => `${prefix}/segment_exact/${String(segment).padStart(2, '0')}`;

/** The scalars of one metrics.jsonl record (its `step` is the event's step, not a scalar). */
export function stepScalars(record: MetricsRecord): ScalarValue[] {
  const out: ScalarValue[] = [];
  for (const [key, v] of Object.entries(record)) {
    if (key === 'step') continue;
    if (typeof v === 'number') {
      if (Number.isFinite(v)) out.push({ tag: Object.hasOwn(STEP_TAGS, key) ? STEP_TAGS[key] : `train/${key}`, value: v });
    } else if (key === 'segmentExact' && Array.isArray(v)) {
      v.forEach((x, i) => { if (typeof x === 'number' && Number.isFinite(x)) out.push({ tag: segmentTag('train', i + 1), value: x }); });
    }
  }
  return out;
}

/** The scalars of a held-out evaluation. */
export function heldOutScalars(r: Pick<EvalResult, 'exact' | 'cell' | 'haltedAtLast' | 'perSegment'>): ScalarValue[] {
  const out: ScalarValue[] = [
    { tag: 'heldout/exact_accuracy', value: r.exact }, { tag: 'heldout/accuracy', value: r.cell },
    { tag: 'heldout/halted_at_last', value: r.haltedAtLast },
    ...r.perSegment.map((s) => ({ tag: segmentTag('heldout', s.segment), value: s.exact })),
  ];
  return out.filter((v) => Number.isFinite(v.value));
}
