/**
 * The inspector's Interventions section (webview/inspector-interventions.ts runs it): a collapsible below the other
 * figures with five parts (patch, kick, spectrum, compute sweep, lens), each with its controls, a progress line with
 * Cancel, an error line, its figure and table, and its exports. Theme colours only; no inline script or style.
 */
import { EPSILON_LOG } from '../../webview/inspector-interventions-model';

interface Part { id: string; title: string; what: string; controls: string; out: string; png?: string }

const progress = (id: string): string => `<div class="iv-progress controls" id="iv-${id}-progress" hidden>
        <progress id="iv-${id}-bar" aria-label="${id} progress"></progress><span id="iv-${id}-count" class="muted"></span>
        <vscode-button id="iv-${id}-cancel" class="iv-cancel" secondary>Cancel</vscode-button></div>`;

const exports = (id: string, png?: string): string => `<div class="exports iv-exports">
        <vscode-button data-iv-export="${id}" data-format="json" secondary aria-label="save the ${id} result as JSON">JSON</vscode-button>
        <vscode-button data-iv-export="${id}" data-format="csv" secondary aria-label="save the ${id} result as CSV">CSV</vscode-button>
        ${png ? `<vscode-button data-png="${png}" secondary aria-label="save ${png} as PNG" title="save ${png} as PNG">PNG</vscode-button>` : ''}</div>`;

const table = (id: string, label: string, heads: string[]): string =>
  `<div class="iv-table"><table id="${id}" aria-label="${label}"><thead><tr>${heads.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody></tbody></table></div>`;

const PARTS: Part[] = [
  {
    id: 'patch', title: 'Patch',
    what: 'The receiver (this puzzle) runs from its initial state; after segment k its state is replaced by the donor\'s at the same segment, for every k. Where does the patched run end?',
    controls: `<span>donor: <strong id="iv-donor">none</strong></span>
        <vscode-button id="iv-donor-trajectory" secondary title="a trajectory of the Trajectories view (another puzzle or checkpoint of the same shape); or its context menu: HRM: Patch From This Trajectory">Trajectory…</vscode-button>
        <select id="iv-donor-shift" aria-label="digit shift of the relabeled donor"></select>
        <vscode-button id="iv-donor-relabel" secondary title="this puzzle under the digit shift chosen on the left">Relabeling</vscode-button>
        <vscode-button id="iv-donor-latents" secondary title="a state saved by --save-latents (safetensors or .npy): its last segment, row 0">Latents file…</vscode-button>
        <select id="iv-patch-part" aria-label="part of the state patched"><option value="both">z_H and z_L</option><option value="zH">z_H only</option><option value="zL">z_L only</option></select>
        <vscode-button id="iv-patch-run">Run patch</vscode-button>`,
    out: `<div class="chart iv-chart"><canvas id="patch-curve" role="img" aria-label="patching curve: where the patched run ends, per k"></canvas></div>
      ${table('iv-patch-table', 'patching curve', ['k', 'ends at', 'exact', 'wrong', 'E', 'mode', 'exact from'])}`,
    png: 'patch-curve',
  },
  {
    id: 'kick', title: 'Kick',
    what: 'The state after the last segment is pushed by ε‖z‖ along random and principal directions, then run on. Does it come back to the same grid?',
    controls: `<label for="iv-epsilon">largest ε</label>
        <input id="iv-epsilon" type="range" min="${EPSILON_LOG.min}" max="${EPSILON_LOG.max}" step="${EPSILON_LOG.step}" value="${EPSILON_LOG.initial}" aria-describedby="iv-epsilon-label">
        <span id="iv-epsilon-label" class="muted"></span>
        <vscode-button id="iv-kick-run">Run kicks</vscode-button>`,
    out: `<div class="chart iv-chart"><canvas id="kick-curve" role="img" aria-label="return rate against the kick size"></canvas></div>
      ${table('iv-kick-escapes', 'grids the escaped kicks ended at', ['ε', 'grid', 'kicks', 'E', 'exact'])}`,
    png: 'kick-curve',
  },
  {
    id: 'spectrum', title: 'Spectrum',
    what: 'The leading eigenvalues of the one-segment map\'s Jacobian at the state after the segment selected above: below 1 the map contracts there, above 1 it expands.',
    controls: `<span id="iv-spectrum-badge" class="badge iv-spectrum none" role="status" tabindex="0">not computed</span>
        <vscode-button id="iv-spectrum-run">Compute at this segment</vscode-button>
        <span id="iv-spectrum-others" class="muted"></span>`,
    out: `<details id="iv-spectrum-evidence" hidden><summary>evidence</summary><p id="iv-spectrum-facts" class="muted"></p>
        ${table('iv-spectrum-table', 'leading eigenvalues', ['#', 're λ', 'im λ', '|λ|', 'residual'])}</details>`,
  },
  {
    id: 'sweep', title: 'Compute sweep',
    what: 'Exact accuracy when the model runs with other H-cycle, L-cycle and segment counts than it was trained with.',
    controls: `<select id="iv-sweep-scope" aria-label="puzzles of the sweep"><option value="puzzle">this puzzle</option><option value="dataset">a dataset file</option></select>
        <vscode-button id="iv-sweep-dataset" secondary title="a dataset file (CSV or one puzzle per line, with answers): its first 100 puzzles">Dataset…</vscode-button>
        <span id="iv-sweep-dataset-name" class="muted"></span>
        <vscode-button id="iv-sweep-run">Run sweep</vscode-button>`,
    out: `<div class="chart iv-chart"><canvas id="sweep-chart" role="img" aria-label="exact accuracy against compute, one line per H and L"></canvas></div>
      ${table('iv-sweep-table', 'compute sweep', ['H', 'L', 'segments', 'compute', 'exact', 'cell', ''])}`,
    png: 'sweep-chart',
  },
  {
    id: 'lens', title: 'Lens',
    what: 'Every update inside each segment decoded through the output head: wrong cells per update. z_H is the head\'s own input; z_L read through the same head is off-distribution.',
    controls: '<vscode-button id="iv-lens-run">Run lens</vscode-button>',
    out: '<canvas id="lens-strip" role="img" aria-label="logit lens strip"></canvas>',
    png: 'lens-strip',
  },
];

export const INTERVENTIONS_STYLE = `
  #interventions { margin-top: 20px; }
  #interventions [hidden] { display: none !important; }
  .iv-body { padding: 4px 8px 8px; }
  section.iv { border-top: 1px solid var(--vscode-panel-border, #8884); padding-top: 6px; margin-top: 10px; }
  section.iv h2 { font-size: 1em; font-weight: 600; margin: 4px 0; }
  .iv-chart { height: 240px; max-width: 900px; }
  .iv-table { max-height: 220px; overflow-y: auto; margin-top: 6px; }
  .iv-table td { font-family: var(--vscode-editor-font-family); }
  .iv-error { color: var(--vscode-errorForeground); }
  .iv-progress progress { accent-color: var(--vscode-focusBorder); }
  #iv-epsilon { width: 220px; accent-color: var(--vscode-focusBorder); }
  .badge.iv-spectrum.contraction { background: var(--vscode-testing-iconPassed, #388a34); color: var(--vscode-editor-background); }
  .badge.iv-spectrum.expansion { background: var(--vscode-testing-iconFailed, #c72e0f); color: var(--vscode-editor-background); }
  .badge.iv-spectrum.marginal { background: var(--vscode-charts-yellow, #cca700); color: var(--vscode-editor-background); }
  .badge.iv-spectrum.none { color: var(--vscode-descriptionForeground); border-color: var(--vscode-panel-border, #8886); }
  body.vscode-high-contrast .badge.iv-spectrum, body.vscode-high-contrast-light .badge.iv-spectrum { background: none; color: var(--vscode-foreground); border-color: var(--vscode-contrastBorder); }
  #lens-strip { display: block; margin-top: 6px; }
  .iv-exports { margin-top: 4px; }`;

export const INTERVENTIONS_BODY = `
    <vscode-collapsible id="interventions" heading="Interventions" description="patch · kick · spectrum · compute sweep · lens">
    <div class="iv-body">
    <p class="muted">Runs on this puzzle and checkpoint in the engine; one at a time. The results stay with the panel.</p>
    ${PARTS.map((p) => `<section class="iv" id="iv-${p.id}" aria-labelledby="iv-${p.id}-h">
      <h2 id="iv-${p.id}-h">${p.title}</h2>
      <p class="muted">${p.what}</p>
      <div class="controls">${p.controls}</div>
      ${progress(p.id)}
      <p id="iv-${p.id}-error" class="iv-error" role="alert" hidden></p>
      <div id="iv-${p.id}-out" hidden><p id="iv-${p.id}-summary"></p>${p.out}${exports(p.id, p.png)}</div>
    </section>`).join('\n    ')}
    </div>
    </vscode-collapsible>`;
