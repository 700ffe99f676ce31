/**
 * Picks the TF.js backend once, explicitly, and reports what runs (docs/architecture.md §Backends).
 *
 * Order for 'auto' (tfjs priorities are NOT relied on):
 *   1. `@tensorflow/tfjs-node-gpu` — only if it resolves, loads and `tf.backend().isUsingGpuDevice` is true;
 *   2. `@tensorflow/tfjs-node` — native libtensorflow on CPU. If tfjs-node-gpu loaded but found no GPU, its
 *      already-registered CPU libtensorflow fills this slot (loading both packages would clash);
 *   3. `webgpu` (Dawn for Node + `@tensorflow/tfjs-backend-webgpu`) — only when enabled (option `webgpu: true` or
 *      env HRM_LENS_WEBGPU=1); software adapters (llvmpipe, lavapipe, SwiftShader) are rejected;
 *   4. `wasm` — the embedded default; binaries from `wasmDir`, env HRM_LENS_WASM_DIR, `<bundle dir>/wasm` (dist/wasm
 *      when bundled) or node_modules, in that order. `threads > 1` enables the threaded-SIMD build through the
 *      shim (docs/architecture.md §The threaded wasm build) and falls back to one thread on any init error (reported
 *      in `detail`);
 *   5. `cpu` — pure JS, always there.
 * Precedence of the choice: the `backend` option when it is not 'auto', else env HRM_LENS_BACKEND, else 'auto'.
 * Threads: the option, else env HRM_LENS_THREADS, else 1.
 * The native and GPU packages are optional peers, loaded with a runtime `createRequire` that esbuild leaves alone
 * (they are also marked external in esbuild.mjs). In auto mode a missing optional backend is skipped (and logged);
 * an explicitly requested backend that cannot start throws BackendUnavailableError.
 * Where optional packages are looked for: the directories named by the `backendPath` option (the CLI's
 * `--backend-path`), else by env HRM_LENS_BACKEND_PATH (a list separated by path.delimiter), then the installation
 * (Node's resolution from this module's own location). Never the working directory: a package planted in a cloned
 * repository's or a workspace's node_modules would run as soon as the backend is chosen.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { BACKEND_NAMES, type BackendName } from './rpc/backend-names';
import { installWasmIdentity } from './kernels/wasm-identity';
import { installWasmSlice } from './kernels/wasm-slice';
import { installWasmGemm } from './kernels/wasm-gemm';
import { installWasmOps } from './kernels/wasm-ops';
import { getThreadsCount, setThreadsCount, setWasmPaths, tf, version_cpu, version_wasm } from './tf';

export type BackendChoice = BackendName;
export const BACKEND_CHOICES: readonly BackendChoice[] = BACKEND_NAMES;

export interface BackendOptions {
  backend?: BackendChoice;
  /** wasm threads (> 1 = threaded build, best effort). */
  threads?: number;
  /** Directory holding the tfjs-backend-wasm .wasm files. */
  wasmDir?: string;
  /** Allow webgpu in auto mode (also env HRM_LENS_WEBGPU=1). */
  webgpu?: boolean;
  /** Directories to look in for the optional backend packages before the installation (default: env HRM_LENS_BACKEND_PATH). */
  backendPath?: readonly string[];
  log?: (msg: string) => void;
}

export interface BackendInfo {
  /** The TF.js backend name: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu'. */
  name: string;
  /** Version of the package that provides it. */
  version: string;
  threads: number;
  gpu: boolean;
  /** Human-readable account of the choice (what was tried and why it was skipped). */
  detail: string;
}

export class BackendUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}

// This module's file (the bundle when bundled): where the installation's packages are resolved from.
const here = typeof __filename === 'string' ? __filename : path.resolve(process.argv[1] ?? process.execPath);
const nodeRequire = createRequire(here);

/** The env variable naming directories for optional backend packages (see the file comment). */
const BACKEND_PATH_ENV = 'HRM_LENS_BACKEND_PATH';

let backendPathOption: readonly string[] | undefined;

/** The directories named for optional packages: the last selectBackend's `backendPath`, else HRM_LENS_BACKEND_PATH. */
function explicitDirs(): string[] {
  const dirs = backendPathOption ?? (process.env[BACKEND_PATH_ENV] ?? '').split(path.delimiter);
  return dirs.filter((d) => d.trim() !== '').map((d) => path.resolve(d));
}

/**
 * Resolves an optional package (undefined when absent) from the directories named explicitly, then from the
 * installation; never from the working directory.
 */
function resolveOptional(name: string): string | undefined {
  for (const dir of explicitDirs()) {
    try {
      return nodeRequire.resolve(name, { paths: [dir] });
    } catch { /* try the next place */ }
  }
  try {
    return nodeRequire.resolve(name);
  } catch {
    return undefined;
  }
}

function packageVersion(name: string): string {
  const p = resolveOptional(`${name}/package.json`);
  if (!p) return 'unknown';
  try {
    return String((nodeRequire(p) as { version?: unknown }).version ?? 'unknown');
  } catch {
    return 'unknown';
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] : String(e);
}

type Attempt = { ok: true; info: BackendInfo } | { ok: false; reason: string };

async function trySetBackend(name: string): Promise<boolean> {
  try {
    return await tf.setBackend(name);
  } catch {
    return false;
  }
}

let tfNodeGpuLoaded = false;

/**
 * Native TensorFlow: tfjs-node-gpu on a GPU device; else the CPU libtensorflow of an already-loaded tfjs-node-gpu
 * (loading tfjs-node beside it would clash); else tfjs-node.
 */
async function tryTensorflow(): Promise<Attempt> {
  const reasons: string[] = [];
  const cores = os.cpus().length;
  const gpuPath = resolveOptional('@tensorflow/tfjs-node-gpu');
  if (!gpuPath) reasons.push('@tensorflow/tfjs-node-gpu not installed');
  else {
    try {
      nodeRequire(gpuPath); // sets the 'tensorflow' backend as a side effect
      tfNodeGpuLoaded = true;
      if (await trySetBackend('tensorflow')) {
        const gpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
        const version = packageVersion('@tensorflow/tfjs-node-gpu');
        return {
          ok: true,
          info: gpu
            ? { name: 'tensorflow', version, threads: cores, gpu: true, detail: `tfjs-node-gpu ${version} on a CUDA device` }
            : { name: 'tensorflow', version, threads: cores, gpu: false, detail: `tfjs-node-gpu ${version} loaded but found no GPU device (CUDA 11.2 + cuDNN 8.1 needed): native libtensorflow on CPU` },
        };
      }
      reasons.push('@tensorflow/tfjs-node-gpu loaded but its backend did not initialise');
    } catch (e) {
      reasons.push(`@tensorflow/tfjs-node-gpu failed to load: ${errText(e)}`);
    }
  }
  if (!tfNodeGpuLoaded) {
    const cpuPath = resolveOptional('@tensorflow/tfjs-node');
    if (!cpuPath) reasons.push('@tensorflow/tfjs-node not installed');
    else {
      try {
        nodeRequire(cpuPath);
        if (await trySetBackend('tensorflow')) {
          const version = packageVersion('@tensorflow/tfjs-node');
          return { ok: true, info: { name: 'tensorflow', version, threads: cores, gpu: false, detail: `tfjs-node ${version} (native libtensorflow on CPU)` } };
        }
        reasons.push('@tensorflow/tfjs-node loaded but its backend did not initialise');
      } catch (e) {
        reasons.push(`@tensorflow/tfjs-node failed to load: ${errText(e)}`);
      }
    }
  }
  return { ok: false, reason: reasons.join('; ') };
}

interface GpuAdapterLike {
  info?: Record<string, unknown>;
  requestAdapterInfo?: () => Promise<Record<string, unknown>>;
}
interface GpuLike {
  requestAdapter(opts?: Record<string, unknown>): Promise<GpuAdapterLike | null>;
}
interface WebGpuModule {
  create(args: string[]): GpuLike;
  globals: Record<string, unknown>;
}

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|swiftshader|software/i;

/** Why the current backend cannot read a tensor back synchronously, or '' when it can. */
function syncReadProblem(): string {
  try {
    const t = tf.tensor1d([1, 2]);
    const v = t.dataSync();
    t.dispose();
    return v[1] === 2 ? '' : 'read back wrong values';
  } catch (e) {
    return errText(e);
  }
}

async function tryWebgpu(): Promise<Attempt> {
  const dawnPath = resolveOptional('webgpu');
  if (!dawnPath) return { ok: false, reason: 'webgpu (Dawn for Node) not installed' };
  const backendPath = resolveOptional('@tensorflow/tfjs-backend-webgpu');
  if (!backendPath) return { ok: false, reason: '@tensorflow/tfjs-backend-webgpu not installed' };
  try {
    let mod: WebGpuModule;
    try {
      mod = nodeRequire(dawnPath) as WebGpuModule;
    } catch (e) {
      if ((e as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw e;
      const url = new URL(`file://${dawnPath}`).href;
      mod = (await import(url)) as WebGpuModule;
    }
    Object.assign(globalThis, mod.globals);
    const gpu = mod.create([]);
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { ok: false, reason: 'webgpu: no adapter' };
    const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
    const desc = ['vendor', 'architecture', 'device', 'description'].map((k) => String(info[k] ?? '')).filter(Boolean).join(' ');
    if (SOFTWARE_ADAPTER.test(desc)) return { ok: false, reason: `webgpu: software adapter rejected (${desc})` };
    const nav = (globalThis as unknown as { navigator?: object }).navigator;
    if (nav) Object.defineProperty(nav, 'gpu', { value: gpu, configurable: true, writable: true });
    else Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
    nodeRequire(backendPath);
    if (!(await trySetBackend('webgpu'))) return { ok: false, reason: `webgpu: backend did not initialise on ${desc || 'the adapter'}` };
    // The engine reads tensors synchronously (dataSync); tfjs-backend-webgpu does that through OffscreenCanvas, which
    // Node lacks, so a backend that cannot read back synchronously is refused here rather than failing mid-analysis
    // (docs/pytorch.md §WebGPU).
    const syncProblem = syncReadProblem();
    if (syncProblem) return { ok: false, reason: `webgpu: no synchronous read-back on ${desc || 'the adapter'} (${syncProblem})` };
    const version = packageVersion('@tensorflow/tfjs-backend-webgpu');
    return { ok: true, info: { name: 'webgpu', version, threads: 1, gpu: true, detail: `tfjs-backend-webgpu ${version} via Dawn on ${desc || 'an unnamed adapter'}` } };
  } catch (e) {
    return { ok: false, reason: `webgpu failed: ${errText(e)}` };
  }
}

/** The directory the wasm binaries are loaded from (with a trailing separator), or undefined for the default. */
export function defaultWasmDir(): string | undefined {
  const candidates = [process.env.HRM_LENS_WASM_DIR, path.join(path.dirname(here), 'wasm')];
  const inModules = resolveOptional('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm');
  if (inModules) candidates.push(path.dirname(inModules));
  for (const c of candidates) if (c && existsSync(path.join(c, 'tfjs-backend-wasm-simd.wasm'))) return c.endsWith(path.sep) ? c : c + path.sep;
  return undefined;
}

let wasmDirSet: string | undefined;

/** Lets the process exit although emscripten's pthread workers are alive (they are never unref'd upstream). */
function unrefWasmWorkers(): void {
  type WorkerLike = { unref?: () => void };
  const mod = (tf.backend() as unknown as { wasm?: { PThread?: { runningWorkers?: WorkerLike[]; unusedWorkers?: WorkerLike[] } } }).wasm;
  const pt = mod?.PThread;
  for (const w of [...(pt?.runningWorkers ?? []), ...(pt?.unusedWorkers ?? [])]) w.unref?.();
}

/**
 * Lets tfjs-backend-wasm 4.22's threaded-SIMD build start in Node (docs/architecture.md §The threaded wasm build).
 * Emscripten starts pthread workers from `blob:` URLs, which worker_threads rejects: capture the Blob texts and hand workers real files,
 * with a prelude defining the bundle-internal names the factory code refers to. XNNPACK caps threads at
 * logical_cores / 2, so os.cpus reports twice the cores while the pool is sized. Everything is restored (and the
 * temporary scripts deleted) once the backend has initialised: the workers exist and have loaded by then. Relies on bundle internals of 4.22.0 (`require$$0..4`,
 * `commonjsGlobal`; a minified bundle renames them): any failure falls back to one thread.
 */
function installWasmThreadShim(onInitError: (e: unknown) => void): { finish(ok: boolean): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hrm-lens-wasm-mt-'));
  let mainScript: string | null = null;
  const NativeBlob = globalThis.Blob;
  class TextBlob extends NativeBlob {
    readonly hrmText: string | null;
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      this.hrmText = parts && parts.every((p) => typeof p === 'string') ? parts.join('') : null;
      if (this.hrmText?.startsWith('var WasmBackendModuleThreadedSimd')) {
        mainScript = path.join(dir, 'main.js');
        writeFileSync(mainScript, this.hrmText);
      }
    }
  }
  globalThis.Blob = TextBlob;
  const nativeCreate = URL.createObjectURL.bind(URL);
  const nativeCreateRef = URL.createObjectURL;
  URL.createObjectURL = (obj: Blob) => {
    const text = (obj as Partial<TextBlob>).hrmText;
    if (text == null) return nativeCreate(obj);
    const file = path.join(dir, 'worker.js');
    const prelude = "Object.assign(globalThis,{require$$0:require('fs'),require$$1:require('path')," +
      "require$$2:require('worker_threads'),require$$3:require('perf_hooks'),require$$4:require('os')," +
      'commonjsGlobal:globalThis,__dirname:__dirname});';
    writeFileSync(file, `URL.createObjectURL=()=>${JSON.stringify(mainScript)};URL.revokeObjectURL=()=>{};${prelude}\n${text}`);
    return file;
  };
  const realCpus = os.cpus;
  os.cpus = () => { const c = realCpus(); return c.concat(c); };
  // Emscripten rethrows a worker's 'error' event, which kills the process (its uncaughtException hook rethrows too).
  // While initialising, and forever for the workers of a failed init (their errors arrive one by one), report such
  // errors instead so we can fall back; after a good init, behave as before (a crash beats a main thread waiting
  // forever on a dead worker).
  type Listener = (...args: unknown[]) => void;
  const WorkerProto = (nodeRequire('node:worker_threads') as { Worker: { prototype: { on: (ev: string, fn: Listener) => unknown } } }).Worker.prototype;
  const hadOwnOn = Object.prototype.hasOwnProperty.call(WorkerProto, 'on');
  const origOn = WorkerProto.on;
  const workers: { terminate?: () => unknown }[] = [];
  let swallow = true;
  WorkerProto.on = function (this: { terminate?: () => unknown }, ev: string, fn: Listener) {
    if (!workers.includes(this)) workers.push(this);
    if (ev !== 'error') return origOn.call(this, ev, fn);
    return origOn.call(this, ev, (...args: unknown[]) => (swallow ? onInitError(args[0]) : fn(...args)));
  };
  return {
    finish: (ok: boolean) => {
      swallow = !ok;
      os.cpus = realCpus;
      globalThis.Blob = NativeBlob;
      URL.createObjectURL = nativeCreateRef;
      if (hadOwnOn) WorkerProto.on = origOn;
      else delete (WorkerProto as { on?: unknown }).on;
      if (!ok) for (const w of workers) void w.terminate?.();
      rmSync(dir, { recursive: true, force: true }); // every worker has read its script by now
    },
  };
}

async function tryWasm(threads: number, wasmDir: string | undefined, log: (m: string) => void): Promise<Attempt> {
  const notes: string[] = [];
  const alreadyUp = tf.engine().registry.wasm !== undefined;
  if (wasmDir && !existsSync(path.join(wasmDir, 'tfjs-backend-wasm-simd.wasm'))) {
    return { ok: false, reason: `wasm: no tfjs-backend-wasm-simd.wasm in ${wasmDir}` };
  }
  if (!alreadyUp) {
    const dir = wasmDir ? (wasmDir.endsWith(path.sep) ? wasmDir : wasmDir + path.sep) : defaultWasmDir();
    if (!dir) {
      return { ok: false, reason: `wasm: binaries not found (looked in HRM_LENS_WASM_DIR, ${path.join(path.dirname(here), 'wasm')} and node_modules; pass wasmDir)` };
    }
    if (dir !== wasmDirSet) {
      try {
        setWasmPaths(dir);
        wasmDirSet = dir;
      } catch (e) {
        notes.push(`setWasmPaths failed: ${errText(e)}`);
      }
    }
    if (threads > 1) {
      let workerError: string | undefined;
      let failNow: (() => void) | undefined;
      const shim = installWasmThreadShim((e) => {
        workerError = errText(e);
        failNow?.();
      });
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
      setThreadsCount(threads);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ok = await Promise.race([
        trySetBackend('wasm'),
        new Promise<boolean>((resolve) => {
          failNow = () => resolve(false);
          timer = setTimeout(() => resolve(false), 30_000);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      const good = ok && !workerError;
      shim.finish(good); // the pool is sized and the workers exist once init is over
      if (good) unrefWasmWorkers();
      else {
        notes.push(`threaded wasm (${threads} threads) failed to start (${workerError ?? 'no answer within 30 s'}); fell back to 1 thread`);
        log(`backend: threaded wasm failed to start, falling back to a single thread`);
        tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        setThreadsCount(1);
      }
    } else {
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      setThreadsCount(1);
    }
  } else if (threads > 1) {
    notes.push('wasm was already initialised; thread count unchanged');
  }
  if (!(await trySetBackend('wasm'))) return { ok: false, reason: `wasm backend did not initialise${notes.length ? ` (${notes.join('; ')})` : ''}` };
  installWasmSlice();
  installWasmIdentity();
  const gemm = installWasmGemm();
  const fused = installWasmOps();
  let actual = 1;
  try {
    actual = getThreadsCount();
  } catch { /* not reported */ }
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const detail = [`tfjs-backend-wasm ${version_wasm}${simd ? ' SIMD' : ''}, ${actual} thread${actual === 1 ? '' : 's'}`,
    wasmDirSet ? `binaries from ${wasmDirSet}` : 'default binary location', 'copy-free Slice kernel', gemm.detail, fused ? 'fused element-wise kernels' : 'tfjs element-wise kernels', ...notes].join('; ');
  return { ok: true, info: { name: 'wasm', version: version_wasm, threads: actual, gpu: false, detail } };
}

async function tryCpu(): Promise<Attempt> {
  if (!(await trySetBackend('cpu'))) return { ok: false, reason: 'cpu backend did not initialise' };
  return { ok: true, info: { name: 'cpu', version: version_cpu, threads: 1, gpu: false, detail: `tfjs-backend-cpu ${version_cpu} (pure JS; slow: tests and last resort)` } };
}

let current: BackendInfo | undefined;

/** The backend chosen by the last successful selectBackend call. */
export function currentBackend(): BackendInfo | undefined {
  return current;
}

function parseChoice(v: string | undefined, source: string): BackendChoice | undefined {
  if (v === undefined || v === '') return undefined;
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new BackendUnavailableError(`${source}: unknown backend "${v}" (expected one of ${BACKEND_CHOICES.join(', ')})`);
}

/** Selects and initialises the backend; see the file comment for the order and the overrides. */
export async function selectBackend(opts: BackendOptions = {}): Promise<BackendInfo> {
  const log = opts.log ?? (() => undefined);
  backendPathOption = opts.backendPath;
  const fromOption = parseChoice(opts.backend, 'backend option');
  const fromEnv = parseChoice(process.env.HRM_LENS_BACKEND, 'HRM_LENS_BACKEND');
  const want: BackendChoice = fromOption && fromOption !== 'auto' ? fromOption : fromEnv ?? 'auto';
  const envThreads = Number(process.env.HRM_LENS_THREADS);
  const threads = Math.max(1, Math.floor(opts.threads ?? (Number.isFinite(envThreads) && envThreads > 0 ? envThreads : 1)));
  const webgpuEnabled = opts.webgpu === true || process.env.HRM_LENS_WEBGPU === '1';

  if (want !== 'auto') {
    const attempt = want === 'tensorflow' ? await tryTensorflow()
      : want === 'webgpu' ? await tryWebgpu()
        : want === 'wasm' ? await tryWasm(threads, opts.wasmDir, log)
          : await tryCpu();
    if (!attempt.ok) {
      const hint = want === 'tensorflow' ? ' Install @tensorflow/tfjs-node (or -node-gpu with CUDA 11.2 + cuDNN 8.1), or choose backend "wasm".'
        : want === 'webgpu' ? ' Install the optional packages "webgpu" and "@tensorflow/tfjs-backend-webgpu" on a machine with a real GPU, or choose "wasm".' : '';
      throw new BackendUnavailableError(`backend "${want}" was requested but is unavailable: ${attempt.reason}.${hint}`);
    }
    current = attempt.info;
    log(`backend: ${current.name} — ${current.detail}`);
    return current;
  }

  const skipped: string[] = [];
  const chain: [string, () => Promise<Attempt>][] = [
    ['tensorflow', () => tryTensorflow()],
    ['webgpu', () => (webgpuEnabled ? tryWebgpu() : Promise.resolve<Attempt>({ ok: false, reason: 'webgpu not enabled (HRM_LENS_WEBGPU=1)' }))],
    ['wasm', () => tryWasm(threads, opts.wasmDir, log)],
    ['cpu', () => tryCpu()],
  ];
  for (const [label, attempt] of chain) {
    const r = await attempt();
    if (r.ok) {
      current = { ...r.info, detail: skipped.length ? `${r.info.detail}; skipped: ${skipped.join('; ')}` : r.info.detail };
      log(`backend: ${current.name} — ${current.detail}`);
      return current;
    }
    if (!skipped.includes(r.reason)) skipped.push(r.reason);
    log(`backend: ${label} skipped — ${r.reason}`);
  }
  throw new BackendUnavailableError(`no TF.js backend could start: ${skipped.join('; ')}`);
}
