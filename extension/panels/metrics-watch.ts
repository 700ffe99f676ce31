/**
 * Following runs whose metrics.jsonl grows without this window's HRM: Train posting their steps (a run trained by
 * `hrm-lens train` in a terminal or by another window, or any run shown beside others): a stamp of each run's files
 * (metrics.jsonl's size and modification time) is looked at every METRICS_POLL_MS while the panel is active, and a run
 * whose stamp differs from the one its panel last read is handed to `changed`. Used by the training dashboard and the
 * runs comparison. File stats only, no `vscode` import: unit-tested on real files.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** How often an active panel looks at the logs it follows. */
export const METRICS_POLL_MS = 2000;

/** Size and modification time of `<dir>/metrics.jsonl`, or undefined when it cannot be read. */
export async function metricsStat(dir: string): Promise<{ size: number; mtimeMs: number } | undefined> {
  try {
    const st = await fs.stat(path.join(dir, 'metrics.jsonl'));
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}

/** A metricsStat as the stamp MetricsWatch compares. */
export const statStamp = (st: { size: number; mtimeMs: number }): string => `${st.size}:${st.mtimeMs}`;

/** metrics.jsonl's size and time as one string (undefined: no log). */
export async function metricsStamp(dir: string): Promise<string | undefined> {
  const st = await metricsStat(dir);
  return st && statStamp(st);
}

/**
 * metricsStamp and the run folder's modification time: a checkpoint or an .eval.json written into the folder (they
 * are renamed into place) changes it too.
 */
export async function runStamp(dir: string): Promise<string | undefined> {
  const [log, folder] = await Promise.all([metricsStamp(dir), fs.stat(dir).then((s) => s.mtimeMs, () => undefined)]);
  return log === undefined && folder === undefined ? undefined : `${log ?? '-'}|${folder ?? '-'}`;
}

export interface MetricsWatchOptions {
  /** The run folders followed now. */
  dirs(): readonly string[];
  /** Whether to look now (e.g. the panel is ready and visible). */
  active(): boolean;
  /** A run's stamp differs from the one recorded with seen(): read it again (and record the new stamp). */
  changed(dir: string): Promise<void> | void;
  /** The stamp of a run (default metricsStamp); undefined never counts as a change. */
  stamp?: (dir: string) => Promise<string | undefined>;
  intervalMs?: number;
}

export class MetricsWatch {
  private readonly seenStamps = new Map<string, string | undefined>();
  private readonly timer: ReturnType<typeof setInterval>;
  private busy = false;
  readonly stamp: (dir: string) => Promise<string | undefined>;

  constructor(private readonly opts: MetricsWatchOptions) {
    this.stamp = opts.stamp ?? metricsStamp;
    this.timer = setInterval(() => void this.check(), opts.intervalMs ?? METRICS_POLL_MS);
  }

  /** Records the stamp of what was last read of `dir` (taken before or with the read). */
  seen(dir: string, stamp: string | undefined): void {
    this.seenStamps.set(dir, stamp);
  }

  /** Looks once now; resolves when the runs that changed were handed to `changed`. */
  async check(): Promise<void> {
    if (this.busy || !this.opts.active()) return;
    this.busy = true;
    try {
      for (const dir of this.opts.dirs()) {
        const stamp = await this.stamp(dir);
        if (stamp === undefined || stamp === this.seenStamps.get(dir)) continue;
        try {
          await this.opts.changed(dir);
        } catch {
          // Read again at the next look (the stamp was not recorded).
        }
      }
    } finally {
      this.busy = false;
    }
  }

  dispose(): void {
    clearInterval(this.timer);
  }
}
