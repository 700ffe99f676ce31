/**
 * A TensorBoard event file for one training process: `events.out.tfevents.<unix seconds>.<host>.<pid>.<n>` in the run
 * folder (each run folder is one run for `tensorboard --logdir <runs folder>`; `wandb sync --sync-tensorboard <run
 * folder>` reads it too). Every process writes a new file, as TensorFlow's and PyTorch's writers do; a resumed run's
 * file starts with a SessionLog START at the first step it will log, so that TensorBoard drops whatever an earlier
 * process logged past the checkpoint it restarted from.
 *
 * Events are kept in memory and written (appended, one write) by flush(): the trainer flushes after every checkpoint
 * and at close; between those, when more than `maxBufferBytes` are waiting or `flushSeconds` have passed since the
 * last write. The file's first record (the file version) is written when it is opened.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileVersionEvent, type ScalarValue, scalarsEvent, sessionLogEvent } from './tensorboard-event';
import { tfRecord } from './tensorboard-record';

export interface TensorBoardWriterOptions {
  /** The checkpoint step a resumed run restarts from: a SessionLog START is written at the step after it. */
  resumedFrom?: number;
  /** Flush when this many bytes wait (default 1 MiB). */
  maxBufferBytes?: number;
  /** Flush at the next event once this many seconds passed since the last write (default 120). */
  flushSeconds?: number;
}

export const TB_MAX_BUFFER_BYTES = 1 << 20;
export const TB_FLUSH_SECONDS = 120;
/** The prefix of every event file name (TensorBoard finds files whose name holds "tfevents"). */
export const TB_FILE_PREFIX = 'events.out.tfevents.';

/** Files opened by this process, for the name's last part (two writers in one second never share a name). */
let opened = 0;

/** The host name as a file name part: letters, digits, '.', '-', '_' only, at most 64 characters. */
export function hostPart(host = os.hostname()): string {
  return host.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'host';
}

const seconds = (): number => Date.now() / 1000;

export class TensorBoardWriter {
  private chunks: Uint8Array[] = [];
  private pending = 0;
  private lastWrite = seconds();
  private fd: number | undefined;

  private constructor(readonly file: string, fd: number, private readonly maxBytes: number, private readonly flushSeconds: number) {
    this.fd = fd;
  }

  /** Create a new event file in `dir` (never an existing one) and write its first records. */
  static open(dir: string, opts: TensorBoardWriterOptions = {}): TensorBoardWriter {
    const now = seconds();
    let fd: number | undefined;
    let file = '';
    for (let tries = 0; fd === undefined; tries++) {
      file = path.join(dir, `${TB_FILE_PREFIX}${String(Math.floor(now)).padStart(10, '0')}.${hostPart()}.${process.pid}.${opened++}`);
      try {
        fd = fs.openSync(file, 'wx');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries >= 100) throw err;
      }
    }
    const w = new TensorBoardWriter(file, fd, opts.maxBufferBytes ?? TB_MAX_BUFFER_BYTES, opts.flushSeconds ?? TB_FLUSH_SECONDS);
    try {
      w.push(fileVersionEvent(now));
      if (opts.resumedFrom !== undefined) w.push(sessionLogEvent(now, opts.resumedFrom + 1));
      w.flush();
    } catch (err) {
      try { w.close(); } catch { /* the first error is the one to report */ }
      throw err;
    }
    return w;
  }

  /** Scalars logged at `step` (non-finite values are left out, as metrics.jsonl writes them as null). */
  addScalars(step: number, values: readonly ScalarValue[]): void {
    const finite = values.filter((v) => Number.isFinite(v.value));
    if (finite.length === 0) return;
    this.push(scalarsEvent(seconds(), step, finite));
    if (this.pending > this.maxBytes || seconds() - this.lastWrite >= this.flushSeconds) this.flush();
  }

  /** Bytes waiting for the next flush. */
  get buffered(): number {
    return this.pending;
  }

  /** Append everything waiting to the file (one write). */
  flush(): void {
    if (this.fd === undefined) throw new Error(`TensorBoardWriter: ${this.file} is closed`);
    this.lastWrite = seconds();
    if (this.pending === 0) return;
    const buf = Buffer.concat(this.chunks, this.pending);
    this.chunks = [];
    this.pending = 0;
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
  }

  /** Flush and close (again: nothing). */
  close(): void {
    if (this.fd === undefined) return;
    try {
      this.flush();
    } finally {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }

  private push(event: Uint8Array): void {
    if (this.fd === undefined) throw new Error(`TensorBoardWriter: ${this.file} is closed`);
    const rec = tfRecord(event);
    this.chunks.push(rec);
    this.pending += rec.length;
  }
}
