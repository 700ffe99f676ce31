/** The action of `hrm-lens reproduce` (loaded on demand: it pulls in TF.js). */
import * as path from 'node:path';
import { backendFromFlags } from './train-run';
import { Progress } from './progress';
import { intOption } from '../util/limits';
import { REPRODUCE_LIMITS, type ReproduceOptions, parseRunList, parseSeeds, validateReproduceOptions } from '../paper/options';
import type { PaperReport } from '../paper/report-types';
import { dash, pct } from '../paper/markdown';

export interface ReproduceFlags {
  baseline: string; mixing: string; data?: string; puzzles?: string; seeds?: string; relabelings?: string; checkpoints?: string;
  segments?: string; landscapeSample?: string; out?: string; json?: boolean; quiet?: boolean; backend: string; threads?: string;
}

/** The flags as ReproduceOptions, every one checked against its range before anything is loaded (errors name the flag). */
export function reproduceOptionsFromFlags(flags: ReproduceFlags): ReproduceOptions {
  const o: ReproduceOptions = {
    baseline: parseRunList(flags.baseline), mixing: parseRunList(flags.mixing), data: flags.data,
    puzzles: intOption(flags.puzzles, 'puzzles', REPRODUCE_LIMITS.puzzles),
    seeds: parseSeeds(flags.seeds),
    relabelings: intOption(flags.relabelings, 'relabelings', REPRODUCE_LIMITS.relabelings),
    checkpoints: intOption(flags.checkpoints, 'checkpoints', REPRODUCE_LIMITS.checkpoints),
    segments: intOption(flags.segments, 'segments', REPRODUCE_LIMITS.segments),
    landscapeSample: intOption(flags.landscapeSample, 'landscape-sample', REPRODUCE_LIMITS.landscapeSample),
    out: flags.out,
  };
  return validateReproduceOptions(o, true);
}

export function formatReproduceSummary(dir: string, r: PaperReport): string {
  const lines = [`report: ${path.join(dir, 'report.md')} (${r.figures.length} figures; ${r.inputs.puzzles} held-out puzzles; ${r.seconds.toFixed(0)} s)`, '',
    'guess scaling                       oracle   label-free   paper'];
  for (const row of r.guessScaling.rows) {
    lines.push(`  ${row.label.padEnd(32)} ${pct(row.oracle.value).padStart(6)}   ${pct(row.labelFree.value).padStart(10)}   ${row.paper === null ? dash.padStart(5) : `${row.paper.toFixed(1)}%`.padStart(5)}`);
  }
  lines.push('', 'agreement with the paper');
  for (const it of r.agreement.items) lines.push(`  ${it.title}: ${it.verdict}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}

export async function runReproduceCommand(flags: ReproduceFlags): Promise<void> {
  const opts = reproduceOptionsFromFlags(flags);
  await backendFromFlags(flags);
  const { runReproduce } = await import('../paper/reproduce');
  let phase = '';
  let bar: Progress | undefined;
  const quiet = flags.quiet === true;
  const { dir, report } = await runReproduce(opts, (p) => {
    if (quiet) return;
    if (p.phase !== phase) {
      bar?.done();
      phase = p.phase;
      bar = new Progress({ label: `reproduce ${phase}`, unit: phase === 'figures' ? 'figures' : 'items', total: p.total });
      if (!bar.enabled) process.stderr.write(`reproduce: ${phase}\n`);
    }
    bar?.update(p.done);
  });
  bar?.done();
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatReproduceSummary(dir, report));
}
