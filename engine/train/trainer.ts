/**
 * The training loop of the reference HRM (docs/model.md §Training loop): a persistent batch of slots, one segment and
 * one optimizer step per training step; halted slots are refilled with fresh examples and reset to H_init/L_init.
 *
 * Per step t (1-based):
 *  1. every slot that halted at step t−1 draws the next example (draw counter k) and its carry is reset;
 *  2. one segment per micro-batch: the off-tape part, then the last L and H calls on the tape (one-step gradient;
 *     TRM: the whole last cycle); loss = stablemax CE over all cells + 0.5·(BCE(q_halt, exact) + BCE(q_continue,
 *     σ(next Q))), the continue target from an extra forward pass without tape (HRM only; none with the training
 *     setting actContinue false), all / global batch;
 *     gradients are summed over micro-batches;
 *  3. AdamATan2 on the trainable weights, sign-SGD on the puzzle embedding, both on the warm-up/cosine schedule;
 *     optional EMA;
 *  4. halting: steps+1 ≥ haltMaxSteps, or the Q rule (q_halt > 0 when actContinue is false), with the exploration
 *     minimum (seeded by (seed, t)).
 * Everything random is a pure function of (seed, step, slot, draw index), and the saved state holds the slots, their
 * carry, the optimizer moments and the counters, so a resumed run continues exactly like the uninterrupted one.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { tf } from '../tf';
import {
  type Carry, type HrmConfig, type HrmModel, configFromFile, configToJson, createModel, disposeCarry, haltDecisions,
  initialCarry, linearWeightNames, modelFromWeights, puzzleEmbeddingName, resetCarry, trainableWeightNames,
} from '../model';
import { currentBackend } from '../backend';
import { onOneThread } from '../kernels/wasm-gemm';
import { gridToString, gridToTokens, type GridSize } from '../sudoku/geometry';
import { Rng } from '../util/rng';
import { deriveSeed } from '../util/hash-seed';
import { writeFileAtomic } from '../util/atomic-write';
import { runStepsAsync } from '../util/steps';
import { AdamATan2 } from './adam-atan2';
import { SignSGD } from './sign-sgd';
import { Ema } from './ema';
import { learningRate } from './schedule';
import {
  type JsonObject, type StateDict, combineStates, latestCheckpoint, loadCheckpoint, pickState, saveCheckpoint, writeEvalResult,
} from './checkpoint';
import { MetricsLog } from './metrics-log';
import { TensorBoardWriter } from './tensorboard-writer';
import { heldOutScalars, stepScalars } from './tensorboard-scalars';
import { DataError } from '../util/errors';
import { acquireRunLock, type RunLock, type RunLockOptions } from './run-lock';
import { MIXING_MODES, type MixingMode, TrainDataSource, type TrainDataSpec } from './data-source';
import { type TrainSettings, validateTrainSettings } from './presets';
import { type EvalPuzzle, type EvalResult, evaluate, evaluateSteps } from './evaluate';
import { type MicroBatchInput, type MicroBatchResult, runMicroBatch } from './micro-batch';
import { DataParallelHelper } from './data-parallel';
import { PuzzleGenerator } from '../sudoku/generator';

export interface RunSpec {
  /** Preset name it started from (informational). */
  preset: string;
  model: HrmConfig;
  train: TrainSettings;
  seed: number;
  mixing: boolean;
  /**
   * How hint twins are drawn when mixing (engine/train/data-source.ts): 'fixed' once per training puzzle, the default
   * of new runs; 'resample' per draw. A run.json without the field (an older run) means 'resample'.
   */
  mixingMode?: MixingMode;
  augment: boolean;
  /** Training data: generated (default) or a file's puzzles (path recorded; the pool is loaded by the caller). */
  data: { kind: 'generated' } | { kind: 'file'; path: string; puzzles: number };
  backend: JsonObject;
}

export interface StepMetrics {
  step: number;
  lr: number;
  loss: number;
  lmLoss: number;
  qHaltLoss: number;
  qContinueLoss: number;
  /** Over slots that halted this step (the reference's logged metrics). */
  halted: number;
  exactAccuracy: number;
  cellAccuracy: number;
  meanSteps: number;
  /** Over all slots this step. */
  batchCellAccuracy: number;
  /**
   * Per segment index s = 1…haltMaxSteps (entry s − 1): the fraction of the slots whose prediction this step came
   * from their s-th segment that are exactly right; null where no slot was at segment s. Rows of the training
   * dashboard's step × segment heatmap.
   */
  segmentExact: (number | null)[];
  stepMs: number;
}

/** Per-process options of a training (not recorded in the run). */
export interface TrainerOptions {
  /** Write a TensorBoard event file in the run folder (engine/train/tensorboard-writer.ts); default true. */
  tensorboard?: boolean;
}

const PURPOSE_EXPLORE = 11;
/** Below this batch the wasm backend keeps one micro-batch by default (halves would be too small to pay off). */
const MIN_SPLIT_BATCH = 8;
const PURPOSE_EVAL = 12;

export class Trainer {
  step = 0;
  private drawCounter = 0;
  private carry: Carry;
  private readonly tokens: Int32Array;
  private readonly labels: Int32Array;
  private readonly slotSteps: Int32Array;
  private readonly halted: Uint8Array;
  private readonly adam: AdamATan2;
  private readonly signSgd: SignSGD | undefined;
  private readonly ema: Ema | undefined;
  private readonly transposeNames: Set<string>;
  /** Bumped by every optimizer step: the data-parallel helper's copy of the weights is resent when it changes. */
  private weightsVersion = 0;
  /** Whether the last step ran micro-batches on the data-parallel helper (undefined before the first step). */
  private usedHelper: boolean | undefined;

  private constructor(
    readonly dir: string,
    readonly spec: RunSpec,
    readonly model: HrmModel,
    readonly data: TrainDataSource,
    readonly evalSet: readonly EvalPuzzle[],
    private readonly metrics: MetricsLog,
    private readonly lock: RunLock,
    private readonly tensorboard?: TensorBoardWriter,
  ) {
    const B = spec.train.batch;
    const cells = model.dims.cells;
    this.tokens = new Int32Array(B * cells);
    this.labels = new Int32Array(B * cells);
    this.slotSteps = new Int32Array(B);
    this.halted = new Uint8Array(B).fill(1);
    this.carry = initialCarry(model, B);
    const trainable = new Map(trainableWeightNames(model.config).map((n) => [n, model.weight(n)]));
    this.adam = new AdamATan2(trainable, { weightDecay: spec.train.weightDecay });
    this.signSgd = model.weights.has(puzzleEmbeddingName)
      ? new SignSGD(new Map([[puzzleEmbeddingName, model.weight(puzzleEmbeddingName)]]), { weightDecay: spec.train.puzzleEmbWeightDecay })
      : undefined;
    this.ema = spec.train.ema !== undefined ? new Ema(trainable, { decay: spec.train.ema }) : undefined;
    this.transposeNames = new Set(linearWeightNames(model.config));
  }

  /**
   * Start a new run in `dir` (created; must not already hold checkpoints). The folder is locked (run-lock.ts) until
   * close(): a folder another process writes is refused with RunLockedError.
   */
  static async create(dir: string, given: RunSpec, pool?: TrainDataSpec, lockOptions?: RunLockOptions, options: TrainerOptions = {}): Promise<Trainer> {
    // A new run records its mixing mode, so that a resume draws the same twins.
    const spec: RunSpec = given.mixing && given.mixingMode === undefined ? { ...given, mixingMode: 'fixed' } : given;
    await fs.mkdir(dir, { recursive: true });
    const lock = await acquireRunLock(dir, lockOptions);
    let tensorboard: TensorBoardWriter | undefined;
    try {
      if (await latestCheckpoint(dir).catch(() => undefined)) throw new Error(`${dir} already holds checkpoints: resume it instead`);
      const model = createModel(spec.model, spec.seed);
      const { data, evalSet } = makeData(spec, pool);
      const metrics = await MetricsLog.open(path.join(dir, 'metrics.jsonl'), { resumeFromStep: 0 });
      tensorboard = options.tensorboard === false ? undefined : TensorBoardWriter.open(dir);
      const trainer = new Trainer(dir, spec, model, data, evalSet, metrics, lock, tensorboard);
      await writeFileAtomic(path.join(dir, 'run.json'), `${JSON.stringify(trainer.runJson(), null, 2)}\n`);
      return trainer;
    } catch (err) {
      tensorboard?.close();
      lock.release();
      throw err;
    }
  }

  /**
   * Continue the run in `dir` from its newest checkpoint (or `checkpointFile`); the folder is locked as by create().
   * `freshOptimizer`: continue from the checkpoint's weights alone, at its step, with a new optimizer state (zero
   * moments), every slot refilled, and draws numbered past any the run can have made (step × batch) — for a run
   * folder that kept only its weights, such as a shipped model's. Not an exact continuation.
   */
  static async resume(
    dir: string, opts: { pool?: TrainDataSpec; checkpointFile?: string; backend?: JsonObject; lock?: RunLockOptions; freshOptimizer?: boolean } & TrainerOptions = {},
  ): Promise<Trainer> {
    const saved = await Trainer.readRunSpec(dir);
    const spec: RunSpec = { ...saved, backend: opts.backend ?? saved.backend };
    const lock = await acquireRunLock(dir, opts.lock);
    let tensorboard: TensorBoardWriter | undefined;
    try {
      const file = opts.checkpointFile ?? (await latestCheckpoint(dir))?.file;
      if (!file) throw new Error(`${dir}: no checkpoint to resume from`);
      const ckpt = await loadCheckpoint(file);
      if (!ckpt.optimizer && !opts.freshOptimizer) {
        throw new Error(`${file}: no optimizer state beside it; cannot resume exactly (--fresh-optimizer continues from its weights with a new optimizer state)`);
      }
      const model = modelFromWeights(configFromFile(ckpt.config, file, 'config'), ckpt.tensors);
      const { data, evalSet } = makeData(spec, opts.pool);
      const metrics = await MetricsLog.open(path.join(dir, 'metrics.jsonl'), { resumeFromStep: ckpt.step });
      tensorboard = opts.tensorboard === false ? undefined : TensorBoardWriter.open(dir, { resumedFrom: ckpt.step });
      const trainer = new Trainer(dir, spec, model, data, evalSet, metrics, lock, tensorboard);
      if (opts.freshOptimizer || !ckpt.optimizer) trainer.startAt(ckpt.step);
      else trainer.restoreState(ckpt.optimizer, ckpt.step);
      return trainer;
    } catch (err) {
      tensorboard?.close();
      lock.release();
      throw err;
    }
  }

  /** The spec recorded in a run folder's run.json. */
  static async readRunSpec(dir: string): Promise<RunSpec> {
    const file = path.join(dir, 'run.json');
    let run: { spec?: RunSpec };
    try {
      run = JSON.parse(await fs.readFile(file, 'utf8')) as { spec?: RunSpec };
    } catch (err) {
      throw new Error(`${file}: cannot read the run description (${(err as Error).message})`);
    }
    if (!run.spec) throw new Error(`${file}: no "spec" field`);
    if (run.spec.train === null || typeof run.spec.train !== 'object') throw new DataError({ file, field: 'spec.train' }, 'missing or not an object');
    const mode: unknown = run.spec.mixingMode;
    if (mode !== undefined && !MIXING_MODES.includes(mode as MixingMode)) throw new DataError({ file, field: 'spec.mixingMode' }, `must be ${MIXING_MODES.join(' or ')}`);
    return {
      ...run.spec, model: configFromFile(run.spec.model, file, 'spec.model'), train: validateTrainSettings(run.spec.train, file),
      // Runs recorded before the field drew a fresh twin per draw.
      mixingMode: (mode as MixingMode | undefined) ?? (run.spec.mixing ? 'resample' : undefined),
    };
  }

  runJson(): JsonObject {
    return {
      format: 'hrm-lens-run',
      spec: { ...this.spec, model: configToJson(this.spec.model) } as unknown as JsonObject,
      data: this.data.describe() as JsonObject,
      evalPuzzles: this.evalSet.length,
      numParams: this.model.numParams(),
      created: new Date().toISOString(),
    };
  }

  /** One optimizer step. */
  trainStep(): StepMetrics {
    const t0 = performance.now();
    const { model, spec } = this;
    const B = spec.train.batch;
    const cells = model.dims.cells;
    const cfg = model.config;
    this.step += 1;
    const t = this.step;

    // 1. refill halted slots
    const reset = new Float32Array(B);
    for (let b = 0; b < B; b++) {
      if (!this.halted[b]) continue;
      const ex = this.data.draw(this.drawCounter++);
      this.tokens.set(gridToTokens(ex.puzzle), b * cells);
      this.labels.set(gridToTokens(ex.solution), b * cells);
      this.slotSteps[b] = 0;
      reset[b] = 1;
    }
    const resetCarryNext = resetCarry(model, this.carry, reset);
    disposeCarry(this.carry);
    this.carry = resetCarryNext;

    // 2. forward + backward per micro-batch (every second one on the data-parallel helper thread, when there is one)
    const micro = this.microBatchSize();
    const qHalt = new Float32Array(B);
    const qCont = new Float32Array(B);
    const pred = new Int32Array(B * cells);
    let lossSum = 0, lmSum = 0, qhSum = 0, qcSum = 0;
    let grads: Map<string, tf.Tensor> | undefined;
    const newZH: tf.Tensor3D[] = [];
    const newZL: tf.Tensor3D[] = [];
    const collect = (start: number, res: MicroBatchResult): void => {
      lossSum += res.loss; lmSum += res.lm; qhSum += res.qHalt; qcSum += res.qContinue;
      qHalt.set(res.qHaltValues, start);
      qCont.set(res.qContinueValues, start);
      pred.set(res.pred, start * cells);
      newZH.push(res.carry.zH);
      newZL.push(res.carry.zL);
      if (grads === undefined) grads = res.grads;
      else {
        for (const [name, g] of res.grads) {
          const prev = grads.get(name);
          if (prev) { grads.set(name, tf.add(prev, g)); prev.dispose(); g.dispose(); } else grads.set(name, g);
        }
      }
    };
    const inputAt = (start: number): MicroBatchInput => {
      const size = Math.min(micro, B - start);
      const isLast = new Float32Array(size);
      for (let b = 0; b < size; b++) isLast[b] = this.slotSteps[start + b] + 1 >= cfg.haltMaxSteps ? 1 : 0;
      return {
        carry: B === size ? this.carry : {
          zH: tf.slice(this.carry.zH, [start, 0, 0], [size, -1, -1]),
          zL: tf.slice(this.carry.zL, [start, 0, 0], [size, -1, -1]),
        },
        tokens: this.tokens.subarray(start * cells, (start + size) * cells),
        labels: this.labels.subarray(start * cells, (start + size) * cells),
        isLast, lossType: spec.train.lossType, globalBatch: B, actContinue: spec.train.actContinue,
      };
    };
    const release = (input: MicroBatchInput): void => { if (input.carry !== this.carry) disposeCarry(input.carry); };
    const helper = micro < B ? DataParallelHelper.get() : undefined;
    helper?.syncModel(model, this.weightsVersion);
    this.usedHelper = helper !== undefined;
    for (let start = 0; start < B; start += micro) {
      const input = inputAt(start);
      const next = start + micro;
      const nextInput = helper && next < B ? inputAt(next) : undefined;
      const onHelper = nextInput !== undefined && (helper as DataParallelHelper).beginMicroBatch(nextInput);
      const t1 = performance.now();
      const res = onHelper ? onOneThread(() => runMicroBatch(model, input)) : runMicroBatch(model, input);
      release(input);
      collect(start, res);
      if (nextInput) {
        const other = (onHelper ? (helper as DataParallelHelper).finishMicroBatch(model, 20 * (performance.now() - t1)) : undefined)
          ?? runMicroBatch(model, nextInput);
        release(nextInput);
        collect(next, other);
        start = next;
      }
    }
    disposeCarry(this.carry);
    this.carry = newZH.length === 1 ? { zH: newZH[0], zL: newZL[0] } : {
      zH: tf.concat(newZH, 0) as tf.Tensor3D, zL: tf.concat(newZL, 0) as tf.Tensor3D,
    };
    if (newZH.length > 1) { newZH.forEach((x) => x.dispose()); newZL.forEach((x) => x.dispose()); }

    // 3. optimizer steps
    const lr = learningRate(t, { base: spec.train.lr, warmup: spec.train.warmup, total: spec.train.steps, minRatio: spec.train.lrMinRatio });
    const puzzleLr = learningRate(t, { base: spec.train.puzzleEmbLr, warmup: spec.train.warmup, total: spec.train.steps, minRatio: spec.train.lrMinRatio });
    const g = grads ?? new Map<string, tf.Tensor>();
    const puzzleGrad = g.get(puzzleEmbeddingName);
    g.delete(puzzleEmbeddingName);
    this.adam.step(g, lr);
    if (puzzleGrad && this.signSgd) this.signSgd.step(new Map([[puzzleEmbeddingName, puzzleGrad]]), puzzleLr);
    puzzleGrad?.dispose();
    for (const x of g.values()) x.dispose();
    this.ema?.update();
    this.weightsVersion += 1;

    // 4. halting and metrics
    let haltedCount = 0, exactCount = 0, cellSum = 0, stepsSum = 0, batchCells = 0;
    const segSlots = new Int32Array(cfg.haltMaxSteps), segExact = new Int32Array(cfg.haltMaxSteps);
    for (let b = 0; b < B; b++) this.slotSteps[b] += 1;
    const halted = haltDecisions(cfg, qHalt, qCont, this.slotSteps, {
      exploration: explorationRng(spec.seed, t), haltOnly: spec.train.actContinue === false,
    });
    for (let b = 0; b < B; b++) {
      let right = 0;
      for (let c = 0; c < cells; c++) if (pred[b * cells + c] === this.labels[b * cells + c]) right++;
      batchCells += right / cells;
      const seg = Math.min(cfg.haltMaxSteps, this.slotSteps[b]) - 1;
      segSlots[seg]++;
      if (right === cells) segExact[seg]++;
      if (halted[b]) {
        haltedCount++;
        cellSum += right / cells;
        if (right === cells) exactCount++;
        stepsSum += this.slotSteps[b];
      }
    }
    this.halted.set(halted);
    const m: StepMetrics = {
      step: t, lr, loss: lossSum, lmLoss: lmSum, qHaltLoss: qhSum, qContinueLoss: qcSum, halted: haltedCount,
      exactAccuracy: haltedCount ? exactCount / haltedCount : NaN, cellAccuracy: haltedCount ? cellSum / haltedCount : NaN,
      meanSteps: haltedCount ? stepsSum / haltedCount : NaN, batchCellAccuracy: batchCells / B,
      segmentExact: Array.from(segSlots, (n, k) => (n ? segExact[k] / n : null)), stepMs: performance.now() - t0,
    };
    return m;
  }

  /** Append a step's metrics to metrics.jsonl, and the same numbers to the TensorBoard event file (buffered). */
  logMetrics(m: StepMetrics, extra: JsonObject = {}): void {
    const record = { ...jsonSafe(m), ...extra, step: m.step };
    this.metrics.append(record);
    this.tensorboard?.addScalars(m.step, stepScalars(record));
  }

  /** The TensorBoard event file this process writes (undefined when turned off). */
  get tensorboardFile(): string | undefined {
    return this.tensorboard?.file;
  }

  /** Evaluate on the run's held-out set (EMA weights when EMA is on). */
  evaluateHeldOut(opts: { segments?: number; signal?: AbortSignal } = {}): EvalResult {
    return this.withEvalWeights(() => evaluate(this.model, this.evalSet, { segments: opts.segments ?? this.spec.train.evalSegments, signal: opts.signal }));
  }

  /** evaluateHeldOut with the event loop turning between segments (engine/util/steps.ts); nothing else may step this trainer meanwhile. */
  async evaluateHeldOutAsync(opts: { segments?: number; signal?: AbortSignal } = {}): Promise<EvalResult> {
    const run = () => runStepsAsync(evaluateSteps(this.model, this.evalSet, { segments: opts.segments ?? this.spec.train.evalSegments, signal: opts.signal }), opts.signal, 'evaluation');
    if (!this.ema) return run();
    this.ema.swapIn();
    try { return await run(); } finally { this.ema.swapOut(); }
  }

  /** Write step-XXXXXX.safetensors (+ optimizer state; + eval.json when `evalResult` is given). */
  async saveCheckpoint(evalResult?: EvalResult): Promise<string> {
    const state = this.captureState();
    const weights = this.ema ? this.withEvalWeights(() => new Map([...this.model.weights].map(([n, v]) => [n, tf.clone(v)]))) : this.model.weights;
    try {
      const saved = await saveCheckpoint(this.dir, this.step, {
        weights, transposeNames: this.transposeNames, config: configToJson(this.model.config) as JsonObject,
        meta: {
          step: this.step, seed: this.spec.seed, preset: this.spec.preset, mixing: this.spec.mixing, augment: this.spec.augment,
          backend: this.spec.backend, data: this.data.describe() as JsonObject, ema: this.ema !== undefined, time: new Date().toISOString(),
        },
        optimizerState: state, keepLast: this.spec.train.keepLast,
      });
      if (evalResult) await writeEvalResult(saved.file, evalResultJson(evalResult, this.step));
      // After the checkpoint: a run resumed from it never finds events of steps it did not keep.
      if (evalResult) this.tensorboard?.addScalars(this.step, heldOutScalars(evalResult));
      this.tensorboard?.flush();
      return saved.file;
    } finally {
      if (weights !== this.model.weights) for (const t of weights.values()) t.dispose();
    }
  }

  /** Release everything, the run folder's lock last (also when a release before it fails). */
  async close(): Promise<void> {
    try {
      this.metrics.close();
      disposeCarry(this.carry);
      this.adam.dispose();
      this.ema?.dispose();
      this.model.dispose();
      this.tensorboard?.close();
    } finally {
      this.lock.release();
    }
  }

  /**
   * Slots per micro-batch: the spec's microBatch, else on the wasm backend half the batch (two micro-batches, which the
   * data-parallel helper runs side by side on two cores, and one after the other on one core: the same bits either
   * way), else the whole batch.
   */
  microBatchSize(): number {
    const B = this.spec.train.batch;
    if (this.spec.train.microBatch !== undefined) return Math.max(1, Math.min(B, this.spec.train.microBatch));
    return currentBackend()?.name === 'wasm' && tf.getBackend() === 'wasm' && B >= MIN_SPLIT_BATCH ? Math.ceil(B / 2) : B;
  }

  /** How a step is computed, for logs and tests: micro-batches, and whether a helper thread takes every second one. */
  describeParallelism(): string {
    const B = this.spec.train.batch;
    const micro = this.microBatchSize();
    const count = Math.ceil(B / micro);
    const parts = count === 1 ? 'one batch' : `${count} micro-batches of ≤ ${micro}`;
    if (count === 1) return parts;
    if (this.usedHelper === undefined) return `${parts} (no step yet)`;
    if (this.usedHelper) return `${parts}, every second one on a data-parallel helper thread`;
    const failure = DataParallelHelper.failure();
    return `${parts}, one after the other${failure ? ` (the helper thread stopped: ${failure})` : ''}`;
  }

  private withEvalWeights<T>(fn: () => T): T {
    if (!this.ema) return fn();
    this.ema.swapIn();
    try { return fn(); } finally { this.ema.swapOut(); }
  }

  private captureState(): StateDict {
    const B = this.spec.train.batch;
    const { totalLen } = this.model.dims;
    const D = this.model.config.hidden;
    const parts: Record<string, StateDict> = { adam: this.adam.getState() };
    if (this.ema) {
      parts.ema = this.ema.getState();
      // The checkpoint's weights are the EMA average: keep the raw weights here so that a resume continues exactly.
      const raw: StateDict = { arrays: {}, json: {} };
      for (const [name, v] of this.model.weights) raw.arrays[name] = { shape: [...v.shape], data: (v.dataSync() as Float32Array).slice() };
      parts.raw = raw;
    }
    parts.slots = {
      arrays: {
        tokens: { shape: [B, this.model.dims.cells], data: this.tokens.slice() },
        labels: { shape: [B, this.model.dims.cells], data: this.labels.slice() },
        steps: { shape: [B], data: this.slotSteps.slice() },
        halted: { shape: [B], data: this.halted.slice() },
        zH: { shape: [B, totalLen, D], data: (this.carry.zH.dataSync() as Float32Array).slice() },
        zL: { shape: [B, totalLen, D], data: (this.carry.zL.dataSync() as Float32Array).slice() },
      },
      json: { drawCounter: this.drawCounter },
    };
    return combineStates(parts, { step: this.step });
  }

  /** Start counting at `step` with the state a new run has; draws continue past step × batch, which no run can have reached. */
  private startAt(step: number): void {
    this.step = step;
    this.drawCounter = step * this.spec.train.batch;
  }

  private restoreState(state: StateDict, step: number): void {
    const adam = pickState(state, 'adam');
    if (!adam) throw new Error('checkpoint optimizer state has no AdamATan2 part');
    this.adam.setState(adam);
    const ema = pickState(state, 'ema');
    if (this.ema && ema) this.ema.setState(ema);
    const raw = pickState(state, 'raw');
    if (raw) {
      for (const [name, v] of this.model.weights) {
        const a = raw.arrays[name];
        if (!a) throw new Error(`checkpoint optimizer state lacks the raw weight "${name}"`);
        const t = tf.tensor(a.data as Float32Array, v.shape);
        v.assign(t);
        t.dispose();
      }
    }
    const slots = pickState(state, 'slots');
    if (!slots) throw new Error('checkpoint optimizer state has no slot part');
    const B = this.spec.train.batch;
    const { totalLen } = this.model.dims;
    const D = this.model.config.hidden;
    this.tokens.set(slots.arrays.tokens.data as Int32Array);
    this.labels.set(slots.arrays.labels.data as Int32Array);
    this.slotSteps.set(slots.arrays.steps.data as Int32Array);
    this.halted.set(slots.arrays.halted.data as Uint8Array);
    disposeCarry(this.carry);
    this.carry = {
      zH: tf.tensor3d(slots.arrays.zH.data as Float32Array, [B, totalLen, D]),
      zL: tf.tensor3d(slots.arrays.zL.data as Float32Array, [B, totalLen, D]),
    };
    this.drawCounter = Number(slots.json.drawCounter);
    this.step = step;
  }
}

/** The halting exploration stream of training step `step` (1-based). */
export function explorationRng(seed: number, step: number): Rng {
  return new Rng(deriveSeed(seed, PURPOSE_EXPLORE, step));
}

/** A run's training data source and its held-out set (excluded from the draws), from its spec. */
export function makeData(spec: RunSpec, pool?: TrainDataSpec): { data: TrainDataSource; evalSet: EvalPuzzle[] } {
  const size = spec.model.gridSize as GridSize;
  const tr = spec.train;
  // The held-out set: generated with its own seed stream and excluded from training draws.
  const gen = new PuzzleGenerator({ n: size, seed: deriveSeed(spec.seed, PURPOSE_EVAL), minClues: tr.minClues, maxClues: tr.maxClues });
  const evalSet: EvalPuzzle[] = [];
  for (let i = 0; i < tr.evalPuzzles; i++) { const p = gen.next(); evalSet.push({ puzzle: p.puzzle, solution: p.solution }); }
  const exclude = new Set(evalSet.map((p) => gridToString(p.puzzle)));
  const dataSpec: TrainDataSpec = pool ?? { kind: 'generated', size, minClues: tr.minClues, maxClues: tr.maxClues, fixedSetSize: tr.fixedSetSize };
  return { data: new TrainDataSource(dataSpec, { seed: spec.seed, mixing: spec.mixing, mixingMode: spec.mixingMode, augment: spec.augment, augmentCopies: tr.augmentCopies, exclude }), evalSet };
}

function jsonSafe(m: StepMetrics): JsonObject {
  const o: JsonObject = {};
  for (const [k, v] of Object.entries(m)) {
    // The per-segment fractions are k / n of small counts: 4 decimals keep metrics.jsonl short.
    o[k] = Array.isArray(v) ? v.map((x) => (x === null ? null : Math.round(x * 1e4) / 1e4)) : Number.isFinite(v) ? (v as number) : null;
  }
  return o;
}

export function evalResultJson(r: EvalResult, step: number): JsonObject {
  return {
    step, puzzles: r.puzzles, segments: r.segments, exact: r.exact, cell: r.cell, haltedAtLast: r.haltedAtLast,
    perSegment: r.perSegment.map((s) => ({ segment: s.segment, exact: s.exact, cell: s.cell })), time: new Date().toISOString(),
  };
}
