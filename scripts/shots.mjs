// Where the browser walks (test/e2e/*.e2e.mjs, scripts/start.mjs --check) and the in-host runner
// (test/vscode/run-in-code-server.mjs) save their screenshots: out/shots/, ignored output (`out/` is in .gitignore),
// so a test run changes no tracked file. The README's pictures are tracked copies under media/screenshots/, refreshed
// on purpose by `npm run screenshots` (scripts/refresh-screenshots.mjs).
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Absolute path of the screenshot folder. */
export const SHOTS_DIR = path.join(repoRoot, 'out', 'shots');

/** The screenshot folder relative to the repository, with forward slashes (for messages). */
export const SHOTS_REL = 'out/shots';

/** Where the tracked README pictures live. */
export const PICTURES_DIR = path.join(repoRoot, 'media', 'screenshots');

/**
 * The README's pictures: media/screenshots/<name> ← out/shots/<source>, and the walk that takes the source. Add a
 * row here to show another picture, then `npm run screenshots`.
 */
export const PICTURES = [
  { name: 'start-demo.png', source: 'start-demo.png', walk: 'test/e2e/start.e2e.mjs' },
  { name: 'inspector-dark.png', source: 'e2e-inspector-dark-2.png', walk: 'test/e2e/inspector.e2e.mjs' },
  { name: 'landscape-paper.png', source: 'e2e-landscape-paper.png', walk: 'test/e2e/inspector.e2e.mjs' },
  { name: 'train-dashboard.png', source: 'e2e-dashboard.png', walk: 'test/e2e/inspector.e2e.mjs' },
  { name: 'hover-runs.png', source: 'e2e-hover.png', walk: 'test/e2e/inspector.e2e.mjs' },
  { name: 'ensemble-report.png', source: 'e2e-ensemble.png', walk: 'test/e2e/inspector.e2e.mjs' },
];
