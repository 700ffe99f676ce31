/**
 * The training feed of the torch trainer (python/hrm_lens_torch/feed.py reads it): the engine's own training data and
 * per-step numbers, written ahead into a folder of chunk files, each written whole (a temp file, then a rename).
 *
 *   draws-<i>.bin  draws i·C … (i+1)·C − 1 of the run's TrainDataSource (generation, fixed sets, augmentation copies
 *                  and mixing twins: the draws the engine's trainer takes, in its order): uint8 [C, 2, cells], the input
 *                  tokens then the label tokens
 *   steps-<i>.bin  steps i·T + 1 … (i+1)·T, one record each: float64 lr, float64 puzzle-embedding lr (the engine's
 *                  schedule), int32 [batch] exploration floors (explorationFloors: the minimum halt step a slot drew
 *                  that step, 0 = none)
 *   stop           asks the trainer to stop after its current step (with a checkpoint)
 *
 * `advance(step, drawCounter)`, called as the trainer reports each step, keeps the files at least one chunk ahead of
 * what the next step can need and removes the chunks every process has read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type HrmConfig, explorationFloors } from '../model';
import { explorationRng } from '../train/trainer';
import { learningRate } from '../train/schedule';
import type { TrainDataSource } from '../train/data-source';
import type { TrainSettings } from '../train/presets';
import { gridToTokens } from '../sudoku/geometry';

export interface TrainFeedOptions {
  dir: string;
  data: TrainDataSource;
  config: HrmConfig;
  train: TrainSettings;
  seed: number;
  /** Draws per chunk (default max(512, 4 × batch)). */
  drawChunk?: number;
  /** Steps per chunk (default 256). */
  stepChunk?: number;
}

export class TrainFeed {
  readonly dir: string;
  readonly drawChunk: number;
  readonly stepChunk: number;
  private readonly cells: number;
  private readonly batch: number;
  /** Chunks written: [first, next) of each kind. */
  private draws = { first: 0, next: 0 };
  private steps = { first: 0, next: 0 };
  private started = false;

  constructor(private readonly o: TrainFeedOptions) {
    this.dir = o.dir;
    this.cells = o.config.gridSize * o.config.gridSize;
    this.batch = o.train.batch;
    this.drawChunk = o.drawChunk ?? Math.max(512, 4 * this.batch);
    this.stepChunk = o.stepChunk ?? 256;
    fs.mkdirSync(this.dir, { recursive: true });
  }

  /** After `step` steps and `drawCounter` draws: write ahead, remove what every process has read. */
  advance(step: number, drawCounter: number): void {
    if (!this.started) {
      this.started = true;
      this.draws = { first: Math.floor(drawCounter / this.drawChunk), next: Math.floor(drawCounter / this.drawChunk) };
      this.steps = { first: Math.floor(step / this.stepChunk), next: Math.floor(step / this.stepChunk) };
    }
    // The next step draws at most `batch` more; keep one chunk beyond that written.
    while (this.draws.next * this.drawChunk < drawCounter + this.batch + this.drawChunk) this.writeDraws(this.draws.next++);
    while (this.steps.next * this.stepChunk < step + 1 + this.stepChunk) this.writeSteps(this.steps.next++);
    while ((this.draws.first + 1) * this.drawChunk <= drawCounter && this.draws.first < this.draws.next) this.remove(`draws-${pad(this.draws.first++)}.bin`);
    while ((this.steps.first + 1) * this.stepChunk <= step && this.steps.first < this.steps.next) this.remove(`steps-${pad(this.steps.first++)}.bin`);
  }

  /** Ask the trainer to stop after its current step. */
  requestStop(): void {
    fs.writeFileSync(path.join(this.dir, 'stop'), '');
  }

  /** Remove the feed folder. */
  dispose(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private writeDraws(i: number): void {
    const { cells, drawChunk: C } = this;
    const buf = new Uint8Array(C * 2 * cells);
    for (let j = 0; j < C; j++) {
      const ex = this.o.data.draw(i * C + j);
      buf.set(gridToTokens(ex.puzzle), (2 * j) * cells);
      buf.set(gridToTokens(ex.solution), (2 * j + 1) * cells);
    }
    this.write(`draws-${pad(i)}.bin`, buf);
  }

  private writeSteps(i: number): void {
    const { batch: B, stepChunk: T } = this;
    const tr = this.o.train;
    const size = 16 + 4 * B;
    const buf = new Uint8Array(T * size);
    const view = new DataView(buf.buffer);
    for (let j = 0; j < T; j++) {
      const t = i * T + j + 1;
      const at = j * size;
      const schedule = { warmup: tr.warmup, total: tr.steps, minRatio: tr.lrMinRatio };
      view.setFloat64(at, learningRate(t, { base: tr.lr, ...schedule }), true);
      view.setFloat64(at + 8, learningRate(t, { base: tr.puzzleEmbLr, ...schedule }), true);
      const floors = explorationFloors(this.o.config, B, explorationRng(this.o.seed, t));
      for (let b = 0; b < B; b++) view.setInt32(at + 16 + 4 * b, floors[b], true);
    }
    this.write(`steps-${pad(i)}.bin`, buf);
  }

  private write(name: string, data: Uint8Array): void {
    const file = path.join(this.dir, name);
    const tmp = path.join(this.dir, `.${name}.tmp`);
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  }

  private remove(name: string): void {
    fs.rmSync(path.join(this.dir, name), { force: true });
  }
}

function pad(i: number): string {
  return String(i).padStart(6, '0');
}
