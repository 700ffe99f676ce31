/**
 * A one-line progress report on stderr for long CLI runs: count, rate, percentage and ETA, e.g.
 *   check: 1,234,567 rows  412k rows/s  32%  ETA 0:07
 * On a TTY the line is redrawn in place (at most 10 times a second). When stderr is not a TTY it stays silent
 * unless forced (`--progress`); forced output to a pipe or file is one plain line every 2 seconds.
 */

export interface ProgressStream {
  isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressOptions {
  label: string;
  /** Unit name for counts (default "rows"). */
  unit?: string;
  /** Known total count (for % and ETA); otherwise pass a fraction to update(). */
  total?: number;
  /** Print even when the stream is not a TTY. */
  force?: boolean;
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** Clock in ms (tests). Default Date.now. */
  now?: () => number;
}

function grouped(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function rateText(r: number): string {
  if (r >= 1e6) return `${(r / 1e6).toFixed(2)}M`;
  if (r >= 1e4) return `${Math.round(r / 1e3)}k`;
  if (r >= 100) return String(Math.round(r));
  return r.toFixed(1);
}

/** Seconds as m:ss or h:mm:ss. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export class Progress {
  readonly enabled: boolean;
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private readonly start: number;
  private last = 0;
  private count = 0;
  private fraction: number | undefined;
  private printed = false;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.enabled = this.tty || opts.force === true;
    this.now = opts.now ?? Date.now;
    this.start = this.now();
    this.last = this.start;
  }

  /** Add n to the count. */
  tick(n = 1): void {
    this.update(this.count + n);
  }

  /** Set the count (and optionally the fraction done, when no total was given). */
  update(count: number, fraction?: number): void {
    this.count = count;
    if (fraction !== undefined) this.fraction = fraction;
    if (!this.enabled) return; // callers update every row or every few thousand rows: reading the clock is cheap
    const t = this.now();
    if (t - this.last < (this.tty ? 100 : 2000)) return;
    this.last = t;
    this.draw(t);
  }

  /** The current line (without control characters). */
  line(t = this.now()): string {
    const unit = this.opts.unit ?? 'rows';
    const secs = (t - this.start) / 1000;
    const rate = secs > 0 ? this.count / secs : 0;
    const frac = this.opts.total ? this.count / this.opts.total : this.fraction;
    let s = `${this.opts.label}: ${grouped(this.count)} ${unit}  ${rateText(rate)} ${unit}/s`;
    if (frac !== undefined && frac > 0) {
      s += `  ${Math.floor(Math.min(1, frac) * 100)}%`;
      if (frac < 1) s += `  ETA ${formatDuration(secs * (1 - frac) / frac)}`;
    }
    return s;
  }

  private draw(t: number): void {
    this.printed = true;
    if (this.tty) this.stream.write(`\r${this.line(t)}\x1b[K`);
    else this.stream.write(`${this.line(t)}\n`);
  }

  /** Final line (only when something was printed, or when forced): the total and overall rate. */
  done(): void {
    if (!this.enabled) return;
    const t = this.now();
    if (!this.printed && !this.opts.force) return;
    const unit = this.opts.unit ?? 'rows';
    const secs = (t - this.start) / 1000;
    const text = `${this.opts.label}: ${grouped(this.count)} ${unit} in ${secs.toFixed(1)} s (${rateText(secs > 0 ? this.count / secs : 0)} ${unit}/s)`;
    this.stream.write(this.tty ? `\r${text}\x1b[K\n` : `${text}\n`);
  }
}

/**
 * Runs an engine computation with a progress line on stderr (label, unit), then prints its result on stdout: the
 * report's text, or the whole result as JSON (`json`; typed arrays as lists, non-finite numbers as null).
 */
export async function runWithProgress<R extends { text: string }>(
  label: string, unit: string, json: boolean | undefined, toJson: (r: R) => string,
  run: (signal: AbortSignal, onProgress: (e: { done: number; total: number }) => void) => Promise<R>,
): Promise<void> {
  const progress = new Progress({ label, unit });
  const r = await run(new AbortController().signal, (e) => progress.update(e.done, e.done / e.total));
  progress.done();
  process.stdout.write(json ? `${toJson(r)}\n` : r.text);
}
