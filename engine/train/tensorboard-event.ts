/**
 * The protobuf encoding of the few TensorBoard messages training writes (field numbers of TensorBoard's
 * event.proto and summary.proto):
 *
 *   Event      { double wall_time = 1; int64 step = 2; oneof what { string file_version = 3; Summary summary = 5;
 *                SessionLog session_log = 7; } }
 *   Summary    { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
 *   SessionLog { SessionStatus status = 1; }   (START = 1: a restart; readers drop what an earlier process logged at
 *                                               steps ≥ this event's step)
 *
 * Free of Node imports.
 */

/** "brain.Event:2", the file version TensorFlow and PyTorch writers put in every event file's first record. */
export const EVENT_FILE_VERSION = 'brain.Event:2';
/** SessionLog.SessionStatus.START. */
export const SESSION_START = 1;

export interface ScalarValue {
  tag: string;
  value: number;
}

/** A growing byte buffer with the protobuf wire primitives. */
class ProtoWriter {
  private buf = new Uint8Array(64);
  private len = 0;

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Unsigned varint of a non-negative safe integer. */
  varint(v: number): this {
    this.ensure(10);
    let x = v;
    while (x >= 0x80) {
      this.buf[this.len++] = (x % 0x80) | 0x80;
      x = Math.floor(x / 0x80);
    }
    this.buf[this.len++] = x;
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  double(field: number, v: number): this {
    this.tag(field, 1);
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.len, v, true);
    this.len += 8;
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    this.ensure(4);
    new DataView(this.buf.buffer).setFloat32(this.len, v, true);
    this.len += 4;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const utf8 = new TextEncoder();

function eventHeader(wallTime: number, step: number): ProtoWriter {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`event step must be a non-negative integer, got ${step}`);
  return new ProtoWriter().double(1, wallTime).tag(2, 0).varint(step);
}

/** Event{wall_time, step, file_version}. */
export function fileVersionEvent(wallTime: number, step = 0, version = EVENT_FILE_VERSION): Uint8Array {
  return eventHeader(wallTime, step).bytes(3, utf8.encode(version)).finish();
}

/** Event{wall_time, step, summary{value{tag, simple_value}…}}; values are stored as float32. */
export function scalarsEvent(wallTime: number, step: number, values: readonly ScalarValue[]): Uint8Array {
  const summary = new ProtoWriter();
  for (const v of values) summary.bytes(1, new ProtoWriter().bytes(1, utf8.encode(v.tag)).float(2, v.value).finish());
  return eventHeader(wallTime, step).bytes(5, summary.finish()).finish();
}

/** Event{wall_time, step, session_log{status}}. */
export function sessionLogEvent(wallTime: number, step: number, status = SESSION_START): Uint8Array {
  return eventHeader(wallTime, step).bytes(7, new ProtoWriter().tag(1, 0).varint(status).finish()).finish();
}
