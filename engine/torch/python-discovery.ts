/**
 * Which Python interpreter runs the PyTorch worker: one definition for the CLI (`--python`), the engine process (the
 * extension's hrmLens.pythonPath, sent with each analysis request) and the tests.
 *
 *   1. an explicit interpreter (the CLI's --python, the setting), used as given: the worker's hello says what it lacks;
 *   2. else env HRM_LENS_PYTHON, used as given;
 *   3. else the first of python3, /usr/bin/python3 and python that has torch and numpy (a pyenv or venv `python3` on
 *      PATH often has no torch where the system's has it).
 * Each candidate is probed once per process (a definite answer, good or bad, is cached; a probe that timed out is
 * tried again next time). The probe runs in the package's folder (engine/torch/worker-client.ts defaultPackageDir;
 * without one, the installation's), never the working directory, since `python -c` imports from its working
 * directory first. When no candidate can import torch, the TorchUnavailableError lists each one and
 * what it lacked.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { TorchUnavailableError, defaultPackageDir } from './worker-client';

// This module's file (the bundle when bundled).
const here = typeof __filename === 'string' ? __filename : path.resolve(process.argv[1] ?? process.execPath);

/** Where probes run: the package's folder, else (a bundle without it) the installation's own folder; never the working directory. */
function probeDir(): string {
  const pkg = defaultPackageDir();
  return existsSync(pkg) ? pkg : path.dirname(here);
}

/** The environment variable naming the interpreter. */
export const PYTHON_ENV = 'HRM_LENS_PYTHON';
/** Tried in this order when no interpreter is named. */
export const PYTHON_CANDIDATES: readonly string[] = ['python3', '/usr/bin/python3', 'python'];
/** Python's own start can take long on a busy machine. */
export const PROBE_TIMEOUT_MS = 60_000;
/**
 * Looks torch and numpy up without importing them (a first `import torch` can take a minute on a busy machine, and
 * the worker imports it anyway): a module the import system cannot find is reported as Python reports it; found,
 * torch's installed version is printed. A broken installation is reported by the worker's hello.
 */
const PROBE_SCRIPT = [
  'import importlib.util, sys',
  'missing = [m for m in ("torch", "numpy") if importlib.util.find_spec(m) is None]',
  'if missing:',
  '    sys.stderr.write("ModuleNotFoundError: No module named %r\\n" % missing[0])',
  '    sys.exit(1)',
  'try:',
  '    from importlib.metadata import version',
  '    print(version("torch"))',
  'except Exception:',
  '    print("unknown")',
].join('\n');
const PROBE_ARGS = ['-c', PROBE_SCRIPT];
const HINT = 'install PyTorch (and numpy) for one of them, or name an interpreter that has it (--python PATH, env HRM_LENS_PYTHON, or the setting hrmLens.pythonPath)';

/** What probing one interpreter found. */
export interface PythonProbe {
  python: string;
  ok: boolean;
  /** torch.__version__ when ok. */
  torch?: string;
  /** What it lacks, when not ok ("not found", "cannot import torch (…)", …). */
  reason?: string;
  /** The probe gave no answer in time (not cached). */
  timedOut?: boolean;
}

interface RawOutcome { status: number | null; stdout: string; stderr: string; code?: string; timedOut: boolean }

function outcome(python: string, r: RawOutcome): PythonProbe {
  if (r.code === 'ENOENT') return { python, ok: false, reason: 'not found' };
  if (r.code === 'EACCES') return { python, ok: false, reason: 'cannot be run (permission denied)' };
  if (r.timedOut) return { python, ok: false, reason: `did not answer within ${PROBE_TIMEOUT_MS / 1000} s`, timedOut: true };
  if (r.status === 0) return { python, ok: true, torch: r.stdout.trim().split('\n').at(-1) ?? '' };
  const last = r.stderr.trim().split('\n').filter((l) => l.trim()).at(-1)?.trim().slice(0, 300) ?? `exit code ${String(r.status)}`;
  const what = /No module named '?torch/.test(last) ? 'cannot import torch' : /No module named '?numpy/.test(last) ? 'cannot import numpy' : '`import torch, numpy` failed';
  return { python, ok: false, reason: `${what} (${last})` };
}

const probes = new Map<string, Promise<PythonProbe>>();
const syncProbes = new Map<string, PythonProbe>();

/** Probes one interpreter (once per process): does it have torch and numpy? */
export function probePython(python: string): Promise<PythonProbe> {
  const known = syncProbes.get(python);
  if (known) return Promise.resolve(known);
  let p = probes.get(python);
  if (!p) {
    p = new Promise<PythonProbe>((resolve) => {
      execFile(python, PROBE_ARGS, { cwd: probeDir(), timeout: PROBE_TIMEOUT_MS, windowsHide: true, encoding: 'utf8' }, (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: string | number }) | null;
        resolve(outcome(python, {
          status: e ? (typeof e.code === 'number' ? e.code : null) : 0, stdout, stderr,
          code: typeof e?.code === 'string' ? e.code : undefined, timedOut: e?.killed === true,
        }));
      });
    }).then((r) => {
      if (r.timedOut) probes.delete(python);
      else syncProbes.set(python, r); // the synchronous search reuses the answer
      return r;
    });
    probes.set(python, p);
  }
  return p;
}

/** probePython without an event loop turn (for synchronous callers such as test set-up). */
export function probePythonSync(python: string): PythonProbe {
  let r = syncProbes.get(python);
  if (!r) {
    const s = spawnSync(python, PROBE_ARGS, { cwd: probeDir(), timeout: PROBE_TIMEOUT_MS, windowsHide: true, encoding: 'utf8' });
    const code = (s.error as NodeJS.ErrnoException | undefined)?.code;
    r = outcome(python, { status: s.status, stdout: s.stdout ?? '', stderr: s.stderr ?? '', code: code === 'ETIMEDOUT' ? undefined : code, timedOut: code === 'ETIMEDOUT' || s.signal === 'SIGTERM' });
    if (!r.timedOut) syncProbes.set(python, r);
  }
  return r;
}

/** The interpreter named explicitly (the argument, else env HRM_LENS_PYTHON), or undefined when the search applies. */
export function namedPython(explicit?: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit !== undefined && explicit !== '') return explicit;
  const e = env[PYTHON_ENV];
  return e !== undefined && e !== '' ? e : undefined;
}

function notFound(found: readonly PythonProbe[]): TorchUnavailableError {
  return new TorchUnavailableError(`no Python interpreter with PyTorch was found: ${found.map((p) => `${p.python}: ${p.reason ?? '?'}`).join('; ')}. To use the PyTorch backend, ${HINT}`);
}

export interface FindPythonOptions {
  /** Default process.env (for HRM_LENS_PYTHON). */
  env?: NodeJS.ProcessEnv;
  /** Default PYTHON_CANDIDATES. */
  candidates?: readonly string[];
}

/** The interpreter to run the worker with (see the file comment); a TorchUnavailableError when none can import torch. */
export async function findTorchPython(explicit?: string, opts: FindPythonOptions = {}): Promise<string> {
  const named = namedPython(explicit, opts.env);
  if (named) return named;
  const found: PythonProbe[] = [];
  for (const c of opts.candidates ?? PYTHON_CANDIDATES) {
    const p = await probePython(c);
    if (p.ok) return c;
    found.push(p);
  }
  throw notFound(found);
}

/** findTorchPython, synchronously. */
export function findTorchPythonSync(explicit?: string, opts: FindPythonOptions = {}): string {
  const named = namedPython(explicit, opts.env);
  if (named) return named;
  const found: PythonProbe[] = [];
  for (const c of opts.candidates ?? PYTHON_CANDIDATES) {
    const p = probePythonSync(c);
    if (p.ok) return c;
    found.push(p);
  }
  throw notFound(found);
}
