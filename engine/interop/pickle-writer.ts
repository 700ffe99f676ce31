/**
 * A small Python pickle writer (protocol 2), the writing side of pickle.ts: plain data, module-level names (GLOBAL),
 * calls of them (REDUCE) and persistent ids (BINPERSID), which is all `torch.save` needs for a state dict.
 *
 * Only the opcodes that CPython's pickler emits at protocol 2 for these values are written, and only ones that
 * PyTorch's restricted `weights_only` unpickler accepts too: PROTO, GLOBAL, BINPUT / LONG_BINPUT, BINGET /
 * LONG_BINGET (each distinct global is written once and fetched from the memo afterwards), EMPTY_TUPLE, TUPLE1-3,
 * MARK … TUPLE, EMPTY_LIST + APPENDS, EMPTY_DICT + SETITEMS, REDUCE, BINPERSID, NONE, NEWTRUE / NEWFALSE, BININT1,
 * BININT2, BININT, LONG1, BINFLOAT, BINUNICODE, STOP. Dict items and list items are written in batches of 1000, as
 * CPython does. Nothing here reads input: values that pickle cannot express (non-finite integers, cycles) are
 * programming errors (TypeError / RangeError).
 */
import { PyGlobal, PyTuple } from './pickle';

/** `callable(*args)`: GLOBAL callable, the argument tuple, REDUCE. */
export class PyCall {
  constructor(readonly callable: PyGlobal, readonly args: readonly PickleOut[]) {}
}

/** A persistent id (torch: a storage reference): the id value, then BINPERSID. */
export class PyPersistentId {
  constructor(readonly id: PickleOut) {}
}

/** A dict with string keys in the given order; `ordered` writes a `collections.OrderedDict`. */
export class PyDictOut {
  constructor(readonly entries: readonly (readonly [string, PickleOut])[], readonly ordered = false) {}
}

/** What the writer can express. Numbers that are integers become ints, others floats; arrays become lists. */
export type PickleOut =
  | null | boolean | number | bigint | string
  | readonly PickleOut[] | PyTuple | PyGlobal | PyCall | PyPersistentId | PyDictOut;

const OP = {
  PROTO: 0x80, STOP: 0x2e, MARK: 0x28, NONE: 0x4e, NEWTRUE: 0x88, NEWFALSE: 0x89,
  BININT: 0x4a, BININT1: 0x4b, BININT2: 0x4d, LONG1: 0x8a, BINFLOAT: 0x47, BINUNICODE: 0x58,
  EMPTY_TUPLE: 0x29, TUPLE: 0x74, TUPLE1: 0x85, TUPLE2: 0x86, TUPLE3: 0x87,
  EMPTY_LIST: 0x5d, APPENDS: 0x65, EMPTY_DICT: 0x7d, SETITEMS: 0x75,
  GLOBAL: 0x63, REDUCE: 0x52, BINPERSID: 0x51,
  BINPUT: 0x71, LONG_BINPUT: 0x72, BINGET: 0x68, LONG_BINGET: 0x6a,
} as const;

/** Items per APPENDS / SETITEMS batch (CPython's `_BATCHSIZE`). */
const BATCH = 1000;
const ORDERED_DICT = new PyGlobal('collections', 'OrderedDict');
const DOTTED = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** A growable byte buffer. */
class Bytes {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v, true);
    this.length += 4;
  }

  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, v, true);
    this.length += 4;
  }

  f64be(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, v, false);
    this.length += 8;
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const utf8 = new TextEncoder();

/** Two's-complement little-endian bytes of `v`, as short as possible (LONG1's payload). */
function longBytes(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const out: number[] = [];
  let x = v;
  for (;;) {
    const b = Number(x & 0xffn);
    out.push(b);
    x >>= 8n;
    if ((x === 0n && (b & 0x80) === 0) || (x === -1n && (b & 0x80) !== 0)) break;
  }
  if (out.length > 255) throw new RangeError('integer too large for LONG1');
  return Uint8Array.from(out);
}

class Writer {
  readonly out = new Bytes();
  private readonly memo = new Map<string, number>();

  int(v: number | bigint): void {
    const o = this.out;
    if (typeof v === 'number' && v >= 0 && v < 0x100) { o.byte(OP.BININT1); o.byte(v); return; }
    if (typeof v === 'number' && v >= 0 && v < 0x10000) { o.byte(OP.BININT2); o.u16(v); return; }
    if (typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff) { o.byte(OP.BININT); o.i32(v); return; }
    const bytes = longBytes(BigInt(v));
    o.byte(OP.LONG1);
    o.byte(bytes.length);
    o.raw(bytes);
  }

  str(s: string): void {
    const bytes = utf8.encode(s);
    this.out.byte(OP.BINUNICODE);
    this.out.u32(bytes.length);
    this.out.raw(bytes);
  }

  global(g: PyGlobal): void {
    const key = g.qualified;
    const slot = this.memo.get(key);
    if (slot !== undefined) {
      if (slot < 0x100) { this.out.byte(OP.BINGET); this.out.byte(slot); } else { this.out.byte(OP.LONG_BINGET); this.out.u32(slot); }
      return;
    }
    if (!DOTTED.test(g.module) || !DOTTED.test(g.name)) throw new TypeError(`not a Python dotted name: ${key}`);
    this.out.byte(OP.GLOBAL);
    this.out.raw(utf8.encode(`${g.module}\n${g.name}\n`));
    const n = this.memo.size;
    this.memo.set(key, n);
    if (n < 0x100) { this.out.byte(OP.BINPUT); this.out.byte(n); } else { this.out.byte(OP.LONG_BINPUT); this.out.u32(n); }
  }

  tuple(items: readonly PickleOut[]): void {
    const o = this.out;
    if (items.length === 0) { o.byte(OP.EMPTY_TUPLE); return; }
    if (items.length <= 3) {
      for (const it of items) this.value(it);
      o.byte([OP.TUPLE1, OP.TUPLE2, OP.TUPLE3][items.length - 1]);
      return;
    }
    o.byte(OP.MARK);
    for (const it of items) this.value(it);
    o.byte(OP.TUPLE);
  }

  value(v: PickleOut): void {
    const o = this.out;
    if (v === null) o.byte(OP.NONE);
    else if (v === true) o.byte(OP.NEWTRUE);
    else if (v === false) o.byte(OP.NEWFALSE);
    else if (typeof v === 'bigint') this.int(v);
    else if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) this.int(v);
      else { o.byte(OP.BINFLOAT); o.f64be(v); }
    } else if (typeof v === 'string') this.str(v);
    else if (v instanceof PyTuple) this.tuple(v.items as readonly PickleOut[]);
    else if (v instanceof PyGlobal) this.global(v);
    else if (v instanceof PyCall) {
      this.global(v.callable);
      this.tuple(v.args);
      o.byte(OP.REDUCE);
    } else if (v instanceof PyPersistentId) {
      this.value(v.id);
      o.byte(OP.BINPERSID);
    } else if (v instanceof PyDictOut) {
      if (v.ordered) {
        this.global(ORDERED_DICT);
        o.byte(OP.EMPTY_TUPLE);
        o.byte(OP.REDUCE);
      } else {
        o.byte(OP.EMPTY_DICT);
      }
      for (let i = 0; i < v.entries.length; i += BATCH) {
        o.byte(OP.MARK);
        for (const [k, x] of v.entries.slice(i, i + BATCH)) { this.str(k); this.value(x); }
        o.byte(OP.SETITEMS);
      }
    } else if (Array.isArray(v)) {
      o.byte(OP.EMPTY_LIST);
      const items = v as readonly PickleOut[];
      for (let i = 0; i < items.length; i += BATCH) {
        o.byte(OP.MARK);
        for (const x of items.slice(i, i + BATCH)) this.value(x);
        o.byte(OP.APPENDS);
      }
    } else {
      throw new TypeError(`cannot pickle ${typeof v}`);
    }
  }
}

/** `pickle.dumps(value, protocol=2)` for the values above (a tree: shared sub-values are written twice). */
export function encodePickle(value: PickleOut): Uint8Array {
  const w = new Writer();
  w.out.byte(OP.PROTO);
  w.out.byte(2);
  w.value(value);
  w.out.byte(OP.STOP);
  return w.out.result();
}

/** `collections.OrderedDict()`: an empty one, as a value (e.g. a tensor's backward hooks). */
export function emptyOrderedDict(): PyDictOut {
  return new PyDictOut([], true);
}
