/**
 * Length-prefixed binary frames between the engine and the PyTorch worker (python/hrm_lens_torch/framing.py is the
 * worker's twin; both follow this definition):
 *
 *   [4 bytes]  magic "HRMF"
 *   [4 bytes]  H = header length, unsigned 32-bit little-endian (2 … MAX_HEADER_BYTES)
 *   [4 bytes]  P = payload length, unsigned 32-bit little-endian (0 … the reader's payload limit)
 *   [H bytes]  UTF-8 JSON object: the message; its "tensors" entry (optional) lists the payload's tensors in order,
 *              each { name, dtype: "f32" | "i32", shape: [d0, d1, …] }
 *   [P bytes]  the tensors back to back, little-endian, row-major; their sizes add up to exactly P
 *
 * Tensors never travel as JSON. The decoder is incremental (feed it chunks as they arrive) and checks everything
 * before it allocates: a bad magic, a header or payload over the limits, an unparsable header, a tensor list that
 * does not cover the payload exactly, or a stream that ends inside a frame is a FrameError naming the stream.
 */
import { DataError } from '../util/errors';

export const FRAME_MAGIC = 'HRMF';
export const FRAME_PREFIX_BYTES = 12;
/** A header is a small JSON message (an id, shapes, a config). */
export const MAX_HEADER_BYTES = 1 << 20;
/** The most one frame's payload may hold (the u32 length field's range). */
export const MAX_PAYLOAD_BYTES = 2 ** 32 - 1;
const MAX_RANK = 8;

export type FrameDType = 'f32' | 'i32';

export interface FrameTensor {
  name: string;
  dtype: FrameDType;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A JSON message (the header without its "tensors" list). */
export type FrameMessage = Record<string, unknown>;

export interface Frame {
  message: FrameMessage;
  tensors: Map<string, FrameTensor>;
}

/** A frame that cannot be read or written; `location.file` names the stream, `location.field` the part at fault. */
export class FrameError extends DataError {
  constructor(stream: string, field: string, reason: string) {
    super({ file: stream, field }, reason);
    this.name = 'FrameError';
  }
}

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('frames are little-endian; this host is big-endian');
}

function tensorBytes(t: FrameTensor): number {
  return t.shape.reduce((a, b) => a * b, 1) * 4;
}

/** One frame for `message` (without a "tensors" key) and tensors (f32 or i32). */
export function encodeFrame(message: FrameMessage, tensors: readonly FrameTensor[] = [], stream = 'frame'): Buffer {
  assertLittleEndian();
  if ('tensors' in message) throw new FrameError(stream, 'tensors', '"tensors" is reserved in a frame header');
  let payload = 0;
  for (const t of tensors) {
    const want = tensorBytes(t);
    const okType = t.dtype === 'f32' ? t.data instanceof Float32Array : t.data instanceof Int32Array;
    if (!okType || t.data.byteLength !== want) {
      throw new FrameError(stream, t.name, `tensor data (${t.data.constructor.name}, ${t.data.byteLength} bytes) does not fit ${t.dtype} [${t.shape.join(', ')}]`);
    }
    payload += want;
  }
  const header = tensors.length
    ? { ...message, tensors: tensors.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })) }
    : message;
  const hbytes = Buffer.from(JSON.stringify(header), 'utf8');
  if (hbytes.length > MAX_HEADER_BYTES) throw new FrameError(stream, 'header', `frame header of ${hbytes.length} bytes exceeds the limit of ${MAX_HEADER_BYTES}`);
  if (payload > MAX_PAYLOAD_BYTES) throw new FrameError(stream, 'payload', `frame payload of ${payload} bytes exceeds the limit of ${MAX_PAYLOAD_BYTES}`);
  const out = Buffer.allocUnsafe(FRAME_PREFIX_BYTES + hbytes.length + payload);
  out.write(FRAME_MAGIC, 0, 'latin1');
  out.writeUInt32LE(hbytes.length, 4);
  out.writeUInt32LE(payload, 8);
  hbytes.copy(out, FRAME_PREFIX_BYTES);
  let at = FRAME_PREFIX_BYTES + hbytes.length;
  for (const t of tensors) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

interface TensorSpec { name: string; dtype: FrameDType; shape: number[]; bytes: number }

function parseHeader(stream: string, hbytes: Buffer, payloadBytes: number): { message: FrameMessage; specs: TensorSpec[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(hbytes));
  } catch (err) {
    throw new FrameError(stream, 'header', `frame header is not UTF-8 JSON: ${(err as Error).message}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new FrameError(stream, 'header', 'frame header is not a JSON object');
  const { tensors: raw = [], ...message } = parsed as Record<string, unknown>;
  if (!Array.isArray(raw)) throw new FrameError(stream, 'header.tensors', 'frame header field "tensors" must be a list');
  const specs: TensorSpec[] = [];
  let total = 0;
  raw.forEach((e: unknown, i) => {
    const field = `header.tensors[${i}]`;
    const r = (e ?? {}) as Record<string, unknown>;
    if (typeof r.name !== 'string') throw new FrameError(stream, field, 'a tensor needs a string name');
    if (r.dtype !== 'f32' && r.dtype !== 'i32') throw new FrameError(stream, field, `tensor ${JSON.stringify(r.name)}: dtype must be f32 or i32, got ${JSON.stringify(r.dtype)}`);
    const shape = r.shape;
    if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
      throw new FrameError(stream, field, `tensor ${JSON.stringify(r.name)}: shape must be a list of at most ${MAX_RANK} non-negative integers`);
    }
    let bytes = 4;
    for (const d of shape as number[]) {
      bytes *= d;
      if (bytes > payloadBytes) throw new FrameError(stream, field, `tensor ${JSON.stringify(r.name)}: shape [${shape.join(', ')}] needs more than the ${payloadBytes}-byte payload`);
    }
    total += bytes;
    if (total > payloadBytes) throw new FrameError(stream, field, `the tensors need more than the ${payloadBytes}-byte payload`);
    specs.push({ name: r.name, dtype: r.dtype, shape: shape as number[], bytes });
  });
  if (total !== payloadBytes) throw new FrameError(stream, 'payload', `the tensors cover ${total} bytes of a ${payloadBytes}-byte payload`);
  return { message, specs };
}

export interface FrameDecoderOptions {
  /** Names the stream in errors (e.g. "PyTorch worker (python3)"). */
  stream?: string;
  /** The largest payload accepted (default MAX_PAYLOAD_BYTES). */
  maxPayloadBytes?: number;
}

/**
 * Incremental decoder: `push` chunks as they arrive and get the frames they complete; `end` when the stream closes
 * (a FrameError if it closed inside a frame). After an error the decoder stays failed.
 */
export class FrameDecoder {
  private readonly stream: string;
  private readonly maxPayload: number;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need: { header: number; payload: number } | undefined;
  private failed: FrameError | undefined;

  constructor(opts: FrameDecoderOptions = {}) {
    assertLittleEndian();
    this.stream = opts.stream ?? 'frame stream';
    this.maxPayload = Math.min(opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES);
  }

  /** Bytes received that do not yet make a whole frame. */
  get pending(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.failed) throw this.failed;
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.buffered += chunk.byteLength;
    const out: Frame[] = [];
    try {
      for (;;) {
        const f = this.next();
        if (!f) return out;
        out.push(f);
      }
    } catch (err) {
      this.failed = err instanceof FrameError ? err : new FrameError(this.stream, 'frame', (err as Error).message);
      throw this.failed;
    }
  }

  /** The stream has ended: a FrameError when it ended inside a frame. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.buffered === 0 && !this.need) return;
    const what = this.need ? `the ${this.need.header + this.need.payload} bytes of header and payload after the frame prefix` : `${FRAME_PREFIX_BYTES} bytes of the frame prefix`;
    this.failed = new FrameError(this.stream, 'frame', `truncated frame: the stream ended after ${this.buffered} of ${what}`);
    throw this.failed;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return head;
  }

  private next(): Frame | undefined {
    if (!this.need) {
      if (this.buffered < FRAME_PREFIX_BYTES) return undefined;
      const prefix = this.take(FRAME_PREFIX_BYTES);
      const magic = prefix.toString('latin1', 0, 4);
      if (magic !== FRAME_MAGIC) throw new FrameError(this.stream, 'magic', `not a frame: magic ${JSON.stringify(magic)}, expected "${FRAME_MAGIC}"`);
      const header = prefix.readUInt32LE(4);
      const payload = prefix.readUInt32LE(8);
      if (header < 2 || header > MAX_HEADER_BYTES) throw new FrameError(this.stream, 'header', `frame header length ${header} is outside 2…${MAX_HEADER_BYTES}`);
      if (payload > this.maxPayload) throw new FrameError(this.stream, 'payload', `frame payload length ${payload} exceeds the limit of ${this.maxPayload}`);
      this.need = { header, payload };
    }
    const { header, payload } = this.need;
    if (this.buffered < header + payload) return undefined;
    this.need = undefined;
    const body = this.take(header + payload);
    const { message, specs } = parseHeader(this.stream, body.subarray(0, header), payload);
    const tensors = new Map<string, FrameTensor>();
    let at = header;
    for (const s of specs) {
      // A copy into fresh memory: typed arrays need aligned offsets, and the chunk buffers are reused.
      const bytes = new Uint8Array(s.bytes);
      bytes.set(body.subarray(at, at + s.bytes));
      at += s.bytes;
      const data = s.dtype === 'f32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
      tensors.set(s.name, { name: s.name, dtype: s.dtype, shape: s.shape, data });
    }
    return { message, tensors };
  }
}
