/**
 * A test run writes no tracked file: the browser walks and the in-host runner save their screenshots under out/shots/
 * (ignored output, scripts/shots.mjs), and the README's pictures are tracked copies under media/screenshots/ that only
 * `npm run screenshots` (scripts/refresh-screenshots.mjs) refreshes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');

interface Picture { name: string; source: string; walk: string }
interface ShotsModule { SHOTS_DIR: string; SHOTS_REL: string; PICTURES_DIR: string; PICTURES: Picture[] }

const shotsModule = (): Promise<ShotsModule> => import(path.join(root, 'scripts', 'shots.mjs')) as Promise<ShotsModule>;

/** The .gitignore patterns that ignore a whole top-level folder ("out/", "/out/", "out"). */
function ignoredTopFolders(): Set<string> {
  const lines = readFileSync(path.join(root, '.gitignore'), 'utf8').split(/\r?\n/).map((l) => l.trim());
  return new Set(lines.filter((l) => /^\/?[\w.-]+\/?$/.test(l)).map((l) => l.replace(/^\/|\/$/g, '')));
}

/** Files of `dir` (recursively) whose names end with one of `exts`. */
function filesUnder(dir: string, exts: readonly string[]): string[] {
  if (!existsSync(path.join(root, dir))) return [];
  return readdirSync(path.join(root, dir), { recursive: true }).map(String)
    .filter((f) => exts.some((e) => f.endsWith(e)) && !f.split(path.sep).includes('node_modules'))
    .map((f) => path.join(dir, f));
}

test('screenshots go to out/shots/, a folder .gitignore ignores', async () => {
  const { SHOTS_DIR, SHOTS_REL } = await shotsModule();
  assert.equal(path.relative(root, SHOTS_DIR).split(path.sep).join('/'), SHOTS_REL);
  const top = SHOTS_REL.split('/')[0];
  assert.ok(ignoredTopFolders().has(top), `${top}/ is not ignored by .gitignore`);
});

test('every page.screenshot() of the walks and runners writes into the shots folder or a temp folder', () => {
  const sources = [...filesUnder('test', ['.mjs', '.ts']), ...filesUnder('scripts', ['.mjs'])];
  const calls: string[] = [];
  const bad: string[] = [];
  for (const rel of sources) {
    const text = readFileSync(path.join(root, rel), 'utf8');
    for (const m of text.matchAll(/\.screenshot\(\{\s*path:\s*([^})]*)/g)) {
      calls.push(`${rel}: ${m[1].trim()}`);
      // The folder is the first argument of path.join: the shots folder, or the run's temp folder (failure pictures).
      const dir = /^path\.join\(\s*(\w+)/.exec(m[1].trim())?.[1];
      if (!dir || !['SHOTS_DIR', 'shots', 'work'].includes(dir)) bad.push(`${rel}: ${m[1].trim()}`);
    }
  }
  assert.ok(calls.length >= 10, `found only ${calls.length} screenshot calls:\n${calls.join('\n')}`);
  assert.deepEqual(bad, [], 'screenshots written elsewhere (a tracked folder?)');
  for (const rel of ['test/e2e/inspector.e2e.mjs', 'test/vscode/run-in-code-server.mjs', 'scripts/start.mjs']) {
    assert.match(readFileSync(path.join(root, rel), 'utf8'), /from '[./]+\/(?:scripts\/)?shots\.mjs'/, `${rel} takes the folder from scripts/shots.mjs`);
  }
});

test('the README and docs show only tracked pictures under media/, all present; every refreshed picture is shown', async () => {
  const { PICTURES, PICTURES_DIR } = await shotsModule();
  const docs = ['README.md', ...filesUnder('docs', ['.md'])];
  const shown = new Set<string>();
  for (const rel of docs) {
    const text = readFileSync(path.join(root, rel), 'utf8');
    for (const m of text.matchAll(/!\[[^\]]*\]\(([^)\s]+)[^)]*\)|<img [^>]*src="([^"]+)"/g)) {
      const target = m[1] ?? m[2];
      if (/^[a-z]+:/i.test(target)) continue; // an absolute URL
      const file = path.normalize(path.join(path.dirname(path.join(root, rel)), target));
      const fromRoot = path.relative(root, file).split(path.sep).join('/');
      assert.ok(fromRoot.startsWith('media/'), `${rel} shows ${target}: pictures live under media/, not in test output`);
      assert.ok(existsSync(file), `${rel} shows ${target}, which does not exist`);
      shown.add(fromRoot);
    }
  }
  assert.ok(shown.size >= 1, 'the README shows no picture');
  assert.equal(path.relative(root, PICTURES_DIR).split(path.sep).join('/'), 'media/screenshots');
  for (const p of PICTURES) {
    assert.ok(existsSync(path.join(PICTURES_DIR, p.name)), `media/screenshots/${p.name} is missing`);
    assert.ok(shown.has(`media/screenshots/${p.name}`), `media/screenshots/${p.name} is refreshed but shown nowhere`);
    assert.ok(existsSync(path.join(root, p.walk)), `${p.walk} (takes ${p.source}) does not exist`);
  }
  const refreshed = new Set(PICTURES.map((p) => `media/screenshots/${p.name}`));
  const stale = [...shown].filter((f) => f.startsWith('media/screenshots/') && !refreshed.has(f));
  assert.deepEqual(stale, [], 'shown but not refreshed by npm run screenshots (add them to PICTURES in scripts/shots.mjs)');
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.screenshots ?? '', /scripts\/refresh-screenshots\.mjs/);
});
