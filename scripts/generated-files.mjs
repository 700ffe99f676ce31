// Writes generated files, or with --check (a unit test runs it) exits 1 when a committed one differs from what its
// generator produces. Shared by scripts/build-gemm.mjs and scripts/build-ops.mjs.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** files: [absolute path, text][]; `what` names them in messages; `command` regenerates them. */
export function writeOrCheck(root, files, what, command) {
  if (process.argv.includes('--check')) {
    const same = (f, t) => { try { return readFileSync(f, 'utf8') === t; } catch { return false; } };
    const stale = files.filter(([f, t]) => !same(f, t)).map(([f]) => path.relative(root, f));
    if (stale.length) {
      console.error(`${stale.join(' and ')} ${stale.length > 1 ? 'are' : 'is'} stale: run ${command}`);
      process.exit(1);
    }
    console.log(`${what} files are current`);
  } else {
    for (const [f, t] of files) writeFileSync(f, t);
    console.log(`wrote ${files.map(([f]) => path.relative(root, f)).join(' and ')}`);
  }
}
