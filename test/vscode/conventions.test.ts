/**
 * VS Code conventions of a released extension, inside a real VS Code: the walkthrough (its buttons run registered
 * commands with arguments that parse; its pages ship); the context keys of the `when` clauses (Stop Training only
 * while a training runs, Inspect Puzzle only on a puzzle selection, the Explorer's Inspect / Evaluate only on HRM Lens
 * checkpoints); the shipped models in the catalog and the Shipped Models view; pickers that offer only checkpoints of
 * the puzzle's grid size (the shipped ones first); commands that refuse a safetensors file of another kind; the
 * `hrm-lens` command line on the integrated terminal's PATH; the test API only under the test flag.
 */
import * as assert from 'node:assert/strict';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as vscode from 'vscode';
import { WALKTHROUGH, wantsTestApi } from '../../extension/extension';
import { CHECKPOINT_FILES, SELECTION_IS_PUZZLE, TRAINING_RUNNING } from '../../extension/context-keys';
import { screenshotInThemes, sleep, useExtension } from './host';

interface Step { id: string; title: string; description: string; media: { markdown?: string }; completionEvents?: string[] }
interface Manifest {
  version: string;
  contributes: { walkthroughs?: { id: string; steps: Step[] }[]; views: Record<string, { id: string }[]>; menus: Record<string, { command: string; when?: string }[]> };
}

const SIX = '..4..5.6.2....5.3.4.......3.6.......';
const FOUR = '.1.....3..32....';
/** The walkthrough's first puzzle: solved by the shipped hard-6x6 model only at segment 12. */
const HARD_SIX = '1...56...1..643.........5..41.......';

/** Polls `read` until `ok` holds (or the tries run out); returns the last value. */
async function until<T>(read: () => T, ok: (v: T) => boolean, tries = 200, ms = 50): Promise<T> {
  let v = read();
  for (let i = 0; i < tries && !ok(v); i++) {
    await sleep(ms);
    v = read();
  }
  return v;
}

/** The command links of a walkthrough step's description: [label](command:id?encodedJsonArgs). */
function commandLinks(description: string): { id: string; args: unknown[] }[] {
  return [...description.matchAll(/\]\(command:([\w.]+)(?:\?([^)\s]+))?\)/g)].map((m) => {
    const parsed: unknown = m[2] ? JSON.parse(decodeURIComponent(m[2])) : [];
    return { id: m[1], args: Array.isArray(parsed) ? parsed : [parsed] };
  });
}

/** A safetensors header-only file with these metadata. */
function writeSafetensors(file: string, metadata: Record<string, string>): void {
  const json = Buffer.from(JSON.stringify({ __metadata__: metadata }), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, Buffer.concat([len, json]));
}

suite('HRM Lens conventions', () => {
  const api = useExtension();
  let ext: vscode.Extension<unknown>;
  let manifest: Manifest;
  let ws: string;
  let shipped: string;
  /** A 6×6 checkpoint trained by `hrm-lens` in a terminal (set by the CLI test). */
  let sixCheckpoint: string | undefined;
  const made: string[] = [];

  suiteSetup(() => {
    const found = vscode.extensions.getExtension('hrm-lens.hrm-lens');
    assert.ok(found);
    ext = found;
    manifest = ext.packageJSON as Manifest;
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    ws = folder.uri.fsPath;
    shipped = path.join(ext.extensionPath, 'models', 'tiny-4x4.safetensors');
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const p of made) rmSync(p, { recursive: true, force: true });
  });

  test('the manifest: version, repository links, workspace extension kind, no virtual workspaces, activation only on HRM runs', () => {
    const m = ext.packageJSON as {
      version: string; repository?: { url?: string }; bugs?: { url?: string }; homepage?: string; extensionKind?: string[]; activationEvents?: string[];
      capabilities?: { virtualWorkspaces?: { supported?: boolean; description?: string } };
    };
    assert.equal(m.version, '0.2.0');
    for (const url of [m.repository?.url, m.bugs?.url, m.homepage]) assert.match(url ?? '', /^https:\/\/github\.com\/hrm-lens\/hrm-lens/);
    assert.deepEqual(m.extensionKind, ['workspace']);
    assert.equal(m.capabilities?.virtualWorkspaces?.supported, false);
    assert.ok((m.capabilities?.virtualWorkspaces?.description ?? '').length > 20, 'a reason is given');
    assert.ok(m.activationEvents?.includes('workspaceContains:.hrm/runs'));
    assert.deepEqual(m.activationEvents?.filter((e) => /safetensors/.test(e)), [], 'a stray .safetensors file does not activate HRM Lens');
  });

  test('activate() returns the test API only under the test flag', () => {
    assert.ok(ext.exports, 'HRM_LENS_TEST=1 is set by the runner: the API is there');
    assert.equal(wantsTestApi({}, vscode.ExtensionMode.Production), false);
    assert.equal(wantsTestApi({}, vscode.ExtensionMode.Development), false);
    assert.equal(wantsTestApi({ HRM_LENS_TEST: '0' }, vscode.ExtensionMode.Production), false);
    assert.equal(wantsTestApi({ HRM_LENS_TEST: '1' }, vscode.ExtensionMode.Production), true);
    assert.equal(wantsTestApi({}, vscode.ExtensionMode.Test), true);
  });

  test('the walkthrough: five steps whose buttons name registered commands (arguments that parse), pages that ship, completion events that can fire', async function () {
    this.timeout(60_000);
    const walkthroughs = manifest.contributes.walkthroughs ?? [];
    assert.equal(walkthroughs.length, 1);
    const w = walkthroughs[0];
    assert.equal(`hrm-lens.hrm-lens#${w.id}`, WALKTHROUGH);
    assert.deepEqual(w.steps.map((s) => s.id), ['inspect', 'train', 'hover', 'trajectories', 'ensemble']);
    const registered = new Set(await vscode.commands.getCommands(false));
    const views = new Set(Object.values(manifest.contributes.views).flat().map((v) => v.id));
    for (const step of w.steps) {
      const links = commandLinks(step.description);
      assert.ok(links.length >= 1, `${step.id}: a button`);
      for (const l of links) assert.ok(registered.has(l.id), `${step.id}: ${l.id} is a registered command`);
      assert.ok(step.media.markdown && existsSync(path.join(ext.extensionPath, step.media.markdown)), `${step.id}: its page ${step.media.markdown} ships`);
      assert.ok((step.completionEvents ?? []).length >= 1, `${step.id}: a completion event`);
      for (const e of step.completionEvents ?? []) {
        const [kind, name] = e.split(':');
        if (kind === 'onCommand') assert.ok(registered.has(name) && links.some((l) => l.id === name), `${step.id}: ${e} is the command of a button`);
        else if (kind === 'onView') assert.ok(views.has(name) && links.some((l) => l.id === `${name}.focus`), `${step.id}: ${e} is a view a button shows`);
        else assert.fail(`${step.id}: unexpected completion event ${e}`);
      }
    }
    // HRM: Get Started opens it (the command VS Code's Welcome page uses).
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('hrmLens.getStarted');
    const labels = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.label);
    // The tab API keeps the label the Welcome editor opened with; the page itself shows "Walkthrough: HRM Lens".
    const tabs = await until(labels, (l) => l.some((t) => t.startsWith('Walkthrough')), 100);
    assert.ok(tabs.some((t) => t.startsWith('Walkthrough')), `a walkthrough tab is open: ${tabs.join(' | ')}`);
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    await vscode.commands.executeCommand('notifications.clearAll');
    await screenshotInThemes('walkthrough');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the walkthrough\'s first button inspects a hard 6×6 puzzle with the shipped hard-6x6 model, solved late', async function () {
    this.timeout(120_000);
    const step = manifest.contributes.walkthroughs?.[0].steps.find((s) => s.id === 'inspect');
    assert.ok(step);
    const [link] = commandLinks(step.description);
    const summary = await vscode.commands.executeCommand<{ checkpoint: string; puzzle: string; firstExact: number | null } | undefined>(link.id, ...link.args);
    assert.ok(summary, 'the inspection ran');
    assert.equal(path.resolve(summary.checkpoint), path.join(ext.extensionPath, 'models', 'hard-6x6.safetensors'));
    assert.equal(summary.puzzle, HARD_SIX);
    assert.ok(summary.firstExact !== null && summary.firstExact >= 6, `solved late (first exact segment ${String(summary.firstExact)}), as the page says`);
    // A shipped name that does not exist is refused, naming the ones that ship.
    assert.equal(await vscode.commands.executeCommand('hrmLens.inspectPuzzle', { puzzle: HARD_SIX, shipped: 'no-such-model' }), undefined);
    assert.match(api().refusals().at(-1) ?? '', /no shipped 6×6 model is named "no-such-model" \(shipped: .*hard-6x6/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the walkthrough\'s hover button opens a document whose checkpoint path shows the HRM hover', async () => {
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('hrmLens.showHoverExample');
    assert.ok(editor.document.getText().includes(shipped));
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, editor.selection.active);
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    assert.match(text, /HRM checkpoint/);
    assert.match(text, /tiny-4x4/);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('hrmLens.trainingRunning is true while a training runs and false after it; Stop Training is offered only then', async function () {
    this.timeout(240_000);
    const palette = manifest.contributes.menus.commandPalette.find((m) => m.command === 'hrmLens.stopTraining');
    assert.equal(palette?.when, TRAINING_RUNNING);
    assert.notEqual(api().contextKeys()[TRAINING_RUNNING], true, 'not before');
    const training = vscode.commands.executeCommand<{ step: number; run: string } | undefined>('hrmLens.train', { preset: 'tiny-4x4', steps: 40, batch: 8, seed: 21 });
    let settled = false;
    void Promise.resolve(training).finally(() => { settled = true; });
    const during = await until(() => api().contextKeys()[TRAINING_RUNNING], (v) => v === true || settled);
    assert.equal(during, true, 'true while the training runs');
    assert.equal(settled, false);
    const r = await training;
    assert.ok(r, 'the training finished');
    made.push(r.run);
    assert.equal(api().contextKeys()[TRAINING_RUNNING], false, 'false after it');
    assert.equal(await vscode.commands.executeCommand('hrmLens.stopTraining'), false, 'nothing to stop');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('hrmLens.selectionIsPuzzle: true on a puzzle selection (or the cursor\'s puzzle line), false on other text', async () => {
    const menu = manifest.contributes.menus['editor/context'].find((m) => m.command === 'hrmLens.inspectPuzzle');
    assert.equal(menu?.when, SELECTION_IS_PUZZLE);
    const lines = [FOUR, 'hello world, not a puzzle', '..4|..5', '.6.|2..', '..5|.3.', '4..|...', '..3|.6.', '...|...', '.1.....7..32....', `hrm-lens:seed=5,${SIX},324615561243615432432156243561156324,1`];
    const doc = await vscode.workspace.openTextDocument({ language: 'plaintext', content: lines.join('\n') });
    const editor = await vscode.window.showTextDocument(doc);
    const key = () => api().contextKeys()[SELECTION_IS_PUZZLE];
    const expectAt = async (sel: vscode.Selection, expected: boolean, what: string) => {
      editor.selection = sel;
      assert.equal(await until(key, (v) => v === expected, 60), expected, what);
    };
    const line = (n: number) => new vscode.Selection(n, 0, n, lines[n].length);
    await expectAt(line(1), false, 'prose selected');
    await expectAt(line(0), true, 'a 4×4 puzzle selected');
    await expectAt(new vscode.Selection(1, 3, 1, 3), false, 'cursor on a prose line');
    await expectAt(new vscode.Selection(0, 2, 0, 2), true, 'cursor on a puzzle line, nothing selected');
    await expectAt(new vscode.Selection(2, 0, 7, lines[7].length), true, 'a 6×6 grid drawn over six lines');
    await expectAt(new vscode.Selection(2, 0, 6, lines[6].length), false, 'five lines of it: 30 cells');
    await expectAt(line(8), false, 'a 7 in a 4×4 grid');
    await expectAt(line(9), true, 'a dataset row');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('the terminal\'s PATH holds an executable hrm-lens that runs --version; a training started with it in a terminal reaches the Runs view', async function () {
    this.timeout(240_000);
    const env = api().terminalEnvironment();
    assert.ok(env.PATH, 'PATH is changed');
    assert.equal(env.PATH.type, 'Prepend');
    const dir = env.PATH.value.slice(0, -path.delimiter.length);
    assert.ok(env.PATH.value.endsWith(path.delimiter));
    const launcher = path.join(dir, process.platform === 'win32' ? 'hrm-lens.cmd' : 'hrm-lens');
    accessSync(launcher, constants.X_OK);
    assert.equal(api().cli?.launcher, launcher);
    assert.ok(env.HRM_LENS_NODE?.value, 'HRM_LENS_NODE names the runtime');
    const version = execFileSync(launcher, ['--version'], { env: { ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH ?? ''}`, HRM_LENS_NODE: env.HRM_LENS_NODE.value }, encoding: 'utf8' });
    assert.equal(version.trim(), manifest.version);
    if (process.platform === 'win32') return;

    // In a real terminal: the collection is applied by VS Code, `hrm-lens` is found on PATH.
    const out = path.join(ws, '.hrm', 'runs', 'terminal-6x6');
    const marks = path.join(ws, '.hrm-terminal-test');
    made.push(marks, out);
    mkdirSync(marks, { recursive: true });
    const script = `hrm-lens --version > "${marks}/version" 2>&1; hrm-lens train --preset small-6x6 --steps 4 --batch 4 --eval-puzzles 8 --backend wasm --quiet --out "${out}" > "${marks}/train" 2>&1; echo $? > "${marks}/exit"`;
    const terminal = vscode.window.createTerminal({ name: 'hrm-lens (test)', shellPath: '/bin/sh', shellArgs: ['-c', script], cwd: ws });
    try {
      const exit = await until(() => (existsSync(`${marks}/exit`) ? readFileSync(`${marks}/exit`, 'utf8').trim() : ''), (v) => v !== '', 1200, 100);
      assert.equal(readFileSync(`${marks}/version`, 'utf8').trim(), manifest.version, 'hrm-lens --version in the terminal');
      assert.equal(exit, '0', `hrm-lens train in the terminal: ${readFileSync(`${marks}/train`, 'utf8').slice(-2000)}`);
    } finally {
      terminal.dispose();
    }
    sixCheckpoint = path.join(out, 'step-000004.safetensors');
    assert.ok(existsSync(sixCheckpoint));
    api().runs.refresh();
    const runs = (await api().runs.getChildren()) ?? [];
    assert.ok(runs.some((n) => n.kind === 'run' && n.run.dir === out), 'the Runs view lists the terminal\'s run');
  });

  test('the Explorer offers Inspect / Evaluate on HRM Lens checkpoints only (hrmLens.checkpointFiles); other safetensors are refused', async function () {
    this.timeout(60_000);
    for (const m of manifest.contributes.menus['explorer/context']) assert.equal(m.when, `resourcePath in ${CHECKPOINT_FILES}`, m.command);
    const foreign = path.join(ws, 'models-elsewhere', 'bert.safetensors');
    const optimLike = path.join(ws, 'models-elsewhere', 'step-000001.safetensors');
    const hrmCopy = path.join(ws, 'models-elsewhere', 'hrm-copy.safetensors');
    made.push(path.dirname(foreign));
    writeSafetensors(foreign, { format: 'pt' });
    writeSafetensors(optimLike, { format: 'hrm-lens-optim' });
    writeFileSync(hrmCopy, readFileSync(shipped));
    const files = await api().checkpoints.rescan();
    assert.ok(files.includes(hrmCopy), 'a copy of an HRM Lens checkpoint anywhere in the workspace');
    assert.ok(files.includes(shipped), 'the shipped model');
    if (sixCheckpoint) assert.ok(files.includes(sixCheckpoint), 'a checkpoint of the runs folder');
    assert.ok(!files.includes(foreign) && !files.includes(optimLike), 'other safetensors files are not offered');
    const key = api().contextKeys()[CHECKPOINT_FILES] as string[];
    assert.ok(key.includes(vscode.Uri.file(hrmCopy).path) && !key.includes(vscode.Uri.file(foreign).path), 'the context key holds Uri paths');

    const n = api().refusals().length;
    assert.equal(await vscode.commands.executeCommand('hrmLens.inspectPuzzle', { puzzle: FOUR, checkpoint: foreign }), undefined);
    assert.match(api().refusals().at(-1) ?? '', /bert\.safetensors is not an HRM Lens checkpoint: its safetensors metadata format is "pt"/);
    assert.equal(await vscode.commands.executeCommand('hrmLens.runs.evaluate', vscode.Uri.file(optimLike)), undefined);
    assert.match(api().refusals().at(-1) ?? '', /step-000001\.safetensors is not an HRM Lens checkpoint: it holds the optimizer state/);
    assert.equal(await vscode.commands.executeCommand('hrmLens.runProbe', { checkpoints: [foreign] }), undefined);
    assert.equal(api().refusals().length, n + 3, 'each refused with a message');
  });

  test('the shipped models: each in the Shipped Models view and the catalog with its grid size, preset and held-out accuracy', async () => {
    const shippedModels = await api().checkpoints.shipped();
    assert.ok(shippedModels.length >= 2, 'models/ ships a 4×4 and a 6×6 model');
    assert.equal(shippedModels[0].file, shipped, 'tiny-4x4 first');
    const files = await api().checkpoints.rescan();
    for (const m of shippedModels) assert.ok(files.includes(m.file), `${m.name} is known to the Explorer's menu`);
    const nodes = (await api().models.getChildren()) ?? [];
    assert.deepEqual(nodes.map((n) => n.model.file), shippedModels.map((m) => m.file));
    for (const n of nodes) {
      const item = await api().models.getTreeItem(n);
      assert.equal(item.contextValue, 'hrmCheckpoint', 'the Runs view\'s checkpoint actions apply');
      assert.match(String(item.description), /^[469]×[469] · preset [\w-]+ · held-out exact \d+\.\d%$/, `${n.model.name}: ${String(item.description)}`);
    }
  });

  test('Inspect Puzzle: a 6×6 puzzle gets the shipped 6×6 models and the 6×6 checkpoints (never the shipped 4×4); a 9×9 puzzle with none says to train one', async function () {
    this.timeout(180_000);
    const NINE = '003020600900305001001806400008102900700000008006708200002609500800203009005010300';
    const pick = async (puzzle: string): Promise<{ files: string[]; notice: string | undefined; title: string }> => {
      const before = api().checkpointChoices();
      const running = vscode.commands.executeCommand<{ checkpoint: string } | undefined>('hrmLens.inspectPuzzle', { puzzle, view: 'document' });
      const choices = await until(() => api().checkpointChoices(), (c) => c !== before && c !== undefined);
      assert.ok(choices && choices !== before, 'the checkpoint pick opened');
      await sleep(300);
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
      assert.equal(await running, undefined, 'dismissed');
      return choices;
    };
    const six = (await api().checkpoints.shipped()).filter((m) => m.gridSize === 6).map((m) => m.file);
    assert.ok(six.length >= 1, 'a 6×6 model ships');
    // Hide the 6×6 run first: the shipped models are then the only 6×6 checkpoints.
    const hidden = sixCheckpoint ? `${sixCheckpoint}.hidden` : undefined;
    const ninesHidden: string[] = [];
    if (sixCheckpoint && hidden) execFileSync('mv', [sixCheckpoint, hidden]);
    try {
      await api().checkpoints.rescan();
      if (six.length === 1) {
        // One shipped model of the size: Inspect uses it, as tiny-4x4 for 4×4 puzzles.
        const summary = await vscode.commands.executeCommand<{ checkpoint: string } | undefined>('hrmLens.inspectPuzzle', { puzzle: SIX, view: 'document' });
        assert.ok(summary, 'inspected');
        assert.equal(path.resolve(summary.checkpoint), six[0]);
      } else {
        const shippedOnly = await pick(SIX);
        assert.deepEqual(shippedOnly.files, six, 'the shipped 6×6 models, not the 4×4 one');
        assert.equal(shippedOnly.notice, undefined, 'no "train one" message for 6×6');
      }
      // 9×9 checkpoints of the workspace (another suite may have imported one) are offered, and nothing else.
      const nineFiles = (await pick(NINE)).files;
      assert.deepEqual(nineFiles.filter((f) => six.includes(f) || f === shipped || f === sixCheckpoint), [], 'no 4×4 or 6×6 checkpoint is offered for a 9×9 puzzle');
      for (const f of nineFiles) execFileSync('mv', [f, `${f}.hidden`]);
      ninesHidden.push(...nineFiles);
      await api().checkpoints.rescan();
      const none = await pick(NINE);
      assert.deepEqual(none.files, [], 'with the workspace\'s 9×9 checkpoints hidden, none is offered');
      assert.equal(none.notice, 'No 9×9 checkpoint: train one with HRM: Train (preset easy-9x9)');
      assert.match(none.title, /No 9×9 checkpoint/);
    } finally {
      if (sixCheckpoint && hidden) execFileSync('mv', [hidden, sixCheckpoint]);
      for (const f of ninesHidden.splice(0)) execFileSync('mv', [`${f}.hidden`, f]);
      await api().checkpoints.rescan();
    }
    // A 4×4 checkpoint named for a 6×6 puzzle is refused before the engine is asked, naming the shipped 6×6 models.
    assert.equal(await vscode.commands.executeCommand('hrmLens.inspectPuzzle', { puzzle: SIX, checkpoint: shipped }), undefined);
    assert.match(api().refusals().at(-1) ?? '', /tiny-4x4\.safetensors is a 4×4 checkpoint and the puzzle is 6×6: use a 6×6 checkpoint \(the shipped [\w, -]*small-6x6/);
    if (!sixCheckpoint || six.length === 1) return;
    await api().checkpoints.rescan();
    const some = await pick(SIX);
    assert.deepEqual(some.files, [...six, sixCheckpoint], 'the shipped 6×6 models, then the 6×6 checkpoint of the runs folder');
    assert.equal(some.notice, undefined);
    // Picking the first offered checkpoint inspects with it.
    const before = api().checkpointChoices();
    const running = vscode.commands.executeCommand<{ checkpoint: string } | undefined>('hrmLens.inspectPuzzle', { puzzle: SIX, view: 'document' });
    await until(() => api().checkpointChoices(), (c) => c !== before);
    await sleep(500);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const summary = await running;
    assert.ok(summary, 'inspected');
    assert.equal(path.resolve(summary.checkpoint), six[0]);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
});
