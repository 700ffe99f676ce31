/**
 * Paths a webview hands to the extension host (a restored panel's checkpoint or run folder, a dashboard message) are
 * used only when their real path lies inside an allowed folder: outside paths, `..` tricks, links that lead out,
 * relative paths, non-strings and files of the wrong kind are refused with a reason. Real files in a temp folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkPathWithin, isWithin } from '../../extension/panels/path-containment';

function layout(): { base: string; ws: string; outside: string } {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'hrm-webview-paths-')));
  const ws = path.join(base, 'workspace');
  const outside = path.join(base, 'elsewhere');
  mkdirSync(path.join(ws, '.hrm', 'runs', 'run-a'), { recursive: true });
  mkdirSync(outside, { recursive: true });
  writeFileSync(path.join(ws, '.hrm', 'runs', 'run-a', 'step-000010.safetensors'), 'w');
  writeFileSync(path.join(ws, '.hrm', 'runs', 'run-a', 'step-000010.optim.safetensors'), 'o');
  writeFileSync(path.join(outside, 'evil.safetensors'), 'w');
  return { base, ws, outside };
}

test('isWithin: the folder itself and what is below it; not a sibling sharing a prefix', () => {
  assert.equal(isWithin('/a/b', '/a/b'), true);
  assert.equal(isWithin('/a/b/c/d', '/a/b'), true);
  assert.equal(isWithin('/a/bc', '/a/b'), false);
  assert.equal(isWithin('/a', '/a/b'), false);
  assert.equal(isWithin('/a/b/..c', '/a/b'), true, 'a name starting with two dots is inside');
});

test('a checkpoint inside the workspace is accepted (its real path); one outside is refused', async () => {
  const { base, ws, outside } = layout();
  try {
    const inside = path.join(ws, '.hrm', 'runs', 'run-a', 'step-000010.safetensors');
    assert.deepEqual(await checkPathWithin(inside, 'checkpoint', [ws]), { ok: true, path: inside });
    const out = await checkPathWithin(path.join(outside, 'evil.safetensors'), 'checkpoint', [ws], 'the workspace');
    assert.equal(out.ok, false);
    assert.match(!out.ok ? out.reason : '', /evil\.safetensors is outside the workspace/);
    // `..` out of the workspace.
    const dotdot = await checkPathWithin(path.join(ws, '..', 'elsewhere', 'evil.safetensors'), 'checkpoint', [ws]);
    assert.equal(dotdot.ok, false);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a link inside the workspace that leads outside is refused (real paths compared)', async () => {
  const { base, ws, outside } = layout();
  try {
    const link = path.join(ws, 'linked.safetensors');
    symlinkSync(path.join(outside, 'evil.safetensors'), link);
    const r = await checkPathWithin(link, 'checkpoint', [ws]);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.reason : '', /leads to .*evil\.safetensors/);
    // A linked folder: a run "inside" that is elsewhere.
    symlinkSync(outside, path.join(ws, 'linked-run'));
    assert.equal((await checkPathWithin(path.join(ws, 'linked-run'), 'run', [ws])).ok, false);
    // A root reached through a link still contains its own files.
    symlinkSync(ws, path.join(base, 'ws-link'));
    const viaRootLink = await checkPathWithin(path.join(base, 'ws-link', '.hrm', 'runs', 'run-a'), 'run', [path.join(base, 'ws-link')]);
    assert.deepEqual(viaRootLink, { ok: true, path: path.join(ws, '.hrm', 'runs', 'run-a') });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('not a path, relative, missing, or of the wrong kind: refused with a reason', async () => {
  const { base, ws } = layout();
  try {
    const run = path.join(ws, '.hrm', 'runs', 'run-a');
    const cases: [unknown, 'checkpoint' | 'run', RegExp][] = [
      [undefined, 'checkpoint', /no checkpoint path/],
      [42, 'run', /no run path/],
      [{ path: run }, 'run', /no run path/],
      ['x'.repeat(5000), 'run', /not a run path/],
      [`${run}\0/step-000010.safetensors`, 'checkpoint', /not a checkpoint path/],
      ['.hrm/runs/run-a/step-000010.safetensors', 'checkpoint', /not an absolute path/],
      [path.join(run, 'step-000010.optim.safetensors'), 'checkpoint', /not a checkpoint/],
      [path.join(run, 'run.json'), 'checkpoint', /not a checkpoint/],
      [path.join(run, 'step-000099.safetensors'), 'checkpoint', /does not exist/],
      [run, 'checkpoint', /not a checkpoint/],
      [path.join(run, 'step-000010.safetensors'), 'run', /not a folder/],
    ];
    for (const [value, kind, reason] of cases) {
      const r = await checkPathWithin(value, kind, [ws]);
      assert.equal(r.ok, false, String(value).slice(0, 80));
      assert.match(!r.ok ? r.reason : '', reason, String(value).slice(0, 80));
    }
    mkdirSync(path.join(run, 'dir.safetensors'));
    assert.match((r => (!r.ok ? r.reason : ''))(await checkPathWithin(path.join(run, 'dir.safetensors'), 'checkpoint', [ws])), /not a regular file/);
    assert.deepEqual(await checkPathWithin(run, 'run', [ws]), { ok: true, path: run });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('no roots (no workspace, no runs folder): nothing is accepted', async () => {
  const { base, ws } = layout();
  try {
    assert.equal((await checkPathWithin(path.join(ws, '.hrm', 'runs', 'run-a'), 'run', [])).ok, false);
    assert.equal((await checkPathWithin(path.join(ws, '.hrm', 'runs', 'run-a'), 'run', [path.join(base, 'missing')])).ok, false);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
