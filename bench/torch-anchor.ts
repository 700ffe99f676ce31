/**
 * The PyTorch anchor of the benchmarks (summary.mjs, paired.ts, model-bench.ts): which BLAS PyTorch runs on, the
 * thread configurations it is measured at, and which of them is "PyTorch at its best" on this machine.
 *
 * BLAS: Debian's python3-torch calls whatever libblas.so.3 the loader finds. Without libopenblas0-pthread that is the
 * reference (netlib) BLAS, on which PyTorch is ~20× slower, and nothing else shows it: a ratio against it would
 * flatter the engine twentyfold. reference/blas_check.py classifies the BLAS mapped into a torch process; the benches
 * run it first and refuse (exit status EXIT_REFERENCE_BLAS, the message names the package) unless
 * --allow-reference-blas, which labels every PyTorch figure.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
/** The override flag of every bench (and of reference/torch_bench.py, reference/blas_check.py). */
export const ALLOW_REFERENCE_BLAS = '--allow-reference-blas';
/** Exit status of reference/blas_check.py and torch_bench.py when they refuse the reference BLAS. */
export const EXIT_REFERENCE_BLAS = 3;
const BLAS_CHECK = path.join(path.dirname(fileURLToPath(import.meta.url)), 'reference', 'blas_check.py');

/** What reference/blas_check.py reports (its JSON; fields beyond these are kept as they come). */
export interface BlasInfo {
  kind: 'openblas' | 'mkl' | 'blis' | 'atlas' | 'flexiblas' | 'reference' | 'unknown';
  threading: string | null;
  library: string | null;
  libraries: string[];
  torch_blas_info: string | null;
  reason: string;
  label: string;
  refused?: boolean;
  allowed_reference?: boolean;
  torch?: string;
  alternative?: string | null;
  openblas?: { config: string; kernel: string; threads: number; parallel: string | null } | null;
  threads?: { torch: number; torch_interop: number; blas: number | null; env: Record<string, string | null> };
  gemm?: { n: number; dtype: string; reps: number; median_seconds: number; gflops: number };
}

export type BlasCheck =
  | { status: 'ok'; info: BlasInfo }
  | { status: 'refused'; info: BlasInfo; message: string }
  /** No /usr/bin/python3, no torch, or the check failed: the PyTorch figures cannot be measured at all. */
  | { status: 'unavailable'; message: string };

/**
 * Runs reference/blas_check.py: the BLAS a fresh torch process runs on, its threads and a GEMM probe (probeSize,
 * 0: none). `args` go to the script as they are (`--maps FILE --torch-config FILE` classifies recorded texts).
 */
export function checkTorchBlas(opts: { allowReference?: boolean; probeSize?: number; args?: string[]; python?: string } = {}): BlasCheck {
  const python = opts.python ?? PYTHON;
  if (!existsSync(python)) return { status: 'unavailable', message: `no ${python} (PyTorch needs Debian's python3-torch)` };
  const r = spawnSync(python, [BLAS_CHECK, '--probe-size', String(opts.probeSize ?? 512), ...(opts.allowReference ? [ALLOW_REFERENCE_BLAS] : []), ...(opts.args ?? [])],
    { encoding: 'utf8', timeout: 300_000 });
  const lastLine = (r.stderr || r.error?.message || `exit status ${r.status}`).trim().split('\n').pop() ?? '';
  if (r.status !== 0 && r.status !== EXIT_REFERENCE_BLAS) return { status: 'unavailable', message: `reference/blas_check.py: ${lastLine}` };
  let info: BlasInfo;
  try {
    info = JSON.parse(r.stdout) as BlasInfo;
  } catch {
    return { status: 'unavailable', message: `reference/blas_check.py printed no JSON: ${lastLine}` };
  }
  if (r.status === EXIT_REFERENCE_BLAS) return { status: 'refused', info, message: lastLine.replace(/^error: /, '') };
  return { status: 'ok', info };
}

/**
 * The one-line account of a BLAS beside a figure: library, threading, threads, the GEMM probe.
 */
export function describeBlas(info: BlasInfo): string {
  const threads = info.threads ? `; threads: torch ${info.threads.torch}, BLAS ${info.threads.blas ?? '?'}` : '';
  const gemm = info.gemm ? `; GEMM probe ${info.gemm.n}×${info.gemm.n} float32: ${info.gemm.gflops.toFixed(1)} GFLOP/s` : '';
  return `${info.label} (${info.library ?? info.reason}${info.threading ? `, ${info.threading}` : ''})${threads}${gemm}`;
}

/** One thread configuration of PyTorch: torch's intra-op threads and the BLAS's own pool. */
export interface ThreadConfig {
  /** `t<torch>-b<blas>`, e.g. `t2-b1`. */
  id: string;
  torch: number;
  blas: number;
}

export const configLabel = (c: ThreadConfig): string => `torch ${c.torch} / BLAS ${c.blas} thread${c.torch * c.blas > 1 ? 's' : ''}`;

/**
 * The configurations PyTorch is measured at on a machine with `cores` cores: 1/1, N/1, 1/N and N/N (torch / BLAS
 * threads; duplicates dropped when N = 1).
 *
 * Why all four, and why the anchor is the fastest of them rather than "N threads": torch's intra-op pool (OpenMP,
 * torch.set_num_threads) and OpenBLAS's pthread pool are two separate pools, and Debian's torch 1.13
 * (BLAS_INFO=generic) does not pass its count on to OpenBLAS. With both at N they oversubscribe the cores: a product
 * issued from inside one of torch's parallel regions (batched attention products, loops over the batch) asks OpenBLAS
 * for N threads from each of torch's N threads, N² runnable threads on N cores; and OpenBLAS's idle workers spin a
 * while before they sleep, taking the cores from torch's own element-wise threads between products. That is how
 * PyTorch's "2-thread" training came out slower than its 1-thread one on a 2-core machine. Which mix wins depends on
 * the machine and on the row (training, batch-256 inference, batch-1 capture), so it is measured, each in a fresh
 * process (threadEnv): OpenBLAS sizes its pool when it is loaded.
 */
export function threadConfigs(cores: number): ThreadConfig[] {
  const n = Math.max(1, Math.floor(cores));
  const out: ThreadConfig[] = [];
  for (const [t, b] of [[1, 1], [n, 1], [1, n], [n, n]]) {
    if (!out.some((c) => c.torch === t && c.blas === b)) out.push({ id: `t${t}-b${b}`, torch: t, blas: b });
  }
  return out;
}

/** The environment of a fresh PyTorch process at `c`: OpenMP (torch's pool, and OpenBLAS's in its OpenMP build) and
 * the BLAS pools read their sizes when the libraries load; torch_bench.py sets both again through their APIs. */
export function threadEnv(c: ThreadConfig): Record<string, string> {
  return {
    OMP_NUM_THREADS: String(c.torch),
    OPENBLAS_NUM_THREADS: String(c.blas),
    GOTO_NUM_THREADS: String(c.blas),
    MKL_NUM_THREADS: String(c.blas),
    BLIS_NUM_THREADS: String(c.blas),
  };
}

/** torch_bench.py's flags for `c` (and the override when given). */
export const threadArgs = (c: ThreadConfig, allowReference = false): string[] =>
  ['--threads', String(c.torch), '--blas-threads', String(c.blas), ...(allowReference ? [ALLOW_REFERENCE_BLAS] : [])];

export interface Stat { median: number; min: number; max: number; n: number }

/**
 * The best of several measured configurations: the highest median (a rate) or the lowest (a time), among those that
 * have a finite median; on a tie the earlier one (fewer threads: threadConfigs' order). undefined when none has one.
 */
export function pickBest<T extends { stat?: Stat | null }>(candidates: readonly T[], higherIsBetter: boolean): T | undefined {
  let best: T | undefined;
  for (const c of candidates) {
    const m = c.stat?.median;
    if (m === undefined || !Number.isFinite(m)) continue;
    const bm = best?.stat?.median;
    if (best === undefined || bm === undefined || (higherIsBetter ? m > bm : m < bm)) best = c;
  }
  return best;
}

/** The rows of the anchor and whether a higher figure is better (rates) or a lower one (seconds). */
export const ANCHOR_ROWS: Readonly<Record<string, boolean>> = { train: true, infer: true, capture27m: false };

/** One measured PyTorch configuration as the benches record it: its figures per row (or an error). */
export interface TorchConfigResult {
  config: ThreadConfig;
  error?: string;
  [row: string]: unknown;
}

/** Per row of ANCHOR_ROWS (or `rows`), the configuration whose figure is best: its id, label and figure. */
export function chooseAnchor(results: readonly TorchConfigResult[], rows: Readonly<Record<string, boolean>> = ANCHOR_ROWS): Record<string, { config: string; label: string; stat: Stat } | null> {
  const out: Record<string, { config: string; label: string; stat: Stat } | null> = {};
  for (const [row, higherIsBetter] of Object.entries(rows)) {
    const cands = results.filter((r) => !r.error).map((r) => ({ config: r.config, stat: r[row] as Stat | null | undefined }));
    const best = pickBest(cands, higherIsBetter);
    out[row] = best && best.stat ? { config: best.config.id, label: configLabel(best.config), stat: best.stat } : null;
  }
  return out;
}
