/**
 * The inspector's Interventions section (its page: extension/panels/inspector-interventions-html.ts; its host:
 * extension/panels/inspector-interventions.ts): patch, kick, spectrum, compute sweep and lens on the inspected puzzle,
 * each run by the engine through the host with its progress and a Cancel button, one at a time. Results and settings
 * live in the inspector's saved state (InspectorState.interventions), so they survive a reload; a new trace keeps the
 * settings and drops the results. The donor stays on the host: the saved state keeps only the host's opaque token for
 * it (donorToken), with which the restored panel gets it back. Engine errors show in the part that asked, and the panel goes on. Each result drawn
 * is acknowledged to the host ('intervene-rendered', with the words shown), which posts it again after a reload
 * until then. For the browser test: #interventions[data-running] names the part running.
 */
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import type { HostToInspector, InspectorToHost, InspectorTrace, InterventionKind, InterventionRequest, InterventionsState, InterventionView, SweepScope } from './protocol';
import { EPSILON_LOG, epsilonText, epsilonsUpTo, keepSpectrum } from './inspector-interventions-model';
import { renderPatch } from './inspector-interventions-patch';
import { renderKick } from './inspector-interventions-kick';
import { renderSpectrum } from './inspector-interventions-spectrum';
import { renderSweep } from './inspector-interventions-sweep';
import { renderLens } from './inspector-interventions-lens';

export interface SectionHost {
  state(): InterventionsState | undefined;
  save(s: InterventionsState): void;
  trace(): InspectorTrace | undefined;
  /** The segment selected in the inspector, 0-based. */
  segment(): number;
  post(m: InspectorToHost): void;
}

const KINDS: InterventionKind[] = ['patch', 'kick', 'spectrum', 'sweep', 'lens'];

export const defaultInterventions = (): InterventionsState => ({ open: false, patchPart: 'both', epsilonLog: EPSILON_LOG.initial, sweepScope: 'puzzle' });

/** A new trace: the settings and the donor's token stay (the host keeps the donor), the results (of the old trace) go. */
export function interventionsForNewTrace(s: InterventionsState | undefined): InterventionsState {
  const d = { ...defaultInterventions(), ...s };
  return { open: d.open, patchPart: d.patchPart, epsilonLog: d.epsilonLog, sweepScope: d.sweepScope, ...(d.donorToken ? { donorToken: d.donorToken } : {}) };
}

const byId = <T extends HTMLElement>(id: string): T => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`the inspector page has no #${id}`);
  return e as T;
};

export class InterventionsSection {
  private running: InterventionKind | undefined;
  private exporting: InterventionKind | undefined;
  private readonly root = byId<HTMLElement & { open: boolean }>('interventions');

  constructor(private readonly host: SectionHost) {
    this.root.addEventListener('vsc-collapsible-toggle', () => {
      this.update({ open: this.root.open });
      if (this.root.open) this.render();
    });
    for (const k of KINDS) {
      byId(`iv-${k}-run`).addEventListener('click', () => this.run(k));
      byId(`iv-${k}-cancel`).addEventListener('click', () => this.host.post({ kind: 'intervene-cancel' }));
    }
    byId('iv-donor-trajectory').addEventListener('click', () => this.host.post({ kind: 'intervene-donor', choice: { kind: 'trajectory' } }));
    byId('iv-donor-latents').addEventListener('click', () => this.host.post({ kind: 'intervene-donor', choice: { kind: 'latents' } }));
    byId('iv-donor-relabel').addEventListener('click', () => {
      const shift = Number(byId<HTMLSelectElement>('iv-donor-shift').value);
      if (shift >= 1) this.host.post({ kind: 'intervene-donor', choice: { kind: 'relabel', shift } });
    });
    byId<HTMLSelectElement>('iv-patch-part').addEventListener('change', (e) => {
      const v = (e.target as HTMLSelectElement).value;
      this.update({ patchPart: v === 'zH' || v === 'zL' ? v : 'both' });
    });
    byId<HTMLInputElement>('iv-epsilon').addEventListener('input', (e) => {
      this.update({ epsilonLog: Number((e.target as HTMLInputElement).value) });
      this.showEpsilon();
    });
    byId<HTMLSelectElement>('iv-sweep-scope').addEventListener('change', (e) => {
      const scope: SweepScope = (e.target as HTMLSelectElement).value === 'dataset' ? 'dataset' : 'puzzle';
      this.update({ sweepScope: scope });
    });
    byId('iv-sweep-dataset').addEventListener('click', () => this.host.post({ kind: 'intervene-dataset' }));
    this.root.addEventListener('click', (e) => {
      const b = (e.target as HTMLElement).closest<HTMLElement>('[data-iv-export]');
      if (b) this.export(b.dataset.ivExport as InterventionKind, b.dataset.format === 'csv' ? 'csv' : 'json');
    });
  }

  private get state(): InterventionsState {
    return { ...defaultInterventions(), ...this.host.state() };
  }

  private update(patch: Partial<InterventionsState>): void {
    this.host.save({ ...this.state, ...patch });
  }

  /** Everything from the saved state: the settings' controls and every result kept. */
  render(): void {
    const s = this.state;
    this.root.open = s.open;
    byId<HTMLSelectElement>('iv-patch-part').value = s.patchPart;
    byId<HTMLInputElement>('iv-epsilon').value = String(s.epsilonLog);
    byId<HTMLSelectElement>('iv-sweep-scope').value = s.sweepScope;
    this.showEpsilon();
    const trace = this.host.trace();
    const n = trace ? Math.round(Math.sqrt(trace.puzzle.length)) : 0;
    const shifts = byId<HTMLSelectElement>('iv-donor-shift');
    if (shifts.options.length !== Math.max(0, n - 1)) {
      shifts.replaceChildren(...Array.from({ length: Math.max(0, n - 1) }, (_, i) => Object.assign(document.createElement('option'), { value: String(i + 1), textContent: `digit shift +${i + 1}` })));
    }
    for (const k of KINDS) this.draw(k);
  }

  /** The segment selected changed: the spectrum badge and the lens strip follow. */
  setSegment(): void {
    this.draw('spectrum');
    this.draw('lens');
  }

  /** Draw the figures again (the theme changed). */
  redraw(): void {
    for (const k of KINDS) this.draw(k);
  }

  /** Handles the section's messages; false for the others. */
  onMessage(m: HostToInspector): boolean {
    switch (m.kind) {
      case 'intervene-progress':
        this.busy(m.what);
        byId<HTMLProgressElement>(`iv-${m.what}-bar`).max = Math.max(1, m.total);
        byId<HTMLProgressElement>(`iv-${m.what}-bar`).value = Math.min(m.done, m.total);
        byId(`iv-${m.what}-count`).textContent = `${m.done} / ${m.total}`;
        return true;
      case 'intervene-result':
        this.store(m.view);
        this.idle();
        this.error(m.view.kind, '');
        this.host.post({ kind: 'intervene-rendered', what: m.view.kind, summary: this.draw(m.view.kind) });
        return true;
      case 'intervene-error':
        this.idle();
        this.error(m.what, m.message);
        this.host.post({ kind: 'intervene-rendered', what: m.what, summary: `error: ${m.message}` });
        return true;
      case 'intervene-donor':
        byId('iv-donor').textContent = m.donor ? m.donor.label : 'none';
        byId('iv-donor').dataset.kind = m.donor?.kind ?? '';
        if (typeof m.token === 'string' && m.token !== this.state.donorToken) this.update({ donorToken: m.token });
        return true;
      case 'intervene-dataset':
        byId('iv-sweep-dataset-name').textContent = m.name ?? '';
        if (m.name) {
          this.update({ sweepScope: 'dataset' });
          byId<HTMLSelectElement>('iv-sweep-scope').value = 'dataset';
        }
        return true;
      case 'exported':
        // Also shown at the top of the panel (inspector.main.ts): here, next to the buttons pressed.
        if (this.exporting) this.note(this.exporting, m.message);
        this.exporting = undefined;
        return false;
      default:
        return false;
    }
  }

  private run(k: InterventionKind): void {
    const trace = this.host.trace();
    if (!trace || this.running) return;
    const s = this.state;
    const request: InterventionRequest = k === 'patch' ? { kind: k, part: s.patchPart }
      : k === 'kick' ? { kind: k, epsilons: epsilonsUpTo(s.epsilonLog) }
        : k === 'spectrum' ? { kind: k, atSegment: this.host.segment() + 1 }
          : k === 'sweep' ? { kind: k, scope: s.sweepScope }
            : { kind: k };
    this.error(k, '');
    this.busy(k);
    byId(`iv-${k}-count`).textContent = 'starting…';
    byId<HTMLProgressElement>(`iv-${k}-bar`).removeAttribute('value');
    this.host.post({ kind: 'intervene-run', request });
  }

  private busy(k: InterventionKind): void {
    this.running = k;
    this.root.dataset.running = k;
    for (const x of KINDS) {
      byId(`iv-${x}-run`).toggleAttribute('disabled', true);
      byId(`iv-${x}-progress`).hidden = x !== k;
    }
  }

  private idle(): void {
    this.running = undefined;
    delete this.root.dataset.running;
    for (const x of KINDS) {
      byId(`iv-${x}-run`).toggleAttribute('disabled', false);
      byId(`iv-${x}-progress`).hidden = true;
    }
  }

  private error(k: InterventionKind, message: string): void {
    const e = byId(`iv-${k}-error`);
    e.textContent = message;
    e.hidden = message === '';
  }

  private note(k: InterventionKind, message: string): void {
    const out = byId(`iv-${k}-out`);
    let span = out.querySelector<HTMLElement>('.iv-exported');
    if (!span) {
      span = Object.assign(document.createElement('span'), { className: 'iv-exported muted' });
      span.setAttribute('aria-live', 'polite');
      out.querySelector('.iv-exports')?.append(span);
    }
    span.textContent = message;
  }

  /** Keep a result in the saved state. */
  private store(v: InterventionView): void {
    const trace = this.host.trace();
    switch (v.kind) {
      case 'patch': this.update({ patch: v }); break;
      case 'kick': this.update({ kick: v.result }); break;
      case 'spectrum': this.update({ spectra: keepSpectrum(this.state.spectra, v.result, trace?.segments.length ?? v.result.atSegment) }); break;
      case 'sweep': this.update({ sweep: v }); break;
      case 'lens': this.update({ lens: v.result }); break;
    }
  }

  /** Draws part `k` from the saved state; answers the words it shows ('' when it has nothing). */
  private draw(k: InterventionKind): string {
    const s = this.state;
    const out = byId(`iv-${k}-out`);
    const summary = byId(`iv-${k}-summary`);
    const segment = this.host.segment() + 1;
    let text = '';
    if (k === 'patch' && s.patch) text = renderPatch({ summary, canvas: byId('patch-curve'), table: byId('iv-patch-table') }, s.patch);
    else if (k === 'kick' && s.kick) text = renderKick({ summary, canvas: byId('kick-curve'), escapes: byId('iv-kick-escapes') }, s.kick);
    else if (k === 'sweep' && s.sweep) text = renderSweep({ summary, canvas: byId('sweep-chart'), table: byId('iv-sweep-table') }, s.sweep);
    else if (k === 'lens' && s.lens) text = renderLens({ summary, canvas: byId('lens-strip') }, s.lens, segment);
    else if (k === 'spectrum') {
      text = renderSpectrum({ badge: byId('iv-spectrum-badge'), evidence: byId('iv-spectrum-evidence'), facts: byId('iv-spectrum-facts'), table: byId('iv-spectrum-table'), others: byId('iv-spectrum-others') },
        s.spectra ?? [], segment);
      out.hidden = !(s.spectra ?? []).some((x) => x.atSegment === segment);
      return text;
    }
    out.hidden = text === '';
    return text;
  }

  private showEpsilon(): void {
    const e = epsilonsUpTo(this.state.epsilonLog);
    const label = `ε up to ${epsilonText(e[e.length - 1])} (${e.length} sizes from ${epsilonText(e[0])})`;
    byId('iv-epsilon-label').textContent = label;
    byId('iv-epsilon').setAttribute('aria-valuetext', label);
  }

  private export(k: InterventionKind, format: 'json' | 'csv'): void {
    const s = this.state;
    const spectrum = s.spectra?.find((x) => x.atSegment === this.host.segment() + 1);
    const view: InterventionView | undefined = k === 'patch' ? s.patch : k === 'sweep' ? s.sweep
      : k === 'kick' && s.kick ? { kind: k, result: s.kick } : k === 'lens' && s.lens ? { kind: k, result: s.lens }
        : k === 'spectrum' && spectrum ? { kind: k, result: spectrum } : undefined;
    if (!view) { this.note(k, 'nothing computed yet'); return; }
    this.exporting = k;
    this.host.post({ kind: 'intervene-export', format, view });
  }
}
