/**
 * Host <-> engine protocol: every message that crosses the IPC channel between the extension host and the engine
 * process (engine/server.ts), as discriminated unions on `kind`, plus the typed method map `EngineMethods`.
 *
 * Transport: Node IPC with `serialization: 'advanced'` (V8 structured clone). Typed arrays, Maps, Sets, Dates and
 * nested objects arrive as themselves; functions, class instances' prototypes and symbols do not. Tensors travel as
 * `WireTensor` (a typed array + shape), never as JSON arrays of numbers. Structured clone copies the WHOLE
 * ArrayBuffer behind a view: send `view.slice()` rather than a small subarray of a large buffer.
 *
 * Conversation:
 *   engine -> host  { kind: 'ready', pid, version }               once, when the engine listens
 *   host -> engine  { kind: 'request', id, method, params }       id: unique per connection (host counter)
 *   engine -> host  { kind: 'progress', id, event }*              zero or more, in order, before the reply
 *   engine -> host  { kind: 'result', id, result } | { kind: 'error', id, error }   exactly one reply per request
 *   host -> engine  { kind: 'cancel', id }                         any time; the handler's AbortSignal fires and the
 *                                                                  reply becomes an error with code 'Cancelled'
 *   engine -> host  { kind: 'log', level, message }                any time; shown in the "HRM Lens" log
 *
 * HOW TO ADD A METHOD (e.g. `train`):
 *   1. Describe it: add an entry `train: { params: TrainParams; result: TrainResult; progress: TrainEvent }` to
 *      `EngineMethods` below (a group of related methods may live in its own interface, e.g. `TrainMethods` in
 *      engine/train/protocol.ts, added to the `extends` list of `EngineMethods`). Use `progress: never` when the
 *      method streams nothing. Import shape types with `import type` only: this module is bundled into the
 *      extension host, which must not pull in engine code or TF.js.
 *   2. Implement it: a `Handler<'train'>` (engine/rpc/handler.ts) in the feature's folder, that honours
 *      `ctx.signal` and reports with `ctx.progress(event)`.
 *   3. Register it in engine/rpc/handlers.ts. That registry is typed as complete, so step 3 cannot be forgotten:
 *      `tsc` fails until every method of `EngineMethods` has a handler.
 *   The host side needs nothing more: `client.request('train', params, { onProgress })` is typed from the map.
 */
import type { InspectSummary, PerturbationStrip } from './analysis/inspect';
import type { ImportMethods } from './interop/import-protocol';
import type { AnalysisMethods } from './analysis/analysis-protocol';
import type { PaperMethods } from './paper/paper-protocol';
import type { OfficialMethods } from './interop/official-protocol';
import type { BackendName } from './rpc/backend-names';
import type { TorchMethods, TorchParams, TorchTrainParams } from './torch/torch-protocol';
import type { MapAnalysisMethods, PatchKickMethods } from './intervene/intervene-protocol';

/**
 * Bumped when a message shape or the method set changes (2: `inspect.strip`; 3: `official.evaluate`,
 * `inspect.latents`; 4: `torch` on the analyses' params; 5: the interventions `intervene.*`,
 * `torch` on `train`, `torch.info`); the host refuses an engine
 * that reports another version (a stale build).
 */
export const PROTOCOL_VERSION = 5;

// ---------------------------------------------------------------------------------------------------- tensors

/** Element types a tensor may travel with, and the typed array that carries each. */
export interface WireDTypes {
  float32: Float32Array;
  int32: Int32Array;
  int8: Int8Array;
  uint8: Uint8Array;
}
export type WireDType = keyof WireDTypes;

/** A dense row-major tensor on the wire: `data.length` equals the product of `shape`. */
export type WireTensor<D extends WireDType = WireDType> = {
  [K in D]: { dtype: K; shape: number[]; data: WireDTypes[K] };
}[D];

/** Build a WireTensor, checking that the shape matches the data. */
export function wireTensor(data: Float32Array, shape: readonly number[]): WireTensor<'float32'>;
export function wireTensor(data: Int32Array, shape: readonly number[]): WireTensor<'int32'>;
export function wireTensor(data: Int8Array, shape: readonly number[]): WireTensor<'int8'>;
export function wireTensor(data: Uint8Array, shape: readonly number[]): WireTensor<'uint8'>;
export function wireTensor(data: WireDTypes[WireDType], shape: readonly number[]): WireTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || size !== data.length) {
    throw new RangeError(`tensor shape [${shape.join(', ')}] does not match ${data.length} elements`);
  }
  const dims = [...shape];
  if (data instanceof Float32Array) return { dtype: 'float32', shape: dims, data };
  if (data instanceof Int32Array) return { dtype: 'int32', shape: dims, data };
  if (data instanceof Int8Array) return { dtype: 'int8', shape: dims, data };
  return { dtype: 'uint8', shape: dims, data };
}

// ---------------------------------------------------------------------------------------------------- methods

/** Every method: its params, its result, and the events it streams (`never`: none). */
export interface MethodSpec {
  params: unknown;
  result: unknown;
  progress: unknown;
}

/** Engine health. */
export interface CoreMethods {
  /** Liveness and identity of the engine process. */
  ping: { params: Record<string, never>; result: { pid: number; uptimeMs: number }; progress: never };
}

/** Methods for tests of the channel itself (streaming, cancellation, tensors). */
export interface SelfTestMethods {
  /**
   * Emits `count` progress events, `delayMs` apart, then returns. Honours cancellation between events.
   * `echo` tensors come back unchanged in the result, with the engine's view of them (type name and sum), so a
   * test can check that typed arrays crossed both ways as typed arrays.
   */
  'selfTest.progress': {
    params: { count: number; delayMs?: number; echo?: WireTensor[] };
    result: { emitted: number; elapsedMs: number; echo?: WireTensor[]; received?: { type: string; sum: number }[] };
    progress: { index: number; total: number; elapsedMs: number };
  };
}

/**
 * The method map: the one place that lists what the engine can do. Extend it by adding a member interface to
 * the `extends` list (or an entry to one of them); see "HOW TO ADD A METHOD" at the top of this file.
 */
/**
 * Inspection of one puzzle with one checkpoint (engine/analysis/inspect.ts). `strip: false` leaves out the perturbation
 * strip (the summary's `stripPending`), which `inspect.strip` computes: the extension shows the trace first.
 * `inspect.latents` saves the puzzle's trace (z_H, z_L, logits, Q per segment) to `file` (engine/analysis/latents-export.ts:
 * .safetensors, .npy files or a folder) and answers with the files written and their total size in bytes.
 */
export interface InspectMethods {
  inspect: { params: InspectParams & { strip?: boolean }; result: InspectSummary; progress: never };
  'inspect.strip': { params: InspectParams; result: PerturbationStrip; progress: never };
  'inspect.latents': { params: InspectParams & { file: string }; result: { files: string[]; bytes: number }; progress: never };
}

/** What the inspect methods share. `torch`: run the forward passes on the PyTorch worker (absent: TF.js). */
export interface InspectParams {
  checkpoint: string;
  puzzle: string;
  segments?: number;
  torch?: TorchParams;
}

/** Accuracy figures of one evaluation (segment by segment, no halting), as stored in a checkpoint's .eval.json. */
export interface EvalFigures {
  /** The checkpoint's training step. */
  step: number;
  puzzles: number;
  segments: number;
  /** Exact and cell accuracy at the last segment. */
  exact: number;
  cell: number;
  /** Fraction of puzzles whose Q-head says halt at the last segment. */
  haltedAtLast: number;
  perSegment: { segment: number; exact: number; cell: number }[];
  /** ISO time of the evaluation. */
  time: string;
}

/** Backends the engine can be asked for (the list: engine/rpc/backend-names.ts). */
export type { BackendName } from './rpc/backend-names';

export interface TrainParams {
  /** A preset of engine/train/presets.ts (tiny-4x4, small-6x6, easy-9x9, …); ignored when resuming. */
  preset: string;
  /** Total optimizer steps (default: the preset's). */
  steps?: number;
  seed?: number;
  /** Data mixing (the run's `mixing` flag): one hint twin per training puzzle, fixed for the run. */
  mixing?: boolean;
  /** Data mixing with a fresh hint twin per draw instead (implies `mixing`). */
  mixingResample?: boolean;
  /** Global batch (default: the preset's). */
  batch?: number;
  /** Train on the puzzles of this dataset file (CSV or one per line, with answers; size = the preset's grid) instead of generated ones. */
  data?: string;
  /** The run folder: created for a new run; the run to continue when `resume`. */
  out: string;
  resume?: boolean;
  /** Used only when this request is the first to need TF.js in the engine process (the backend is chosen once). */
  backend?: BackendName;
  /** Train with PyTorch under torchrun (engine/torch/torch-train.ts); TF.js then only evaluates the final checkpoint. */
  torch?: TorchTrainParams;
}

/** Streamed by `train`: one `step` event per optimizer step, one `checkpoint` event per file written. */
export type TrainEvent =
  | {
    kind: 'step'; step: number; totalSteps: number; loss: number; cellAccuracy: number;
    /** Over the slots that halted this step; null when none did. */
    exactAccuracy: number | null; stepsPerSecond: number; backend: string;
    /** Mean ACT segments of the slots that halted this step; null when none did. */
    meanSteps: number | null;
    /** Per segment index (entry s − 1): exact fraction of the slots at their s-th segment this step; null: none there. */
    segmentExact: (number | null)[];
    lr: number;
  }
  | { kind: 'checkpoint'; checkpoint: string; step: number };

export interface TrainResult {
  /** The run folder. */
  run: string;
  /** The last checkpoint written. */
  checkpoint: string;
  step: number;
  /** True when `train.stop` ended the run early (after writing `checkpoint`). */
  cancelled: boolean;
  /** Held-out evaluation at the end; null when the run was stopped early. */
  heldOut: EvalFigures | null;
  backend: string;
}

export interface EvaluateParams {
  checkpoint: string;
  /** A dataset file (CSV, one per line, or a reference .npy folder). */
  data: string;
  segments?: number;
  limit?: number;
  /** Store the result under this name in the checkpoint's .eval.json ('' = the data file's name). */
  save?: string;
}

export interface EvaluateResult extends EvalFigures {
  checkpoint: string;
  data: string;
  seconds: number;
  /** The .eval.json written, when `save` was given. */
  savedTo: string | null;
}

/** Training and evaluation (engine/rpc/train-handlers.ts). */
export interface TrainMethods {
  /**
   * Train a new run into `out` (or continue it when `resume`). Cancelling the request stops after writing a
   * checkpoint and answers with a Cancelled error naming it; `train.stop` does the same but answers with a result
   * (`cancelled: true`).
   */
  train: { params: TrainParams; result: TrainResult; progress: TrainEvent };
  /** Ask running trainings (all, or the one writing into `out`) to stop after their next checkpoint. */
  'train.stop': { params: { out?: string }; result: { stopping: number }; progress: never };
  /** Evaluate a checkpoint on a dataset file. */
  evaluate: { params: EvaluateParams; result: EvaluateResult; progress: { done: number; total: number } };
}

export interface EngineMethods extends CoreMethods, SelfTestMethods, InspectMethods, TrainMethods, ImportMethods, AnalysisMethods, PaperMethods, OfficialMethods, PatchKickMethods, MapAnalysisMethods, TorchMethods {}

export type MethodName = keyof EngineMethods;
export type ParamsOf<M extends MethodName> = EngineMethods[M]['params'];
export type ResultOf<M extends MethodName> = EngineMethods[M]['result'];
export type ProgressOf<M extends MethodName> = EngineMethods[M]['progress'];
// (The three aliases above do not compile unless every entry of EngineMethods has params, result and progress.)

// ---------------------------------------------------------------------------------------------------- errors

/**
 * Error codes. Engine side: MethodNotFound, InvalidRequest, InvalidParams, Cancelled, HandlerError.
 * Host side (made by the client, never sent): EngineExited, EngineStopped, LaunchFailed, Disposed.
 */
export type EngineErrorCode =
  | 'MethodNotFound'
  | 'InvalidRequest'
  | 'InvalidParams'
  | 'Cancelled'
  | 'HandlerError'
  | 'EngineExited'
  | 'EngineStopped'
  | 'LaunchFailed'
  | 'Disposed';

/** An error on the wire. `detail`: the engine-side stack, or the last stderr lines of a dead engine. */
export interface WireError {
  message: string;
  code?: EngineErrorCode;
  detail?: string;
}

/** An error with a code; handlers throw it (e.g. InvalidParams), the host rejects requests with it. */
export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly detail: string | undefined;

  constructor(message: string, code: EngineErrorCode, detail?: string) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.detail = detail;
  }

  static from(wire: WireError): EngineError {
    return new EngineError(wire.message, wire.code ?? 'HandlerError', wire.detail);
  }
}

/**
 * True when a request ended because it was cancelled (by a token, a signal, or the engine confirming a cancel).
 * Checks the code, not the class: each bundle (extension, tests) has its own copy of EngineError.
 */
export function isCancelled(err: unknown): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === 'Cancelled';
}

// ---------------------------------------------------------------------------------------------------- messages

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** One request per method, correlated: `params` is the type of `method`'s params. */
export type RequestMessage<M extends MethodName = MethodName> = {
  [K in M]: { kind: 'request'; id: number; method: K; params: ParamsOf<K> };
}[M];
export interface CancelMessage {
  kind: 'cancel';
  id: number;
}
export type HostToEngine = RequestMessage | CancelMessage;

export interface ResultMessage<M extends MethodName = MethodName> {
  kind: 'result';
  id: number;
  result: ResultOf<M>;
}
export interface ErrorMessage {
  kind: 'error';
  id: number;
  error: WireError;
}
export interface ProgressMessage<M extends MethodName = MethodName> {
  kind: 'progress';
  id: number;
  event: ProgressOf<M>;
}
export interface LogMessage {
  kind: 'log';
  level: LogLevel;
  message: string;
}
export interface ReadyMessage {
  kind: 'ready';
  pid: number;
  /** PROTOCOL_VERSION of the engine build. */
  version: number;
}
export type EngineToHost = ResultMessage | ErrorMessage | ProgressMessage | LogMessage | ReadyMessage;

const LOG_LEVELS: readonly string[] = ['trace', 'debug', 'info', 'warn', 'error'];

/** Shape check of a message from the engine (the host trusts its own engine, but not blindly). */
export function isEngineToHost(msg: unknown): msg is EngineToHost {
  if (typeof msg !== 'object' || msg === null) return false;
  const m = msg as Record<string, unknown>;
  switch (m.kind) {
    case 'result':
    case 'progress':
      return typeof m.id === 'number';
    case 'error':
      return typeof m.id === 'number' && typeof m.error === 'object' && m.error !== null
        && typeof (m.error as Record<string, unknown>).message === 'string';
    case 'log':
      return typeof m.message === 'string' && LOG_LEVELS.includes(String(m.level));
    case 'ready':
      return typeof m.pid === 'number' && typeof m.version === 'number';
    default:
      return false;
  }
}
