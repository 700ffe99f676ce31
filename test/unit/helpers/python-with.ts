/**
 * A Python interpreter that can import the given modules, for tests that read the product's files with independent
 * Python code: env HRM_LENS_PYTHON when set, else the first of python3, /usr/bin/python3 and python that imports them.
 * Without one the test fails with a message that names what to install (no test is skipped).
 */
import { spawnSync } from 'node:child_process';
import { PYTHON_CANDIDATES } from '../../../engine/torch/python-discovery';

const found = new Map<string, string>();

export function pythonWith(modules: readonly string[], install: string): string {
  const key = modules.join(',');
  const hit = found.get(key);
  if (hit) return hit;
  const env = process.env.HRM_LENS_PYTHON;
  const candidates = env ? [env] : [...PYTHON_CANDIDATES];
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', `import ${key}`], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) {
      found.set(key, c);
      return c;
    }
  }
  throw new Error(`this test needs a Python that can import ${modules.join(' and ')}: none of ${candidates.join(', ')} can `
    + `(install ${install}, or set HRM_LENS_PYTHON to an interpreter that has them)`);
}
