/**
 * The inspector's Interventions section inside a real VS Code: two puzzles inspected with the shipped tiny-4x4 model,
 * the first made the patch donor of the second's inspector through "HRM: Patch From This Trajectory", then a patch and
 * a spectrum run as the section's buttons run them (through the host, on the real engine), their results read back
 * from what the panel's webview acknowledges having drawn. A restored inspector whose saved state names a checkpoint
 * outside the workspace gets no intervention (the engine is not asked) and takes no donor. The donor survives a window
 * reload: a panel restored from a saved state holding its donor's token gets the donor back (checked again), one
 * holding an unknown token, or the token of a panel the user closed, gets none. HRM: Kick Basins Over a Dataset and
 * HRM: Patch Over a Dataset with arguments return the engine's summaries and open their reports.
 */
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';
import type { InspectSummary } from '../../engine/analysis/inspect';
import type { KickDataResult, PatchDataResult } from '../../engine/intervene/intervene-protocol';
import { PATCH_FROM_TRAJECTORY } from '../../extension/panels/inspector-interventions';
import { INSPECTOR_VIEW_TYPE, toInspectorTrace } from '../../extension/panels/inspector-panel';
import { spectrumBadgeText } from '../../webview/inspector-interventions-model';
import type { HostToIntervention, InspectorState, InterventionKind, InterventionRequest } from '../../webview/protocol';
import { sleep, useExtension } from './host';


const RECEIVER = '.1.....3..32....';
const DONOR = '..4.3.....1..2..';

suite('HRM inspector interventions', () => {
  const api = useExtension();
  let receiver: InspectSummary | undefined;
  const made: string[] = [];

  /** Waits until the open inspector's webview acknowledges a drawn `what` after `from` acknowledgements; its words. */
  async function drawn(what: InterventionKind, from: number): Promise<string> {
    const panels = api().panels.interventions;
    for (let i = 0; i < 300; i++) {
      const hit = panels.rendered.slice(from).find((r) => r.what === what);
      if (hit) return hit.summary;
      await sleep(100);
    }
    assert.fail(`the webview did not acknowledge a drawn ${what} (acknowledged: ${JSON.stringify(panels.rendered.slice(from))})`);
  }

  function result<K extends InterventionKind>(m: HostToIntervention, kind: K): Extract<Extract<HostToIntervention, { kind: 'intervene-result' }>['view'], { kind: K }> {
    assert.equal(m.kind, 'intervene-result', m.kind === 'intervene-error' ? m.message : m.kind);
    assert.ok(m.kind === 'intervene-result' && m.view.kind === kind, `a ${kind} result`);
    return m.view as never;
  }

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const p of made) rmSync(p, { recursive: true, force: true });
  });

  test('Patch From This Trajectory sets the donor of the open inspector; a patch and a spectrum come back from the engine and are drawn', async function () {
    this.timeout(300_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    const before = api().panels.renderTimes.length;
    const donor = await vscode.commands.executeCommand<InspectSummary | undefined>('hrmLens.inspectPuzzle', { puzzle: DONOR });
    receiver = await vscode.commands.executeCommand<InspectSummary | undefined>('hrmLens.inspectPuzzle', { puzzle: RECEIVER });
    assert.ok(donor && receiver, 'both puzzles inspected');
    assert.match(receiver.checkpoint, /tiny-4x4\.safetensors$/);
    // The receiver's inspector renders (the donor's, hidden behind it at once, may never load: it is not retained).
    for (let i = 0; i < 300 && api().panels.renderTimes.length < before + 1; i++) await sleep(100);
    assert.ok(api().panels.renderTimes.length >= before + 1, 'the receiver\'s inspector rendered');
    const iv = api().panels.interventions;
    assert.equal(iv.donorOfOpenPanel(), undefined, 'no donor before the command');

    // A trajectory the Trajectories view does not list is refused (a webview's context names no other file).
    const refused = await vscode.commands.executeCommand<string | undefined>(PATCH_FROM_TRAJECTORY, { puzzle: '1...'.repeat(4), checkpoint: receiver.checkpoint });
    assert.equal(refused, undefined);
    assert.match(api().refusals().at(-1) ?? '', /not in the Trajectories view/);
    // The receiver itself is no donor.
    assert.equal(await vscode.commands.executeCommand(PATCH_FROM_TRAJECTORY, { puzzle: RECEIVER, checkpoint: receiver.checkpoint }), undefined);
    assert.match(api().refusals().at(-1) ?? '', /the inspected trajectory itself/);

    const label = await vscode.commands.executeCommand<string | undefined>(PATCH_FROM_TRAJECTORY, { puzzle: DONOR, checkpoint: donor.checkpoint });
    assert.ok(label && label.includes(DONOR.slice(0, 12)) && label.includes('tiny-4x4'), `donor label "${label}"`);
    assert.deepEqual(iv.donorOfOpenPanel(), { kind: 'trace', label });

    let acks = iv.rendered.length;
    const patch = result(await iv.runInOpenPanel({ kind: 'patch', part: 'both' }), 'patch');
    const r = patch.result;
    assert.equal(patch.donor.label, label);
    assert.equal(r.segments, receiver.segments.length);
    assert.deepEqual(r.curve.map((p) => p.atSegment), Array.from({ length: receiver.segments.length - 1 }, (_, i) => i + 1), 'one point per k = 1 … segments − 1');
    // The receiver's and the donor's own runs end where their inspections ended.
    assert.equal(r.receiver.grid, receiver.segments.at(-1)?.grid);
    assert.equal(r.donor.grid, donor.segments.at(-1)?.grid);
    for (const p of r.curve) assert.equal(p.endsAtDonor, p.grid === r.donor.grid);
    const patchShown = await drawn('patch', acks);
    assert.equal(patchShown, `${r.curve.length} points; rescued up to ${r.rescuedUpTo ?? '–'}; inescapable from ${r.inescapableFrom ?? '–'}`);

    acks = iv.rendered.length;
    // At the segment selected in the inspector (it opens at the last one), as the section's button asks.
    const last = receiver.segments.length;
    const spectrum = result(await iv.runInOpenPanel({ kind: 'spectrum', atSegment: last }), 'spectrum').result;
    assert.equal(spectrum.atSegment, last);
    assert.ok(spectrum.eigenvalues.length >= 1 && spectrum.dimension > 0);
    assert.ok(Math.abs(spectrum.spectralRadius - Math.hypot(spectrum.eigenvalues[0].re, spectrum.eigenvalues[0].im)) <= 1e-9 * Math.max(1, spectrum.spectralRadius));
    const moduli = spectrum.eigenvalues.map((e) => Math.hypot(e.re, e.im));
    assert.ok(moduli.every((m, i) => i === 0 || m <= moduli[i - 1] + 1e-12), `eigenvalues by modulus, descending: ${moduli}`);
    // The badge shows ρ, its class and the segment.
    assert.equal(await drawn('spectrum', acks), spectrumBadgeText(spectrum));
    assert.match(spectrumBadgeText(spectrum), new RegExp(`^ρ = [0-9.]+ · (contraction|expansion|marginal) at segment ${last}$`));

    // A request the section never sends (a segment past the trace) is answered with an error, drawn in the part.
    acks = iv.rendered.length;
    const bad = await iv.runInOpenPanel({ kind: 'spectrum', atSegment: receiver.segments.length + 1 });
    assert.ok(bad.kind === 'intervene-error' && /segment must be 1 to 4/.test(bad.message), JSON.stringify(bad));
    assert.match(await drawn('spectrum', acks), /^error: the segment must be 1 to 4/);
  });

  test('a restored inspector naming a checkpoint outside the workspace: every intervention is refused before the engine, and no donor is set', async function () {
    this.timeout(60_000);
    assert.ok(receiver, 'the first test inspected the receiver');
    const outside = mkdtempSync(path.join(tmpdir(), 'hrm-outside-'));
    made.push(outside);
    const copied = path.join(outside, 'copied.safetensors');
    copyFileSync(receiver.checkpoint, copied);
    const panel = vscode.window.createWebviewPanel(INSPECTOR_VIEW_TYPE, 'HRM: restored', { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, { enableScripts: true });
    try {
      await api().panels.serializer().deserializeWebviewPanel(panel, { trace: { ...toInspectorTrace(receiver), checkpoint: copied }, segment: 0, showSolution: false });
      const iv = api().panels.interventions;
      assert.equal(iv.openPanel, panel, 'the restored panel is the open inspector');
      const requests: InterventionRequest[] = [{ kind: 'patch', part: 'both' }, { kind: 'lens' }, { kind: 'spectrum', atSegment: 1 }, { kind: 'kick', epsilons: [0.1] }, { kind: 'sweep', scope: 'puzzle' }];
      for (const request of requests) {
        const m = await iv.runInOpenPanel(request);
        assert.ok(m.kind === 'intervene-error', `${request.kind}: ${m.kind}`);
        assert.match(m.message, /^refused: .*copied\.safetensors.* is outside the workspace/, request.kind);
      }
      assert.equal(await vscode.commands.executeCommand(PATCH_FROM_TRAJECTORY, { puzzle: DONOR, checkpoint: receiver.checkpoint }), undefined);
      assert.match(api().refusals().at(-1) ?? '', /copied\.safetensors.* is outside the workspace/);
      assert.equal(iv.donorOfOpenPanel(), undefined);
    } finally {
      panel.dispose();
    }
  });
  test('the donor survives a window reload: the saved state\'s token brings it back, checked again; an unknown token or a closed panel\'s brings none', async function () {
    this.timeout(120_000);
    assert.ok(receiver, 'the first test inspected the receiver');
    const iv = api().panels.interventions;
    const original = iv.openPanel;
    assert.ok(original, 'the receiver\'s inspector is open');
    const donor = iv.donorOfOpenPanel();
    assert.equal(donor?.kind, 'trace', 'the receiver keeps its trajectory donor');
    const token = iv.donorTokenOf(original);
    assert.ok(token && /^[0-9a-f-]{36}$/.test(token), `a token: ${token}`);
    const restoredPanels: vscode.WebviewPanel[] = [];
    /** A panel restored from the state its webview saved (as after a reload), holding `donorToken`: the donor it gets. */
    const restore = async (donorToken: string | undefined, trace = toInspectorTrace(receiver as InspectSummary)) => {
      const panel = vscode.window.createWebviewPanel(INSPECTOR_VIEW_TYPE, 'HRM: restored', { viewColumn: vscode.ViewColumn.Active, preserveFocus: true }, { enableScripts: true });
      restoredPanels.push(panel);
      const state: InspectorState = { trace, segment: 0, showSolution: false, interventions: { open: false, patchPart: 'both', epsilonLog: 0, sweepScope: 'puzzle', donorToken } };
      await api().panels.serializer().deserializeWebviewPanel(panel, state);
      assert.equal(iv.openPanel, panel, 'the restored panel is the open inspector');
      // Read from the panel itself: which inspector is "open" follows focus, which other panels may take meanwhile.
      return { panel, donor: iv.donorOf(panel) };
    };
    try {
      // The trajectory donor comes back, and a patch runs with it on the engine.
      const back = await restore(token);
      assert.deepEqual(back.donor, donor);
      const patch = await iv.runInOpenPanel({ kind: 'patch', part: 'both' });
      assert.ok(patch.kind === 'intervene-result' && patch.view.kind === 'patch', JSON.stringify(patch).slice(0, 300));
      assert.equal(patch.view.donor.label, donor?.label);
      assert.equal(patch.view.result.receiver.grid, receiver.segments.at(-1)?.grid);
      // The original still holds the token: the copy is kept under a token of its own.
      const second = iv.donorTokenOf(back.panel);
      assert.ok(second && second !== token);

      // A digit shift set in the restored panel comes back too; once the user closes that panel, its token brings none.
      await iv.handle(back.panel, { kind: 'intervene-donor', choice: { kind: 'relabel', shift: 1 } });
      assert.deepEqual(iv.donorOf(back.panel), { kind: 'relabel', label: 'this puzzle, digit shift +1' });
      assert.equal(iv.donorTokenOf(back.panel), second, 'one token per panel');
      assert.deepEqual((await restore(second)).donor, { kind: 'relabel', label: 'this puzzle, digit shift +1' });
      back.panel.dispose();
      assert.equal((await restore(second)).donor, undefined, 'the closed panel\'s donor is gone');

      // Checked again as when it was chosen: a restored trace whose checkpoint is outside the workspace takes no donor.
      const outside = mkdtempSync(path.join(tmpdir(), 'hrm-outside-'));
      made.push(outside);
      const copied = path.join(outside, 'copied.safetensors');
      copyFileSync(receiver.checkpoint, copied);
      assert.equal((await restore(token, { ...toInspectorTrace(receiver), checkpoint: copied })).donor, undefined);
      // An unknown token, or something that is no token, brings none (and nothing is thrown).
      assert.equal((await restore(randomUUID())).donor, undefined);
      assert.equal((await restore(receiver.checkpoint)).donor, undefined);
      assert.equal((await restore(undefined)).donor, undefined);
      // The original's donor is still kept.
      assert.deepEqual((await restore(token)).donor, donor);
    } finally {
      for (const p of restoredPanels) p.dispose();
    }
  });

  test('Kick Basins and Patch Over a Dataset with arguments return the engine\'s figures and open their reports; a file that is not a checkpoint is refused', async function () {
    this.timeout(180_000);
    const shipped = path.resolve(__dirname, '..', '..', '..', 'models', 'tiny-4x4.safetensors');
    const k = await vscode.commands.executeCommand<KickDataResult | undefined>('hrmLens.kickBasins', {
      checkpoints: [shipped, shipped], puzzles: { generate: 4, seed: 1 }, epsilons: [0.01, 1], directions: 2, pcs: 0, segments: 4, runOn: 2,
    });
    assert.ok(k, 'kicks over a dataset returned nothing (see the HRM Lens log)');
    assert.equal(k.puzzles, 4);
    assert.equal(k.comparison?.wider, 0);
    const kickDoc = vscode.window.activeTextEditor?.document;
    assert.equal(kickDoc?.uri.scheme, 'hrm-lens');
    assert.match(kickDoc?.getText() ?? '', /^# Kick basins over a dataset\n\n4 generated 4×4 puzzles \\\(seed 1\\\): 4 puzzles, 2 kicks per ε/);
    assert.match(kickDoc?.getText() ?? '', /Paired on the \d puzzles both answer correctly, models\/tiny-4x4\.safetensors's basin is \*\*wider on 0\*\*/);
    const p = await vscode.commands.executeCommand<PatchDataResult | undefined>('hrmLens.patchDataset', {
      checkpoint: shipped, source: { kind: 'relabel', perm: [2, 3, 4, 1] }, puzzles: { generate: 3, seed: 2 }, segments: 3,
    });
    assert.ok(p, 'patching over a dataset returned nothing (see the HRM Lens log)');
    assert.equal(p.puzzles, 3);
    assert.deepEqual(p.curve.map((x) => x.atSegment), [1, 2]);
    assert.match(vscode.window.activeTextEditor?.document.getText() ?? '', /^# Patching over a dataset\n\ntiny-4x4\.safetensors ← relabel 2341: 3 generated 4×4 puzzles/);
    // A safetensors file that is not an HRM Lens checkpoint is refused before the engine.
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'hrm-foreign-'));
    made.push(elsewhere);
    const foreign = path.join(elsewhere, 'bert.safetensors');
    const header = Buffer.from(JSON.stringify({ __metadata__: { format: 'pt' } }), 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(header.length));
    writeFileSync(foreign, Buffer.concat([len, header]));
    const refusals = api().refusals().length;
    assert.equal(await vscode.commands.executeCommand('hrmLens.kickBasins', { checkpoints: [shipped, foreign], puzzles: { generate: 2 } }), undefined);
    assert.equal(await vscode.commands.executeCommand('hrmLens.patchDataset', { checkpoint: shipped, source: { kind: 'trace', checkpoint: foreign }, puzzles: { generate: 2 } }), undefined);
    assert.equal(api().refusals().length, refusals + 2);
    assert.match(api().refusals().at(-1) ?? '', /bert\.safetensors is not an HRM Lens checkpoint/);
  });
});
