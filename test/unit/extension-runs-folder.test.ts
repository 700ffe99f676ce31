/**
 * Which hrmLens.runsFolder applies: a workspace or folder value must lead inside the workspace folder (symbolic
 * links resolved, the folder need not exist yet), else it is ignored and the user's value or the default applies; the
 * user's value may point anywhere; an untrusted workspace's values never apply. Real folders in a temp folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_RUNS_FOLDER, chooseRunsFolder, realPathOfNew, resolveSettingPathIn } from '../../extension/runs-folder-choice';

function layout(): { base: string; ws: string; home: string } {
  const base = realpathSync(mkdtempSync(path.join(tmpdir(), 'hrm-runs-folder-')));
  const ws = path.join(base, 'workspace');
  const home = path.join(base, 'home');
  mkdirSync(ws, { recursive: true });
  mkdirSync(home, { recursive: true });
  return { base, ws, home };
}

test('workspace values that lead outside the workspace folder are ignored: /tmp/x, ~/x, ../x', () => {
  const { base, ws, home } = layout();
  try {
    for (const value of ['/tmp/x', path.join(base, 'elsewhere'), '~/x', '../x', 'runs/../../x', ws.replace(/workspace$/, 'workspace2')]) {
      for (const key of ['workspaceValue', 'workspaceFolderValue'] as const) {
        const c = chooseRunsFolder({ [key]: value }, { workspaceDir: ws, home, trusted: true });
        assert.equal(c.value, DEFAULT_RUNS_FOLDER, `${key} ${value}`);
        assert.equal(c.source, 'default');
        assert.equal(c.ignored?.value, value);
        assert.equal(c.ignored?.source, key === 'workspaceValue' ? 'workspace' : 'folder');
      }
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('an ignored workspace value falls back to the user value, which may point anywhere', () => {
  const { base, ws, home } = layout();
  try {
    const c = chooseRunsFolder({ globalValue: '~/hrm-runs', workspaceValue: '/tmp/x' }, { workspaceDir: ws, home, trusted: true });
    assert.deepEqual(c, { value: '~/hrm-runs', source: 'user', ignored: { value: '/tmp/x', source: 'workspace', resolved: '/tmp/x' } });
    assert.deepEqual(chooseRunsFolder({ globalValue: '/tmp/x' }, { workspaceDir: ws, home, trusted: true }), { value: '/tmp/x', source: 'user' });
    assert.deepEqual(chooseRunsFolder({}, { workspaceDir: ws, home, trusted: true }), { value: DEFAULT_RUNS_FOLDER, source: 'default' });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('workspace values inside the workspace folder apply (relative, absolute, not yet created); the folder value first', () => {
  const { base, ws, home } = layout();
  try {
    assert.deepEqual(chooseRunsFolder({ workspaceValue: 'elsewhere-runs' }, { workspaceDir: ws, home, trusted: true }), { value: 'elsewhere-runs', source: 'workspace' });
    assert.deepEqual(chooseRunsFolder({ workspaceValue: path.join(ws, 'a', 'b') }, { workspaceDir: ws, home, trusted: true }), { value: path.join(ws, 'a', 'b'), source: 'workspace' });
    assert.deepEqual(chooseRunsFolder({ workspaceValue: 'w', workspaceFolderValue: 'f', globalValue: '/g' }, { workspaceDir: ws, home, trusted: true }), { value: 'f', source: 'folder' });
    assert.deepEqual(chooseRunsFolder({ workspaceValue: '  ', globalValue: 7 }, { workspaceDir: ws, home, trusted: true }), { value: DEFAULT_RUNS_FOLDER, source: 'default' });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('a workspace value through a symbolic link that leads out of the workspace is ignored', () => {
  const { base, ws, home } = layout();
  try {
    mkdirSync(path.join(base, 'outside'));
    symlinkSync(path.join(base, 'outside'), path.join(ws, 'runs-link'));
    const c = chooseRunsFolder({ workspaceValue: 'runs-link/new/deeper' }, { workspaceDir: ws, home, trusted: true });
    assert.equal(c.value, DEFAULT_RUNS_FOLDER);
    assert.equal(c.ignored?.value, 'runs-link/new/deeper');
    assert.equal(realPathOfNew(path.join(ws, 'runs-link', 'new', 'deeper')), path.join(base, 'outside', 'new', 'deeper'));
    // A workspace folder opened through a link: its own subfolders are still inside.
    symlinkSync(ws, path.join(base, 'ws-link'));
    assert.equal(chooseRunsFolder({ workspaceValue: 'runs' }, { workspaceDir: path.join(base, 'ws-link'), home, trusted: true }).source, 'workspace');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('untrusted workspace: its values do not apply, and are not reported', () => {
  const { base, ws, home } = layout();
  try {
    assert.deepEqual(chooseRunsFolder({ workspaceValue: 'inside', globalValue: '~/r' }, { workspaceDir: ws, home, trusted: false }), { value: '~/r', source: 'user' });
    assert.deepEqual(chooseRunsFolder({ workspaceFolderValue: '/tmp/x' }, { workspaceDir: ws, home, trusted: false }), { value: DEFAULT_RUNS_FOLDER, source: 'default' });
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('resolveSettingPathIn: relative to the workspace folder, ~/ under home, absolute normalized', () => {
  assert.equal(resolveSettingPathIn('.hrm/runs', '/w', '/h'), path.join('/w', '.hrm', 'runs'));
  assert.equal(resolveSettingPathIn('~/r', '/w', '/h'), path.join('/h', 'r'));
  assert.equal(resolveSettingPathIn('~/r', '/w', ''), undefined);
  assert.equal(resolveSettingPathIn('/a/../b', '/w', '/h'), path.normalize('/b'));
  assert.equal(resolveSettingPathIn('rel', undefined, '/h'), undefined);
  assert.equal(resolveSettingPathIn('  ', '/w', '/h'), undefined);
});
