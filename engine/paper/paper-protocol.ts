/**
 * The engine method of the paper report (engine/protocol.ts `EngineMethods`): `reproduce` runs the paper's
 * experiments on a baseline arm and a data-mixing arm (engine/paper/reproduce.ts) and writes the report folder the
 * host opens (report.md, report.json, figures/). Type-only: both sides import these definitions.
 */
import type { ReproduceOptions } from './options';

/** The reproduction's options, with the report folder chosen by the host. */
export type ReproduceParams = Omit<ReproduceOptions, 'out' | 'command'> & { out: string };

export interface ReproduceResult {
  /** The report folder. */
  dir: string;
  /** Its Markdown report and JSON report (absolute paths). */
  markdown: string;
  json: string;
  /** The command line that recomputes the whole report. */
  command: string;
  seconds: number;
}

export interface ReproduceProgressEvent {
  /** The experiment running: e.g. "fact (a) probe", "ensemble baseline". */
  phase: string;
  done: number;
  total: number;
}

export interface PaperMethods {
  /** The paper report of two arms of runs (progress per phase; cancellable). */
  reproduce: { params: ReproduceParams; result: ReproduceResult; progress: ReproduceProgressEvent };
}
