/**
 * A model run by the PyTorch worker: its config and sizes on the engine side (what the analyses read), its weights
 * in PyTorch layout (sent to the worker, again after a worker restart), and `run`, which streams the worker's
 * per-segment outputs. Nothing here runs on TF.js.
 */
import { type HrmConfig, type ModelDims, configFromFile, configToJson, modelDims, validateConfig } from '../model/config';
import { checkWeights, type WeightInput } from '../model/hrm';
import { weightSpecs } from '../model/weights';
import { loadCheckpoint } from '../train/checkpoint';
import type { Frame, FrameTensor } from './framing';
import { type TorchWorker, TorchWorkerError } from './worker-client';

/** The outputs of one segment for a batch, row-major, as the worker sends them (float32). */
export interface TorchSegment {
  /** 1-based segment index. */
  k: number;
  /** [B, cells, vocab]. */
  logits: Float32Array;
  /** [B, 2]: (q_halt, q_continue) per row. */
  q: Float32Array;
  /** [B, S_total, D] carry at the segment's end (with latents). */
  zH?: Float32Array;
  zL?: Float32Array;
  /**
   * [B, H_cycles - 1, S_total, D]: z_H after every H-update but the last (with latents; empty when H_cycles is 1).
   * The last H-update's z_H is `zH`, which the worker does not send twice.
   */
  hStates?: Float32Array;
}

export interface TorchRunOptions {
  segments: number;
  /** Return zH, zL and hStates per segment ('carry': zH and zL only). */
  latents?: boolean | 'carry';
  /** Start carry ([B, S_total, D] each, float32); default H_init / L_init. */
  carry?: { zH: Float32Array; zL: Float32Array };
}

export class TorchModel {
  readonly config: HrmConfig;
  readonly dims: ModelDims;
  /** Checkpoint file or a label, for reports. */
  readonly name: string;
  readonly worker: TorchWorker;
  private readonly weights: FrameTensor[];
  private loadedIn = -1;

  /** `tensors`: every weight by engine name, PyTorch layout (checked against the config). */
  constructor(config: HrmConfig, tensors: ReadonlyMap<string, WeightInput>, worker: TorchWorker, name = 'model') {
    this.config = validateConfig({ ...config });
    this.dims = modelDims(this.config);
    this.name = name;
    this.worker = worker;
    const checked = checkWeights(this.config, tensors);
    this.weights = weightSpecs(this.config).map((s) => ({ name: s.name, dtype: 'f32', shape: [...s.shape], data: checked.get(s.name) as Float32Array }));
  }

  /** A checkpoint read and checked by the engine (loadCheckpoint: format, finite weights; config ranges). */
  static async fromCheckpoint(file: string, worker: TorchWorker): Promise<TorchModel> {
    const ck = await loadCheckpoint(file);
    return new TorchModel(configFromFile(ck.config, file, 'config'), ck.tensors, worker, file);
  }

  /**
   * Loads the weights into the worker when it does not hold them (first use, a restarted worker, or another model
   * loaded since). Callers sharing the worker hold it with `worker.exclusive` from here to the end of their request.
   */
  async ensureLoaded(): Promise<void> {
    await this.worker.start();
    if (this.loadedIn === this.worker.generation && this.worker.holder === this) return;
    this.worker.holder = undefined;
    await this.worker.request('load', { config: configToJson(this.config) }, this.weights);
    this.loadedIn = this.worker.generation;
    this.worker.holder = this;
  }

  /**
   * The output heads on given states: logits [B, cells, vocab] and (q_halt, q_continue) [B, 2] of lm_head / q_head
   * applied to z_H ([B, S_total, D] float32), no segment run (the landscape's heights).
   */
  async heads(zH: Float32Array): Promise<{ logits: Float32Array; q: Float32Array }> {
    const { cells, vocab, totalLen } = this.dims;
    const D = this.config.hidden;
    const B = zH.length / (totalLen * D);
    if (!Number.isInteger(B) || B < 1) throw new Error(`torch heads: zH has ${zH.length} values, not a multiple of ${totalLen}×${D}`);
    const f = await this.worker.exclusive(async () => {
      await this.ensureLoaded();
      return this.worker.request('heads', {}, [{ name: 'zH', dtype: 'f32', shape: [B, totalLen, D], data: zH }]);
    });
    const get = (name: string, shape: number[]): Float32Array => {
      const t = f.tensors.get(name);
      if (!t || t.dtype !== 'f32' || t.shape.join(',') !== shape.join(',')) throw new TorchWorkerError(`PyTorch worker: heads answered without f32 ${name} [${shape.join(', ')}]`);
      return t.data as Float32Array;
    };
    return { logits: get('logits', [B, cells, vocab]), q: get('q', [B, 2]) };
  }

  /** Runs `tokens` (rows of n² token ids) for opts.segments segments; `onSegment` gets each segment as it arrives. */
  async run(tokens: readonly ArrayLike<number>[], opts: TorchRunOptions, onSegment: (s: TorchSegment) => void): Promise<void> {
    const { cells, vocab, totalLen } = this.dims;
    const B = tokens.length;
    const flat = new Int32Array(B * cells);
    tokens.forEach((r, b) => {
      if (r.length !== cells) throw new Error(`torch run: row ${b} has ${r.length} tokens, expected ${cells}`);
      for (let c = 0; c < cells; c++) {
        const t = r[c];
        if (!Number.isInteger(t) || t < 0 || t >= vocab) throw new Error(`torch run: row ${b} cell ${c}: token ${t} outside 0..${vocab - 1}`);
        flat[b * cells + c] = t;
      }
    });
    const D = this.config.hidden;
    const tensors: FrameTensor[] = [{ name: 'tokens', dtype: 'i32', shape: [B, cells], data: flat }];
    if (opts.carry) {
      for (const [name, data] of [['zH', opts.carry.zH], ['zL', opts.carry.zL]] as const) {
        if (data.length !== B * totalLen * D) throw new Error(`torch run: carry ${name} has ${data.length} values, expected ${B * totalLen * D}`);
        tensors.push({ name, dtype: 'f32', shape: [B, totalLen, D], data });
      }
    }
    let seen = 0;
    const H = this.config.H_cycles;
    const expect = (f: Frame, name: string, shape: number[]): Float32Array => {
      const t = f.tensors.get(name);
      if (!t || t.dtype !== 'f32' || t.shape.join(',') !== shape.join(',')) {
        throw new TorchWorkerError(`PyTorch worker: segment ${String(f.message.k)} has no f32 ${name} [${shape.join(', ')}]`);
      }
      return t.data as Float32Array;
    };
    const latents = opts.latents === true || opts.latents === 'carry';
    await this.worker.exclusive(async () => {
      await this.ensureLoaded();
      await this.worker.request('run', { segments: opts.segments, latents, hStates: opts.latents === true }, tensors, (f) => {
        seen++;
        if (f.message.k !== seen) throw new TorchWorkerError(`PyTorch worker: segment ${String(f.message.k)} arrived, expected ${seen}`);
        const seg: TorchSegment = { k: seen, logits: expect(f, 'logits', [B, cells, vocab]), q: expect(f, 'q', [B, 2]) };
        if (latents) {
          seg.zH = expect(f, 'zH', [B, totalLen, D]);
          seg.zL = expect(f, 'zL', [B, totalLen, D]);
        }
        if (opts.latents === true) seg.hStates = H > 1 ? expect(f, 'hStates', [B, H - 1, totalLen, D]) : new Float32Array(0);
        onSegment(seg);
      });
    });
    if (seen !== opts.segments) throw new TorchWorkerError(`PyTorch worker: ${seen} of ${opts.segments} segments arrived`);
  }
}
