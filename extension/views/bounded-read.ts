/**
 * Reading the small files a run folder holds (run.json, .eval.json, a training config) and the tail of a growing log
 * (metrics.jsonl) with a type and size check first: only a regular file is opened (a FIFO would block the open, a
 * device such as /dev/zero never ends), with O_NONBLOCK and a second check on the open handle, and never more than
 * the bound is read. No `vscode` import: unit-tested on real files.
 */
import { constants, promises as fs } from 'node:fs';

/** Bound of a JSON file the extension reads whole (run.json, .eval.json, a training config). */
export const MAX_JSON_BYTES = 1024 * 1024;
/** Bound of the part of metrics.jsonl the training dashboard reads (its newest lines). */
export const MAX_METRICS_BYTES = 32 * 1024 * 1024;

/** Why a file was not read: missing, not a regular file, or larger than the bound. */
export class FileReadRefused extends Error {
  constructor(readonly file: string, readonly reason: 'missing' | 'not-a-file' | 'too-large', readonly detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'FileReadRefused';
  }
}

const kindOf = (st: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string =>
  st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() || st.isBlockDevice() ? 'a device' : st.isSocket() ? 'a socket' : 'not a regular file';

async function openRegular(file: string): Promise<{ handle: fs.FileHandle; size: number }> {
  let st;
  try {
    st = await fs.stat(file);
  } catch (e) {
    throw new FileReadRefused(file, 'missing', e instanceof Error ? e.message : String(e));
  }
  if (!st.isFile()) throw new FileReadRefused(file, 'not-a-file', `${kindOf(st)}, not a regular file: not read`);
  // O_NONBLOCK: should the file have been swapped for a FIFO since the stat, the open does not wait for a writer.
  const handle = await fs.open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const hs = await handle.stat();
    if (!hs.isFile()) throw new FileReadRefused(file, 'not-a-file', `${kindOf(hs)}, not a regular file: not read`);
    return { handle, size: hs.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Reads `length` bytes at `position` (fewer at the end of the file). */
async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** The whole text of a regular file of at most `maxBytes` bytes; FileReadRefused otherwise. */
export async function readBoundedText(file: string, maxBytes = MAX_JSON_BYTES): Promise<string> {
  const { handle, size } = await openRegular(file);
  try {
    if (size > maxBytes) throw new FileReadRefused(file, 'too-large', `${size} bytes, more than the ${maxBytes} bytes read: not read`);
    // One byte more than allowed: a file that grew since the stat is refused, not cut.
    const buf = await readAt(handle, 0, maxBytes + 1);
    if (buf.length > maxBytes) throw new FileReadRefused(file, 'too-large', `more than the ${maxBytes} bytes read: not read`);
    return buf.toString('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * The first `length` bytes of a regular file (fewer when the file is shorter) and the file's size; FileReadRefused
 * when it is missing or not a regular file. Reads nothing beyond `length`, however large the file.
 */
export async function readFilePrefix(file: string, length: number): Promise<{ bytes: Buffer; size: number }> {
  const { handle, size } = await openRegular(file);
  try {
    return { bytes: await readAt(handle, 0, Math.max(0, Math.min(length, size))), size };
  } finally {
    await handle.close();
  }
}

/** A JSON object read with readBoundedText, or undefined when the file is missing, refused, not JSON or not an object. */
export async function readBoundedJsonObject(file: string, maxBytes = MAX_JSON_BYTES): Promise<Record<string, unknown> | undefined> {
  try {
    const v: unknown = JSON.parse(await readBoundedText(file, maxBytes));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface TextTail {
  /** Whole lines only: when the file is larger than the bound, the text starts after the first line break in it. */
  text: string;
  /** Bytes of the file before `text` (0 when the whole file was read). */
  skippedBytes: number;
}

/** The last `maxBytes` bytes of a regular file, cut to whole lines; FileReadRefused when it is not a regular file. */
export async function readTextTail(file: string, maxBytes = MAX_METRICS_BYTES): Promise<TextTail> {
  const { handle, size } = await openRegular(file);
  try {
    const start = Math.max(0, size - maxBytes);
    let buf = await readAt(handle, start, Math.min(size, maxBytes));
    let skippedBytes = start;
    if (start > 0) {
      const nl = buf.indexOf(0x0a);
      const cut = nl < 0 ? buf.length : nl + 1;
      buf = buf.subarray(cut);
      skippedBytes += cut;
    }
    return { text: buf.toString('utf8'), skippedBytes };
  } finally {
    await handle.close();
  }
}
