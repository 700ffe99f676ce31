/**
 * The host side of the inspector's Interventions section (webview/inspector-interventions.ts): relays the section's
 * requests to the engine's `intervene.*` methods (engine/intervene/intervene-protocol.ts) on the panel's own puzzle
 * and checkpoint, one at a time per panel, streaming progress and cancelling on Cancel or when the panel closes;
 * keeps each panel's patch donor (a trajectory of the Trajectories view, the puzzle under a digit shift, or a
 * latents file picked in a dialog) and its sweep dataset (a dialog); saves the exports through a save dialog. The
 * webview names no file: donors and datasets are chosen on the host, and a restored trace's checkpoint passes the
 * panel's own check (webview-paths.ts) first.
 *
 * A result or error is kept until the webview acknowledges it ('intervene-rendered'): a webview hidden meanwhile is
 * not kept alive, so it gets them again with its 'ready'.
 *
 * "HRM: Patch From This Trajectory" (hrmLens.patchFromTrajectory; the Trajectories view's context menu, or the palette
 * with a pick) sets the donor of the open inspector.
 *
 * The donor survives a window reload without the webview naming a file: each panel has an opaque random token
 * (crypto.randomUUID), posted with every 'intervene-donor' message and kept in the webview's saved state
 * (InterventionsState.donorToken), which is what the panel serializer gets back. How the donor was chosen (the
 * trajectory's puzzle and checkpoint, the digit shift, the latents file) is kept on the host, in the workspace's
 * Memento under that token (inspector-donor-store.ts). A restored panel looks its token up and chooses the donor again
 * as the user did, with the same checks (the trajectory's against the panel's trace and
 * workspaceCheckpointRefusal, the latents file's workspaceCheckpointRefusal); an unknown token or a refused file: no
 * donor. The token names no file: the worst a forged one does is name another panel's donor, checked the same way.
 * The webview's state is the carrier because it is the only thing a WebviewPanelSerializer is given. An entry goes
 * when the user closes its panel (onDidDispose; not when the extension is deactivated, as on a reload), and the
 * Memento keeps the newest MAX_DONOR_RECORDS.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { PatchSource } from '../../engine/intervene/intervene-protocol';
import { isCancelled } from '../../engine/protocol';
import { boundedMessage } from '../../engine/util/errors';
import type { HostToIntervention, InspectorToHost, InspectorTrace, InterventionKind, InterventionRequest, InterventionToHost, InterventionView, PatchDonor } from '../../webview/protocol';
import type { EngineClient } from '../engine/engine-client';
import { workspaceCheckpointRefusal } from '../commands/checkpoints';
import { refuse } from '../commands/refusals';
import type { TrajectoryEntry, TrajectoryStore } from '../views/trajectory-store';
import { exportStem, saveExport } from './trace-export';
import { interventionCsv, interventionJson, interventionStem } from './inspector-interventions-export';
import { SWEEP_DATASET_COUNT, requestProblem, shiftPerm } from './inspector-interventions-requests';
import { DonorStore, type DonorRecordChoice } from './inspector-donor-store';
import { torchRequest } from '../settings';

/** The checkpoint the engine may be given for a panel's trace, or why none. */
export type TargetCheck = (panel: vscode.WebviewPanel, trace: InspectorTrace) => Promise<{ ok: true; checkpoint: string } | { ok: false; reason: string }>;

export const PATCH_FROM_TRAJECTORY = 'hrmLens.patchFromTrajectory';

const KINDS: readonly InterventionKind[] = ['patch', 'kick', 'spectrum', 'sweep', 'lens'];

/** A patch donor: what the engine is given, what the section shows, and how it was chosen (kept for a reload). */
interface Donor { source: PatchSource; shown: PatchDonor; checkpoint?: string; choice: DonorRecordChoice }

interface PanelInterventions {
  /** The key of the panel's donor in the Memento (the only thing of it the webview keeps). */
  token: string;
  /** The webview said 'ready': messages reach it. */
  ready?: boolean;
  cancel?: vscode.CancellationTokenSource;
  running?: InterventionKind;
  lastProgress?: HostToIntervention;
  donor?: Donor;
  dataset?: string;
  /** Results and errors not yet acknowledged by the webview. */
  unacked: Map<InterventionKind, HostToIntervention>;
}

export function isInterventionMessage(m: InspectorToHost): m is InterventionToHost {
  return typeof m?.kind === 'string' && m.kind.startsWith('intervene-');
}

const short = (p: string): string => (p.length > 12 ? `${p.slice(0, 12)}…` : p);
const base = (f: string): string => path.basename(f).replace(/\.safetensors$/, '');

export class InspectorInterventions implements vscode.Disposable {
  private readonly state = new Map<vscode.WebviewPanel, PanelInterventions>();
  private current: vscode.WebviewPanel | undefined;
  private readonly donors: DonorStore;
  /** Deactivated: panels disposed from now on are not closed by the user (a reload), their donors stay kept. */
  private disposed = false;
  /** What the webviews acknowledged having drawn (newest last, at most 100): for the in-host test. */
  readonly rendered: { what: InterventionKind; summary: string }[] = [];

  constructor(private readonly engine: EngineClient, private readonly trajectories: TrajectoryStore,
    private readonly traceOf: (panel: vscode.WebviewPanel) => InspectorTrace | undefined, private readonly target: TargetCheck,
    memento: vscode.Memento) {
    this.donors = new DonorStore(memento);
  }

  private of(panel: vscode.WebviewPanel): PanelInterventions {
    let s = this.state.get(panel);
    if (!s) {
      s = { token: randomUUID(), unacked: new Map() };
      this.state.set(panel, s);
    }
    return s;
  }

  /** Follows a panel: the one active last is "the open inspector"; closing it cancels its request. */
  attach(panel: vscode.WebviewPanel): void {
    this.of(panel);
    this.current = panel;
    panel.onDidChangeViewState((e) => { if (e.webviewPanel.active) this.current = panel; });
    panel.onDidDispose(() => {
      const s = this.state.get(panel);
      s?.cancel?.cancel();
      // Closed by the user: its donor is not needed again.
      if (s && !this.disposed) void this.donors.set(s.token, undefined);
      this.state.delete(panel);
      if (this.current === panel) this.current = [...this.state.keys()].at(-1);
    });
  }

  /** `panel` was shown (revealed or opened): it is the open inspector. */
  focus(panel: vscode.WebviewPanel): void {
    if (this.state.has(panel)) this.current = panel;
  }

  /** The inspector a donor goes to: the one active last. */
  get openPanel(): vscode.WebviewPanel | undefined {
    return this.current;
  }

  /** The panel shows another trace now: what runs for the old one stops, and its unacknowledged results go. */
  traceChanged(panel: vscode.WebviewPanel): void {
    const s = this.state.get(panel);
    s?.cancel?.cancel();
    s?.unacked.clear();
  }

  /** The webview (re)loaded: its donor, its dataset, the request running and what it has not acknowledged. */
  ready(panel: vscode.WebviewPanel): void {
    const s = this.of(panel);
    s.ready = true;
    const post = (m: HostToIntervention) => void panel.webview.postMessage(m);
    post({ kind: 'intervene-donor', donor: s.donor?.shown ?? null, token: s.token });
    post({ kind: 'intervene-dataset', name: s.dataset ? path.basename(s.dataset) : null });
    if (s.running && s.lastProgress) post(s.lastProgress);
    for (const m of s.unacked.values()) post(m);
  }

  /** A message of the section. */
  async handle(panel: vscode.WebviewPanel, m: InterventionToHost): Promise<void> {
    const s = this.of(panel);
    switch (m.kind) {
      case 'intervene-run':
        await this.run(panel, m.request);
        return;
      case 'intervene-cancel':
        s.cancel?.cancel();
        return;
      case 'intervene-donor': {
        const c = m.choice;
        if (c?.kind === 'trajectory') await this.pickTrajectoryDonor(panel);
        else if (c?.kind === 'relabel') {
          const donor = this.relabelDonor(panel, c.shift);
          if (donor) this.setDonor(panel, donor);
        }
        else if (c?.kind === 'latents') await this.pickLatentsDonor(panel);
        return;
      }
      case 'intervene-dataset': {
        const picked = await vscode.window.showOpenDialog({
          canSelectMany: false, openLabel: 'Sweep on this dataset', title: 'HRM: compute sweep — a dataset (CSV or one puzzle per line, with answers)',
          filters: { 'Puzzles': ['csv', 'txt'], 'All files': ['*'] },
        });
        if (picked?.[0]) s.dataset = picked[0].fsPath;
        void panel.webview.postMessage({ kind: 'intervene-dataset', name: s.dataset ? path.basename(s.dataset) : null } satisfies HostToIntervention);
        return;
      }
      case 'intervene-export':
        await this.export(panel, m.view, m.format);
        return;
      case 'intervene-rendered':
        if (KINDS.includes(m.what)) s.unacked.delete(m.what);
        this.rendered.push({ what: m.what, summary: String(m.summary).slice(0, 500) });
        if (this.rendered.length > 100) this.rendered.shift();
        return;
    }
  }

  /**
   * Runs `request` for the panel's trace, posting progress and then the result or the error to its webview; answers
   * that last message. One at a time per panel: a second request while one runs is answered with an error.
   */
  async run(panel: vscode.WebviewPanel, request: InterventionRequest): Promise<HostToIntervention> {
    const s = this.of(panel);
    const what: InterventionKind = KINDS.includes(request?.kind) ? request.kind : 'patch';
    const send = (m: HostToIntervention): void => {
      try {
        void panel.webview.postMessage(m);
      } catch {
        // The panel was closed meanwhile: nobody to tell.
      }
    };
    const post = (m: HostToIntervention): HostToIntervention => {
      if (m.kind === 'intervene-result' || m.kind === 'intervene-error') s.unacked.set(what, m);
      send(m);
      return m;
    };
    const fail = (message: string) => post({ kind: 'intervene-error', what, message });
    if (s.running) return fail(`${s.running} is running: cancel it first`);
    const trace = this.traceOf(panel);
    if (!trace) return fail('the panel shows no trace');
    const problem = requestProblem(request, trace);
    if (problem) return fail(problem);
    // Taken before the first await: a second request that arrives meanwhile is refused above.
    const cancel = new vscode.CancellationTokenSource();
    s.cancel = cancel;
    s.running = what;
    s.unacked.delete(what);
    try {
      const checked = await this.target(panel, trace);
      if (!checked.ok) return fail(`refused: ${checked.reason}`);
      if (request.kind === 'patch' && !s.donor) return fail('no donor: pick a trajectory, a relabeling or a latents file first');
      if (request.kind === 'sweep' && request.scope === 'dataset' && !s.dataset) return fail('no dataset: pick a dataset file first (Dataset…)');
      const onProgress = (e: { done: number; total: number }) => {
        s.lastProgress = { kind: 'intervene-progress', what, done: e.done, total: e.total };
        send(s.lastProgress);
      };
      const view = await this.request(request, trace, checked.checkpoint, s, { token: cancel.token, onProgress });
      // The panel shows another trace by now (a new inspection of its puzzle): not this result's.
      const now = this.traceOf(panel);
      if (!now || now.checkpoint !== trace.checkpoint || now.puzzle !== trace.puzzle || now.segments.length !== trace.segments.length) {
        return fail('not shown: the panel shows another inspection now');
      }
      return post({ kind: 'intervene-result', view });
    } catch (e) {
      return fail(isCancelled(e) ? 'cancelled' : `${what} failed: ${boundedMessage(e)}`);
    } finally {
      cancel.dispose();
      if (s.cancel === cancel) s.cancel = undefined;
      s.running = undefined;
      s.lastProgress = undefined;
    }
  }

  private async request(r: InterventionRequest, trace: InspectorTrace, checkpoint: string, s: PanelInterventions,
    options: { token: vscode.CancellationToken; onProgress: (e: { done: number; total: number }) => void }): Promise<InterventionView> {
    const { puzzle } = trace;
    const segments = trace.segments.length;
    switch (r.kind) {
      case 'patch': {
        const donor = s.donor;
        if (!donor) throw new Error('no donor');
        const result = await this.engine.request('intervene.patch', { checkpoint, puzzle, source: donor.source, part: r.part, segments, ...torchRequest() }, options);
        return { kind: 'patch', result, donor: donor.shown };
      }
      case 'kick':
        return { kind: 'kick', result: await this.engine.request('intervene.kick', { checkpoint, puzzle, segments, epsilons: [...r.epsilons], ...torchRequest() }, options) };
      case 'spectrum':
        return { kind: 'spectrum', result: await this.engine.request('intervene.spectrum', { checkpoint, puzzle, atSegment: r.atSegment }, options) };
      case 'sweep': {
        const dataset = r.scope === 'dataset' ? s.dataset : undefined;
        const params = dataset ? { checkpoint, data: dataset, count: SWEEP_DATASET_COUNT } : { checkpoint, puzzles: [trace.solution ? `${puzzle},${trace.solution}` : puzzle] };
        const result = await this.engine.request('intervene.sweep', params, options);
        return { kind: 'sweep', result, scope: dataset ? 'dataset' : 'puzzle', dataset: dataset ? path.basename(dataset) : null };
      }
      case 'lens':
        return { kind: 'lens', result: await this.engine.request('intervene.lens', { checkpoint, puzzle, segments }, options) };
    }
  }

  // ------------------------------------------------------------------------------------------------ donors

  /** Makes `donor` the panel's, keeps how it was chosen for a reload, and tells the webview (once it is ready). */
  private setDonor(panel: vscode.WebviewPanel, donor: Donor): void {
    const s = this.of(panel);
    s.donor = donor;
    void this.donors.set(s.token, donor.choice);
    if (s.ready) void panel.webview.postMessage({ kind: 'intervene-donor', donor: donor.shown, token: s.token } satisfies HostToIntervention);
  }

  /** The puzzle under the cyclic digit shift +`shift` (perm[d − 1] = d + shift, mod n); undefined when out of range. */
  private relabelDonor(panel: vscode.WebviewPanel, shift: number): Donor | undefined {
    const trace = this.traceOf(panel);
    const perm = trace ? shiftPerm(Math.round(Math.sqrt(trace.puzzle.length)), shift) : undefined;
    return perm ? { source: { kind: 'relabel', perm }, shown: { kind: 'relabel', label: `this puzzle, digit shift +${shift}` }, choice: { kind: 'relabel', shift } } : undefined;
  }

  /** The latents file `file` as a donor, or why not. */
  private latentsDonor(file: string): Donor | { refused: string } {
    // Parsed by the engine like a checkpoint (safetensors or .npy): from the workspace only when it is trusted.
    if (workspaceCheckpointRefusal(file)) {
      return { refused: 'HRM: HRM Lens reads a latents file from the workspace only when the workspace is trusted (like a checkpoint, it is input to the engine process). Trust the workspace to continue.' };
    }
    return { source: { kind: 'latents', file }, shown: { kind: 'latents', label: `latents ${path.basename(file)} (last segment, row 0)` }, choice: { kind: 'latents', file } };
  }

  private async pickLatentsDonor(panel: vscode.WebviewPanel): Promise<void> {
    const picked = await vscode.window.showOpenDialog({
      canSelectMany: false, openLabel: 'Patch from this state', title: 'HRM: patch donor — latents saved by --save-latents (its last segment, row 0)',
      filters: { 'Latents': ['safetensors', 'npy'], 'All files': ['*'] },
    });
    const file = picked?.[0]?.fsPath;
    if (!file) return;
    const donor = this.latentsDonor(file);
    if ('refused' in donor) refuse(donor.refused);
    else this.setDonor(panel, donor);
  }

  /** The trajectories that can be the donor of `trace`: the same grid size, not the trace itself. */
  donorCandidates(trace: InspectorTrace, checkpoint: string): TrajectoryEntry[] {
    return this.trajectories.entries().filter((e) => e.puzzle.length === trace.puzzle.length && !(e.puzzle === trace.puzzle && e.checkpoint === checkpoint));
  }

  private async pickTrajectoryDonor(panel: vscode.WebviewPanel): Promise<void> {
    const trace = this.traceOf(panel);
    if (!trace) return;
    const entries = this.donorCandidates(trace, trace.checkpoint);
    if (entries.length === 0) {
      void vscode.window.showInformationMessage('HRM: no other trajectory of this grid size yet: inspect another puzzle (or this one with another checkpoint of the same shape) first.');
      return;
    }
    const pick = await vscode.window.showQuickPick(entries.map((e) => ({ label: e.puzzle, description: `${base(e.checkpoint)} · ${e.mode.replace(/-/g, ' ')}`, entry: e })),
      { title: 'HRM: patch donor — a trajectory of the Trajectories view', matchOnDescription: true });
    if (pick) await this.setTrajectoryDonor(panel, pick.entry);
  }

  /** Makes the trajectory `entry` the donor of `panel`; answers why not, or undefined when it did. */
  async setTrajectoryDonor(panel: vscode.WebviewPanel, entry: Pick<TrajectoryEntry, 'puzzle' | 'checkpoint'>): Promise<string | undefined> {
    const donor = await this.trajectoryDonor(panel, entry);
    if (typeof donor === 'string') return donor;
    this.setDonor(panel, donor);
    return undefined;
  }

  /** The trajectory `entry` as the donor of `panel`, or why not. */
  private async trajectoryDonor(panel: vscode.WebviewPanel, entry: Pick<TrajectoryEntry, 'puzzle' | 'checkpoint'>): Promise<Donor | string> {
    const trace = this.traceOf(panel);
    if (!trace) return 'the open inspector shows no trace';
    if (entry.puzzle.length !== trace.puzzle.length) return `the trajectory is a ${Math.round(Math.sqrt(entry.puzzle.length))}×${Math.round(Math.sqrt(entry.puzzle.length))} puzzle and the inspected one is ${Math.round(Math.sqrt(trace.puzzle.length))}×${Math.round(Math.sqrt(trace.puzzle.length))}`;
    const checked = await this.target(panel, trace);
    if (!checked.ok) return checked.reason;
    if (entry.puzzle === trace.puzzle && entry.checkpoint === checked.checkpoint) return 'that is the inspected trajectory itself: pick another puzzle or checkpoint';
    const untrusted = workspaceCheckpointRefusal(entry.checkpoint);
    if (untrusted) return untrusted;
    const source: PatchSource = { kind: 'trace', ...(entry.checkpoint !== checked.checkpoint ? { checkpoint: entry.checkpoint } : {}), ...(entry.puzzle !== trace.puzzle ? { puzzle: entry.puzzle } : {}) };
    const label = `trajectory ${short(entry.puzzle)} · ${base(entry.checkpoint)}`;
    return { source, shown: { kind: 'trace', label }, checkpoint: entry.checkpoint, choice: { kind: 'trace', puzzle: entry.puzzle, checkpoint: entry.checkpoint } };
  }

  /**
   * A panel restored after a reload: `token` (from the webview's saved state) is looked up in the Memento and the
   * donor kept under it is chosen again with the checks of the first time. Unknown, malformed or refused: no donor
   * (a refused one is forgotten). The panel keeps the token when no other open panel holds it.
   */
  async restoreDonor(panel: vscode.WebviewPanel, token: unknown): Promise<void> {
    const s = this.of(panel);
    const choice = this.donors.get(token);
    if (!choice || typeof token !== 'string') return;
    const held = [...this.state.entries()].some(([p, o]) => p !== panel && o.token === token);
    if (!held) s.token = token;
    let donor: Donor | string | { refused: string } | undefined;
    try {
      donor = choice.kind === 'trace' ? await this.trajectoryDonor(panel, choice)
        : choice.kind === 'relabel' ? this.relabelDonor(panel, choice.shift)
          : this.latentsDonor(choice.file);
    } catch {
      donor = undefined;
    }
    // Closed meanwhile, or given a donor by the user meanwhile: that one stands.
    if (this.state.get(panel) !== s || s.donor) return;
    if (donor && typeof donor !== 'string' && !('refused' in donor)) this.setDonor(panel, donor);
    else if (!held) void this.donors.set(s.token, undefined);
  }

  // ------------------------------------------------------------------------------------------------ exports

  private async export(panel: vscode.WebviewPanel, view: InterventionView, format: 'json' | 'csv'): Promise<void> {
    const trace = this.traceOf(panel);
    let message: string;
    try {
      const text = format === 'csv' ? interventionCsv(view) : interventionJson(view);
      const name = `${trace ? exportStem(trace) : 'inspector'}-${interventionStem(view)}.${format}`;
      message = await saveExport(name, new TextEncoder().encode(text), format === 'csv' ? { CSV: ['csv'] } : { JSON: ['json'] });
    } catch (e) {
      message = `not saved: ${boundedMessage(e)}`;
    }
    void panel.webview.postMessage({ kind: 'exported', message });
  }

  // ------------------------------------------------------------------------------------------------ in-host test

  /** Runs `request` in the open inspector as its button does; answers the last message posted to it. */
  async runInOpenPanel(request: InterventionRequest): Promise<HostToIntervention> {
    if (!this.current) throw new Error('no inspector panel');
    return this.run(this.current, request);
  }

  /** The donor of the open inspector, as its section shows it. */
  donorOfOpenPanel(): PatchDonor | undefined {
    return this.current ? this.donorOf(this.current) : undefined;
  }

  /** The donor of `panel`, as its section shows it. */
  donorOf(panel: vscode.WebviewPanel): PatchDonor | undefined {
    return this.state.get(panel)?.donor?.shown;
  }

  /** The token `panel`'s webview keeps in its saved state for its donor. */
  donorTokenOf(panel: vscode.WebviewPanel): string | undefined {
    return this.state.get(panel)?.token;
  }

  dispose(): void {
    this.disposed = true;
    for (const s of this.state.values()) s.cancel?.cancel();
    this.state.clear();
  }
}

/** What the command receives: a trajectory ({ puzzle, checkpoint }, e.g. the Trajectories view's context menu), or nothing (a pick). */
interface PatchFromArgs { puzzle?: unknown; checkpoint?: unknown }

/**
 * "HRM: Patch From This Trajectory": the trajectory named by the arguments (it must be one the Trajectories view
 * lists: a webview names no file) or picked, as the donor of the open inspector. Answers the donor's label, or
 * undefined when none was set (refused: the reason is shown).
 */
export function registerPatchFromTrajectory(interventions: InspectorInterventions, trajectories: TrajectoryStore,
  traceOf: (panel: vscode.WebviewPanel) => InspectorTrace | undefined): vscode.Disposable {
  return vscode.commands.registerCommand(PATCH_FROM_TRAJECTORY, async (args?: PatchFromArgs): Promise<string | undefined> => {
    const panel = interventions.openPanel;
    const trace = panel && traceOf(panel);
    if (!panel || !trace) return refuse('HRM: Patch From This Trajectory: open an inspector first (HRM: Inspect Puzzle): the trajectory becomes the donor of its patch.');
    let entry: TrajectoryEntry | undefined;
    if (args && typeof args === 'object' && (args.puzzle !== undefined || args.checkpoint !== undefined)) {
      entry = trajectories.entries().find((e) => e.puzzle === args.puzzle && e.checkpoint === args.checkpoint);
      if (!entry) return refuse('HRM: Patch From This Trajectory: that trajectory is not in the Trajectories view (inspect it first).');
    } else {
      const candidates = interventions.donorCandidates(trace, trace.checkpoint);
      if (candidates.length === 0) return refuse('HRM: Patch From This Trajectory: no other trajectory of this grid size yet: inspect another puzzle first.');
      const pick = await vscode.window.showQuickPick(candidates.map((e) => ({ label: e.puzzle, description: `${base(e.checkpoint)} · ${e.mode.replace(/-/g, ' ')}`, entry: e })),
        { title: 'HRM: Patch From This Trajectory — the donor of the open inspector', matchOnDescription: true });
      entry = pick?.entry;
      if (!entry) return undefined;
    }
    const why = await interventions.setTrajectoryDonor(panel, entry);
    if (why) return refuse(`HRM: Patch From This Trajectory: ${why}.`);
    panel.reveal(undefined, true);
    return interventions.donorOfOpenPanel()?.label;
  });
}
