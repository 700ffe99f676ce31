/**
 * The PyTorch backend inside a real VS Code: with hrmLens.backend = torch and hrmLens.pythonPath set in the user
 * settings (the disposable profile the runner creates), "HRM: Inspect Puzzle" on the shipped 4×4 model gives the
 * grids, class and digit relabelings TF.js gives, and the probe, the ensemble report, the inspector's landscape and
 * kick, and the kicks and patching over a dataset run there too, all computed by the worker that setting names (a user pythonPath that is not there makes them fail);
 * hrmLens.pythonPath in the workspace's .vscode/settings.json is ignored. "HRM: Train" offers PyTorch when the
 * engine finds a Python with torch (the user's pythonPath): chosen in the prompts, a tiny-4x4 run trains with it under
 * torchrun, Stop Training ends it after a checkpoint, and it appears in the Runs tree and the dashboard with its
 * metrics; "HRM: Resume Training" on that run's Runs tree node offers PyTorch first (the run was trained with it) and
 * continues the run under torchrun past its checkpoint; with a pythonPath whose Python has no torch, the backend step
 * is the TF.js one alone.
 */
import * as assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import { findTorchPythonSync } from '../../engine/torch/python-discovery';
import type { RunsNode } from '../../extension/views/runs-tree';
import { sleep, useExtension } from './host';

interface SummaryLike { checkpoint: string; segments: { grid: string }[]; mode: { mode: string }; perturbations: { name: string; answer: string }[] }
interface ProbeLike { rows: unknown[] }
interface EnsembleLike { summary: unknown }
interface RowsLike { rows: unknown[] }

const PUZZLE = '..4.3.....1..2..';
const TFJS_STEP = ['auto', 'wasm', 'cpu', 'tensorflow', 'webgpu'];

interface TrainResultLike { run: string; checkpoint: string; step: number; cancelled: boolean; backend: string }

suite('HRM PyTorch backend', () => {
  const api = useExtension();
  let shipped: string;
  let python: string;
  let wsSettings = '';
  let wsSettingsBefore: string | undefined;
  const user = () => vscode.workspace.getConfiguration('hrmLens');
  const inspect = () => vscode.commands.executeCommand<SummaryLike | undefined>('hrmLens.inspectPuzzle', { puzzle: PUZZLE, checkpoint: shipped, view: 'document' });
  const figures = (s: SummaryLike) => ({ grids: s.segments.map((x) => x.grid), mode: s.mode.mode, strip: s.perturbations.map((p) => [p.name, p.answer]) });

  suiteSetup(() => {
    const ext = vscode.extensions.getExtension('hrm-lens.hrm-lens');
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(ext && folder);
    assert.equal(vscode.workspace.isTrusted, true);
    shipped = path.join(ext.extensionPath, 'models', 'tiny-4x4.safetensors');
    python = findTorchPythonSync();
    wsSettings = path.join(folder.uri.fsPath, '.vscode', 'settings.json');
    wsSettingsBefore = existsSync(wsSettings) ? readFileSync(wsSettings, 'utf8') : undefined;
  });

  suiteTeardown(async () => {
    await user().update('backend', undefined, vscode.ConfigurationTarget.Global);
    await user().update('pythonPath', undefined, vscode.ConfigurationTarget.Global);
    if (wsSettings && wsSettingsBefore === undefined) rmSync(wsSettings, { force: true });
    else if (wsSettings && wsSettingsBefore !== undefined) writeFileSync(wsSettings, wsSettingsBefore);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('hrmLens.pythonPath is machine-scoped; torch is offered by hrmLens.backend, described', () => {
    const ext = vscode.extensions.getExtension('hrm-lens.hrm-lens');
    const props = (ext?.packageJSON as { contributes: { configuration: { properties: Record<string, { scope?: string; enum?: string[]; enumDescriptions?: string[] }> } } })
      .contributes.configuration.properties;
    assert.equal(props['hrmLens.pythonPath'].scope, 'machine');
    const backend = props['hrmLens.backend'];
    assert.equal(backend.enum?.at(-1), 'torch');
    assert.match(backend.enumDescriptions?.at(-1) ?? '', /PyTorch/);
  });

  test('with backend torch and the user\'s pythonPath, Inspect Puzzle gives the grids TF.js gives', async function () {
    this.timeout(600_000);
    const tfjs = await inspect();
    assert.ok(tfjs, 'inspected on TF.js');
    await user().update('backend', 'torch', vscode.ConfigurationTarget.Global);
    await user().update('pythonPath', python, vscode.ConfigurationTarget.Global);
    const s = api().settings();
    assert.equal(s.torch, true);
    assert.equal(s.pythonPath, python);
    assert.equal(s.backend, 'auto', 'the TF.js backend (training, evaluation) stays auto');
    const torch = await inspect();
    assert.ok(torch, 'inspected on the PyTorch worker');
    assert.equal(path.resolve(torch.checkpoint), path.resolve(shipped));
    assert.deepEqual(figures(torch), figures(tfjs));
    assert.equal(torch.perturbations.length, 4);
  });

  test('the probe, the ensemble report, the inspector\'s landscape, the kicks and the patching run on the worker too, with TF.js\'s figures', async function () {
    this.timeout(600_000);
    const probeArgs = { checkpoints: [shipped], masks: ['cell', 'row'], count: 6, segments: 3 };
    const ensembleArgs = { sources: [shipped], generate: 6, segments: 3, view: 'document' };
    const kickArgs = { checkpoints: [shipped], puzzles: { generate: 5, seed: 3 }, epsilons: [0.1, 1], directions: 4, pcs: 0 };
    const patchArgs = { checkpoint: shipped, source: { kind: 'relabel', perm: [2, 3, 4, 1] }, puzzles: { generate: 5, seed: 3 }, atSegments: [1, 4] };
    const onWorker = {
      probe: await vscode.commands.executeCommand<ProbeLike | undefined>('hrmLens.runProbe', probeArgs),
      ensemble: await vscode.commands.executeCommand<EnsembleLike | undefined>('hrmLens.ensembleReport', ensembleArgs),
      kick: await vscode.commands.executeCommand<RowsLike | undefined>('hrmLens.kickBasins', kickArgs),
      patch: await vscode.commands.executeCommand<RowsLike | undefined>('hrmLens.patchDataset', patchArgs),
    };
    await vscode.commands.executeCommand('hrmLens.inspectPuzzle', { puzzle: PUZZLE, checkpoint: shipped });
    assert.equal(await api().panels.computeLandscapeInLastPanel(9), true, 'the landscape was computed on the worker');
    const kickInPanel = { kind: 'kick' as const, epsilons: [0.05, 0.5] };
    const panelKick = { worker: await api().panels.interventions.runInOpenPanel(kickInPanel), tfjs: undefined as unknown };
    await user().update('backend', undefined, vscode.ConfigurationTarget.Global);
    try {
      panelKick.tfjs = await api().panels.interventions.runInOpenPanel(kickInPanel);
      const curve = (m: unknown) => {
        const v = m as { kind: string; view?: { kind: string; result: { curve: unknown; basinRadius: unknown } } };
        assert.equal(v.kind, 'intervene-result', JSON.stringify(m).slice(0, 300));
        return [v.view?.result.curve, v.view?.result.basinRadius];
      };
      assert.deepEqual(curve(panelKick.worker), curve(panelKick.tfjs), 'the inspector\'s kick on the worker and on TF.js');
      const probe = await vscode.commands.executeCommand<ProbeLike | undefined>('hrmLens.runProbe', probeArgs);
      const ensemble = await vscode.commands.executeCommand<EnsembleLike | undefined>('hrmLens.ensembleReport', ensembleArgs);
      const kick = await vscode.commands.executeCommand<RowsLike | undefined>('hrmLens.kickBasins', kickArgs);
      const patch = await vscode.commands.executeCommand<RowsLike | undefined>('hrmLens.patchDataset', patchArgs);
      assert.ok(onWorker.probe && onWorker.ensemble && probe && ensemble);
      assert.deepEqual(onWorker.probe.rows, probe.rows);
      assert.deepEqual(onWorker.ensemble.summary, ensemble.summary);
      assert.ok(onWorker.kick && onWorker.patch && kick && patch, 'the kicks and the patch over a dataset ran on both');
      assert.equal(onWorker.kick.rows.length, 5);
      assert.deepEqual(onWorker.kick.rows, kick.rows);
      assert.deepEqual(onWorker.patch.rows, patch.rows);
    } finally {
      await user().update('backend', 'torch', vscode.ConfigurationTarget.Global);
    }
  });

  test('the worker is the one the user setting names: a pythonPath that is not there makes Inspect, the probe, the kicks and the landscape fail', async function () {
    this.timeout(300_000);
    await user().update('pythonPath', path.join(path.dirname(shipped), 'no-such-python'), vscode.ConfigurationTarget.Global);
    try {
      assert.equal(await inspect(), undefined, 'the inspection ran although the named interpreter does not exist');
      assert.equal(await vscode.commands.executeCommand('hrmLens.runProbe', { checkpoints: [shipped], masks: ['cell'], count: 2 }), undefined, 'the probe ran');
      assert.equal(await vscode.commands.executeCommand('hrmLens.kickBasins', { checkpoints: [shipped], puzzles: { generate: 2 }, directions: 2, pcs: 0 }), undefined, 'the kicks ran');
      assert.equal(await api().panels.computeLandscapeInLastPanel(5), false, 'the landscape was computed');
      const kick = await api().panels.interventions.runInOpenPanel({ kind: 'kick', epsilons: [0.1] });
      assert.equal(kick.kind, 'intervene-error', 'the inspector\'s kick ran');
    } finally {
      await user().update('pythonPath', python, vscode.ConfigurationTarget.Global);
    }
  });

  test('a workspace hrmLens.pythonPath (.vscode/settings.json) is ignored', async function () {
    this.timeout(600_000);
    const before = await inspect();
    assert.ok(before);
    mkdirSync(path.dirname(wsSettings), { recursive: true });
    const current = existsSync(wsSettings) ? (JSON.parse(readFileSync(wsSettings, 'utf8')) as Record<string, unknown>) : {};
    // hrmLens.segments (resource scope) shows when VS Code has read the file.
    writeFileSync(wsSettings, JSON.stringify({ ...current, 'hrmLens.pythonPath': '/nonexistent/python', 'hrmLens.segments': 3 }, null, 2));
    for (let i = 0; i < 200 && api().settings().segments !== 3; i++) await sleep(50);
    assert.equal(api().settings().segments, 3, 'the workspace settings file was read');
    assert.equal(api().settings().pythonPath, python, 'the user value applies');
    assert.equal(user().inspect('pythonPath')?.globalValue, python);
    const after = await inspect();
    assert.ok(after, 'the inspection did not use the workspace\'s interpreter');
    assert.deepEqual(figures(after), figures(before));
  });
  /** Waits until the Train prompts have shown `n` steps, then accepts the active item (or the input box's value). */
  async function answer(n: number): Promise<{ title: string; items: string[] }> {
    for (let i = 0; i < 1200 && api().trainPrompts().length < n; i++) await sleep(100);
    const shown = api().trainPrompts();
    assert.ok(shown.length >= n, `prompt ${n} of HRM: Train was not shown (${shown.map((p) => p.title).join(' | ')})`);
    await sleep(800);
    return shown[n - 1];
  }
  const accept = () => vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');

  /** The first four prompts (preset tiny-4x4, generated puzzles, mixing off, the default steps), accepted. */
  async function firstFourSteps(): Promise<void> {
    for (const [n, title] of [[1, /preset/], [2, /training data/], [3, /data mixing/], [4, /steps/]] as const) {
      const p = await answer(n);
      assert.match(p.title, title);
      if (n === 1) assert.equal(p.items[0], 'tiny-4x4');
      await accept();
    }
  }

  /** The Runs tree's node of the run folder `dir` (waits for the tree to list it). */
  async function runNode(dir: string): Promise<RunsNode & { kind: 'run' }> {
    api().runs.refresh();
    let node: (RunsNode & { kind: 'run' }) | undefined;
    for (let i = 0; i < 100 && !node; i++) {
      node = ((await api().runs.getChildren()) ?? []).find((n): n is RunsNode & { kind: 'run' } => n.kind === 'run' && path.resolve(n.run.dir) === path.resolve(dir));
      if (!node) await sleep(100);
    }
    assert.ok(node, 'the run is in the Runs tree');
    return node;
  }

  /** The PyTorch run that "HRM: Train" trained and stopped (for the Resume Training test after it). */
  let stopped: { run: string; step: number } | undefined;

  function runsFolder(): string {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    return path.resolve(folder.uri.fsPath, api().settings().runsFolder);
  }

  test('HRM: Train offers PyTorch (the interpreter found, its torch); chosen, a tiny-4x4 run trains with it, stops, and shows in the Runs tree with its metrics', async function () {
    this.timeout(900_000);
    await user().update('backend', 'torch', vscode.ConfigurationTarget.Global);
    await user().update('pythonPath', python, vscode.ConfigurationTarget.Global);
    const before = new Set(existsSync(runsFolder()) ? readdirSync(runsFolder()) : []);
    const running = vscode.commands.executeCommand<TrainResultLike | undefined>('hrmLens.train');
    await firstFourSteps();
    const backend = await answer(5);
    assert.match(backend.title, /backend/);
    // hrmLens.backend is torch: PyTorch comes first, the TF.js backends after it.
    const escaped = python.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    assert.match(backend.items[0], new RegExp(`^PyTorch \\(${escaped}, torch \\d+\\.\\d+\\S*, cpu\\)$`));
    assert.deepEqual(backend.items.slice(1).sort(), TFJS_STEP.map((b) => `TF.js (${b})`).sort());
    await accept();
    const processes = await answer(6);
    assert.match(processes.title, /PyTorch processes/);
    await accept();
    // The run folder appears with its first metrics; then Stop Training.
    let run = '';
    for (let i = 0; i < 3000 && !run; i++) {
      await sleep(200);
      const fresh = existsSync(runsFolder()) ? readdirSync(runsFolder()).filter((d) => !before.has(d) && d.startsWith('tiny-4x4-')) : [];
      const metrics = fresh.map((d) => path.join(runsFolder(), d, 'metrics.jsonl')).find((f) => existsSync(f) && readFileSync(f, 'utf8').includes('"step"'));
      if (metrics) run = path.dirname(metrics);
    }
    assert.ok(run, 'no step of the PyTorch training was logged');
    assert.equal(await vscode.commands.executeCommand('hrmLens.stopTraining'), true);
    const r = await running;
    assert.ok(r, 'Train returned no result (see the HRM Lens log)');
    assert.equal(path.resolve(r.run), path.resolve(run));
    assert.equal(r.backend, 'torch');
    assert.equal(r.cancelled, true);
    assert.ok(r.step >= 1 && r.step < 2000);
    const spec = JSON.parse(readFileSync(path.join(run, 'run.json'), 'utf8')) as { spec: { backend: { name: string; processes: number; detail: string } } };
    assert.equal(spec.spec.backend.name, 'torch');
    assert.equal(spec.spec.backend.processes, 1);
    const steps = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number });
    assert.ok(steps.length >= r.step && steps.every((m) => Number.isFinite(m.loss)), 'metrics.jsonl has every step with its loss');
    // The dashboard got the live steps; the Runs tree lists the run, its checkpoint and the PyTorch backend.
    const posted = api().dashboards.posted.get(path.resolve(run)) ?? {};
    assert.ok((posted.points ?? 0) >= 1, `live steps were posted to the dashboard: ${JSON.stringify(posted)}`);
    const node = await runNode(run);
    const item = await api().runs.getTreeItem(node);
    assert.match(String(item.description), new RegExp(`tiny-4x4 · step ${r.step}/2000 · mixing off`));
    const tip = item.tooltip === undefined ? '' : typeof item.tooltip === 'string' ? item.tooltip : item.tooltip.value;
    // (Markdown-escaped: parentheses come with a backslash.)
    assert.match(tip, /backend: PyTorch [\d.]+\S*, 1 process \\?\(gloo\\?\) on cpu/);
    const children = (await api().runs.getChildren(node)) ?? [];
    assert.ok(children.some((c) => c.kind === 'checkpoint' && path.resolve(c.checkpoint.file) === path.resolve(r.checkpoint)), 'its checkpoint is under it');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    stopped = { run, step: r.step };
  });

  test('HRM: Resume Training on the PyTorch run offers PyTorch first; chosen, the run goes on under torchrun past its checkpoint', async function () {
    this.timeout(900_000);
    assert.ok(stopped, 'the Train test left no stopped PyTorch run');
    const { run, step: old } = stopped;
    // The TF.js setting: PyTorch comes first because of the run, not of hrmLens.backend.
    await user().update('backend', undefined, vscode.ConfigurationTarget.Global);
    await user().update('pythonPath', python, vscode.ConfigurationTarget.Global);
    // An input box cannot be typed into from the extension host: the run's target becomes a few steps past its
    // checkpoint, which the step count prompt offers as its default.
    const target = old + 3;
    const runJson = path.join(run, 'run.json');
    const json = JSON.parse(readFileSync(runJson, 'utf8')) as { spec: { train: { steps: number } } };
    json.spec.train.steps = target;
    writeFileSync(runJson, JSON.stringify(json, null, 2));
    const running = vscode.commands.executeCommand<TrainResultLike | undefined>('hrmLens.resumeTraining', await runNode(run));
    for (let i = 0; i < 600 && !api().trainPrompts()[0]?.title.startsWith('HRM: Resume Training'); i++) await sleep(100);
    const steps = await answer(1);
    assert.equal(steps.title, `HRM: Resume Training — ${path.basename(run)}: steps`);
    await accept();
    const backend = await answer(2);
    assert.equal(backend.title, `HRM: Resume Training — ${path.basename(run)}: backend`);
    assert.match(backend.items[0], /^PyTorch \(.*, torch \d+\.\d+\S*, cpu\)$/, 'the run was trained with PyTorch: it comes first');
    assert.deepEqual(backend.items.slice(1).sort(), TFJS_STEP.map((b) => `TF.js (${b})`).sort());
    await accept();
    const processes = await answer(3);
    assert.equal(processes.title, `HRM: Resume Training — ${path.basename(run)}: PyTorch processes`);
    await accept();
    const r = await running;
    assert.ok(r, 'Resume Training returned no result (see the HRM Lens log)');
    assert.equal(path.resolve(r.run), path.resolve(run));
    assert.equal(r.backend, 'torch');
    assert.equal(r.cancelled, false);
    assert.equal(r.step, target);
    assert.equal(api().trainPrompts().length, 3, 'steps, backend, processes');
    const logged = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { step: number; loss: number });
    assert.deepEqual(logged.filter((m) => m.step > old).map((m) => m.step), [old + 1, old + 2, old + 3], 'metrics.jsonl goes on past the old step');
    assert.ok(logged.every((m) => Number.isFinite(m.loss)));
    const spec = JSON.parse(readFileSync(runJson, 'utf8')) as { spec: { backend: { name: string } } };
    assert.equal(spec.spec.backend.name, 'torch');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('with hrmLens.pythonPath naming a Python without torch, HRM: Train asks the TF.js backend step alone', async function () {
    this.timeout(300_000);
    const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-no-torch-'));
    // The same interpreter without its site-packages: Python runs, torch cannot be imported.
    const bare = path.join(tmp, 'python3');
    writeFileSync(bare, `#!/bin/sh\nexec ${python} -S "$@"\n`);
    chmodSync(bare, 0o755);
    await user().update('backend', undefined, vscode.ConfigurationTarget.Global);
    await user().update('pythonPath', bare, vscode.ConfigurationTarget.Global);
    try {
      const running = vscode.commands.executeCommand<TrainResultLike | undefined>('hrmLens.train');
      await firstFourSteps();
      const backend = await answer(5);
      assert.match(backend.title, /backend/);
      assert.deepEqual([...backend.items].sort(), [...TFJS_STEP].sort(), 'the TF.js backends by name, no PyTorch');
      assert.equal(backend.items[0], api().settings().backend, 'the setting first, as before');
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      assert.equal(await running, undefined, 'dismissed: nothing trained');
      assert.equal(api().trainPrompts().length, 5, 'no process question');
    } finally {
      await user().update('pythonPath', python, vscode.ConfigurationTarget.Global);
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
