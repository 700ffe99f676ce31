/**
 * What the Interventions section computes from the engine's results before it draws them (no DOM here, so the unit
 * tests run it in Node on real results): the kick sizes of the ε slider, where a patched run ends, the spectral
 * radius's class, the compute sweep's lines and the logit lens's bars.
 */
import type { LensResult, PatchPoint, SpectrumResult, SweepCell, SweepResult } from '../engine/intervene/intervene-protocol';

/** The ε slider: log10 of the largest kick, from 10⁻³ to 10 (ε is relative to ‖z‖), in steps of 0.25. */
export const EPSILON_LOG = { min: -3, max: 1, step: 0.25, initial: 0 } as const;
/** Kick sizes per run: this many, evenly spaced in log over EPSILON_DECADES decades up to the slider's ε. */
export const EPSILON_POINTS = 7;
export const EPSILON_DECADES = 2;

/** The kick sizes for a slider at `log10Max` (clamped to EPSILON_LOG), ascending, 3 significant digits. */
export function epsilonsUpTo(log10Max: number): number[] {
  const top = Math.min(EPSILON_LOG.max, Math.max(EPSILON_LOG.min, Number.isFinite(log10Max) ? log10Max : EPSILON_LOG.initial));
  return Array.from({ length: EPSILON_POINTS }, (_, i) => Number((10 ** (top - EPSILON_DECADES * (1 - i / (EPSILON_POINTS - 1)))).toPrecision(3)));
}

/** ε as the section prints it. */
export const epsilonText = (e: number): string => (e >= 1e-4 && e < 1000 ? String(Number(e.toPrecision(3))) : e.toExponential(1));

/** Where a patched run ends: at the donor's final grid, at the receiver's own, at both (they are the same grid) or elsewhere. */
export type PatchEnd = 'donor' | 'receiver' | 'both' | 'elsewhere';

export function patchEnd(p: Pick<PatchPoint, 'endsAtDonor' | 'endsAtReceiver'>): PatchEnd {
  if (p.endsAtDonor && p.endsAtReceiver) return 'both';
  return p.endsAtDonor ? 'donor' : p.endsAtReceiver ? 'receiver' : 'elsewhere';
}

/** Rows of the patching curve, bottom to top ('both' only when some point ends there). */
export function patchRows(curve: readonly Pick<PatchPoint, 'endsAtDonor' | 'endsAtReceiver'>[]): PatchEnd[] {
  const rows: PatchEnd[] = ['elsewhere', 'receiver', 'donor'];
  return curve.some((p) => patchEnd(p) === 'both') ? [...rows, 'both'] : rows;
}

export const PATCH_END_TEXT: Record<PatchEnd, string> = { donor: 'donor', receiver: 'receiver', both: 'donor = receiver', elsewhere: 'elsewhere' };

/** The spectral radius's class: a contraction below 1, an expansion above 1. */
export type SpectrumClass = 'contraction' | 'expansion' | 'marginal';

export function spectrumClass(radius: number): SpectrumClass {
  return radius < 1 ? 'contraction' : radius > 1 ? 'expansion' : 'marginal';
}

/** The badge's words. */
export function spectrumBadgeText(s: Pick<SpectrumResult, 'spectralRadius' | 'atSegment'>): string {
  return `ρ = ${s.spectralRadius.toPrecision(4)} · ${spectrumClass(s.spectralRadius)} at segment ${s.atSegment}`;
}

/** The spectra kept, one per segment (a new one replaces the one at its segment), by segment. */
export function keepSpectrum(kept: readonly SpectrumResult[] | undefined, s: SpectrumResult, maxSegment: number): SpectrumResult[] {
  return [...(kept ?? []).filter((x) => x.atSegment !== s.atSegment && x.atSegment >= 1 && x.atSegment <= maxSegment), s]
    .sort((a, b) => a.atSegment - b.atSegment);
}

/** One line of the compute sweep: a (H, L) setting, its points by compute. */
export interface SweepLine {
  hCycles: number;
  lCycles: number;
  label: string;
  /** Ascending compute; `trained` on the trained setting's point. */
  points: Pick<SweepCell, 'compute' | 'exact' | 'cell' | 'segments' | 'trained'>[];
  trained: boolean;
}

export function sweepLines(r: Pick<SweepResult, 'cells'>): SweepLine[] {
  const lines = new Map<string, SweepLine>();
  for (const c of r.cells) {
    const key = `${c.hCycles}/${c.lCycles}`;
    let line = lines.get(key);
    if (!line) {
      line = { hCycles: c.hCycles, lCycles: c.lCycles, label: `H ${c.hCycles}, L ${c.lCycles}`, points: [], trained: false };
      lines.set(key, line);
    }
    line.points.push({ compute: c.compute, exact: c.exact, cell: c.cell, segments: c.segments, trained: c.trained });
    line.trained ||= c.trained;
  }
  for (const l of lines.values()) l.points.sort((a, b) => a.compute - b.compute || a.segments - b.segments);
  return [...lines.values()].sort((a, b) => a.hCycles - b.hCycles || a.lCycles - b.lCycles);
}

/** One bar of the lens strip: an update inside a segment. */
export interface LensBar {
  /** Index into the result's steps. */
  index: number;
  segment: number;
  /** 'H2' (the H-update closing H-cycle 2, a z_H read) or 'L2.3' (L-step 3 of H-cycle 2, a z_L read). */
  label: string;
  state: 'zH' | 'zL';
  wrong: number | null;
  /** The first update of its segment (a gap is drawn before it). */
  first: boolean;
  jump: boolean;
}

export function lensBars(r: Pick<LensResult, 'steps' | 'jump'>): LensBar[] {
  return r.steps.map((s, i) => ({
    index: i, segment: s.segment, label: s.l === null ? `H${s.h}` : `L${s.h}.${s.l}`, state: s.state, wrong: s.wrongCells,
    first: i === 0 || r.steps[i - 1].segment !== s.segment, jump: r.jump === i,
  }));
}
