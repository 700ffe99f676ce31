/**
 * metrics.jsonl: one JSON object per logged training step, appended and flushed (one write syscall) per line so that
 * a crash loses at most the line being written. Non-finite numbers (NaN, ±Infinity) are written as null.
 *
 * Opening a log repairs a torn last line left by a crash (it is cut off), and `resumeFromStep` drops lines with a
 * step above the checkpoint a resumed run restarts from (so the file reads as one run). The reader tolerates a torn
 * last line and reports every other malformed line as `file:line: reason` instead of throwing.
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from '../util/atomic-write';
import type { JsonValue } from './checkpoint';

export interface MetricsRecord {
  step: number;
  [key: string]: JsonValue;
}

export interface MetricsProblem {
  file: string;
  /** 1-based */
  line: number;
  reason: string;
  /** `file:line: reason` */
  message: string;
}

export interface MetricsReadResult {
  records: MetricsRecord[];
  problems: MetricsProblem[];
  /** True when the last line was cut off (no final newline and not valid JSON) and was skipped. */
  tornTail: boolean;
}

/** Parse the text of a metrics.jsonl file. */
export function parseMetricsLog(text: string, file = 'metrics.jsonl'): MetricsReadResult {
  const records: MetricsRecord[] = [];
  const problems: MetricsProblem[] = [];
  let tornTail = false;
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  if (endsWithNewline) lines.pop();
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const isLast = i === lines.length - 1 && !endsWithNewline;
    const problem = (reason: string): void => {
      problems.push({ file, line: i + 1, reason, message: `${file}:${i + 1}: ${reason}` });
    };
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      if (isLast) tornTail = true;
      else problem(`not valid JSON (${(err as Error).message})`);
      return;
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return problem('not a JSON object');
    const step = (v as { step?: unknown }).step;
    if (typeof step !== 'number' || !Number.isFinite(step)) return problem('no numeric "step" field');
    records.push(v as MetricsRecord);
  });
  return { records, problems, tornTail };
}

/** Read metrics.jsonl; a missing file reads as empty. */
export function readMetricsLog(file: string): MetricsReadResult {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [], tornTail: false };
    throw err;
  }
  return parseMetricsLog(text, file);
}

function encodeRecord(record: MetricsRecord): string {
  return JSON.stringify(record, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
}

export interface MetricsLogOptions {
  /** Drop existing lines whose step is above this (a resumed run restarting from a checkpoint). */
  resumeFromStep?: number;
  /** fsync after every line (slower; survives power loss, not only a process crash). Default false. */
  fsync?: boolean;
}

export class MetricsLog {
  private fd: number | undefined;

  private constructor(readonly file: string, fd: number, private readonly fsyncEach: boolean) {
    this.fd = fd;
  }

  /** Open (creating if needed) for appending; repairs a torn tail and applies resumeFromStep first. */
  static async open(file: string, options: MetricsLogOptions = {}): Promise<MetricsLog> {
    let text: string | undefined;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text !== undefined && text.length > 0) {
      let keep = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
      if (options.resumeFromStep !== undefined) {
        const limit = options.resumeFromStep;
        keep = keep.split('\n').filter((line) => {
          if (line.trim() === '') return false;
          try {
            const v = JSON.parse(line) as { step?: unknown };
            return !(typeof v.step === 'number' && v.step > limit);
          } catch {
            return true; // keep malformed lines for the reader to report
          }
        }).map((l) => `${l}\n`).join('');
      }
      if (keep !== text) await writeFileAtomic(file, keep);
    }
    const fd = fs.openSync(file, 'a');
    return new MetricsLog(file, fd, options.fsync ?? false);
  }

  /** Append one record as one line (written immediately). */
  append(record: MetricsRecord): void {
    if (this.fd === undefined) throw new Error(`MetricsLog: ${this.file} is closed`);
    const buf = Buffer.from(`${encodeRecord(record)}\n`, 'utf8');
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    if (this.fsyncEach) fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
