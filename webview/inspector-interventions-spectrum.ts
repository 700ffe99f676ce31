/**
 * The spectrum badge: the spectral radius of the one-segment map's Jacobian at the state after the segment selected
 * in the inspector (coloured: below 1 a contraction, above 1 an expansion), its evidence on hover (title) and in an
 * expandable list (the leading eigenvalues with their residuals, iterations, convergence, the fixed-point residual).
 */
import type { SpectrumResult } from './protocol';
import { spectrumBadgeText, spectrumClass } from './inspector-interventions-model';
import { fillTable, outcomeText } from './inspector-interventions-table';

export interface SpectrumElements { badge: HTMLElement; evidence: HTMLDetailsElement; facts: HTMLElement; table: HTMLTableElement; others: HTMLElement }

/** Shows the spectrum at `segment` (1-based) if one was computed there; answers the badge's words. */
export function renderSpectrum(el: SpectrumElements, spectra: readonly SpectrumResult[], segment: number): string {
  const s = spectra.find((x) => x.atSegment === segment);
  const elsewhere = spectra.filter((x) => x.atSegment !== segment).map((x) => `${x.atSegment} (ρ ${x.spectralRadius.toPrecision(4)})`);
  el.others.textContent = elsewhere.length ? `also computed at segment ${elsewhere.join(', ')}` : '';
  if (!s) {
    el.badge.textContent = `not computed at segment ${segment}`;
    el.badge.className = 'badge iv-spectrum none';
    el.badge.title = 'Compute runs the engine at the segment selected above';
    delete el.badge.dataset.radius;
    el.evidence.hidden = true;
    return el.badge.textContent;
  }
  const text = spectrumBadgeText(s);
  const facts = [
    `|λ₁| = ${s.spectralRadius.toPrecision(6)} (${spectrumClass(s.spectralRadius)})`, `state dimension ${s.dimension}, part ${s.part}`,
    `${s.iterations} iterations, ${s.converged ? 'converged' : 'not converged'} (tolerance ${s.tolerance})`,
    `fixed-point residual ‖F(z) − z‖ / ‖z‖ = ${s.fixedPointResidual.toPrecision(3)}`, `the state's own end: ${outcomeText(s.outcome)}`, `${s.seconds.toFixed(1)} s`,
  ];
  el.badge.textContent = text;
  el.badge.className = `badge iv-spectrum ${spectrumClass(s.spectralRadius)}`;
  el.badge.dataset.radius = String(s.spectralRadius);
  el.badge.title = [...facts, ...s.eigenvalues.map((e, i) => `λ${i + 1} = ${complex(e.re, e.im)}, residual ${e.residual.toExponential(1)}`)].join('\n');
  el.facts.textContent = facts.join(' · ');
  fillTable(el.table, s.eigenvalues.map((e, i) => [i + 1, e.re.toPrecision(5), e.im.toPrecision(5), Math.hypot(e.re, e.im).toPrecision(5), e.residual.toExponential(2)]));
  el.evidence.hidden = false;
  return text;
}

const complex = (re: number, im: number): string => (im === 0 ? re.toPrecision(5) : `${re.toPrecision(5)} ${im < 0 ? '−' : '+'} ${Math.abs(im).toPrecision(5)}i`);
