/**
 * A restricted Python pickle reader (protocols 2–5, the opcodes `torch.save` and `pickle.dump` emit for plain data).
 *
 * It NEVER executes anything. A pickle names Python callables with GLOBAL / STACK_GLOBAL and calls them with REDUCE;
 * here every name is looked up in a caller-given allow-list of JavaScript handlers (`allowedGlobals`), and any name
 * outside it (`os.system`, `builtins.eval`, `subprocess.Popen`, …) is an error naming the file and the global. The
 * whole opcode stream is scanned first (`scanPickle`), so a disallowed GLOBAL is refused before a single opcode is
 * interpreted; STACK_GLOBAL names (built from strings on the stack) are checked when they are formed, and even then
 * nothing runs: the only "calls" are the allow-list's own handlers. Opcodes that build arbitrary objects (INST, OBJ,
 * NEWOBJ, NEWOBJ_EX, EXT1/2/4), the text protocol-0 opcodes and out-of-band buffers are refused.
 *
 * Bounds: every length is checked against the bytes left before anything is sliced or allocated; LONG4 integers are
 * capped; the stack, mark stack and memo are capped; the interpreter has no recursion and consumes at least one byte
 * per opcode, so it always ends. The values it builds are bounded too: at most `maxValues` containers and items in
 * all, nested at most `maxDepth` deep. Depth is counted as containers are filled (a container is one deeper than its
 * deepest item), which is exact because a container may not change once it has been placed inside another one: the
 * pickler always fills a container before nesting it, so only hand-made pickles (cycles, containers grown after the
 * fact) are refused by this rule, and the object graph is always acyclic. Every failure is a DataError naming the
 * file, the opcode and its byte offset.
 */
import { DataError } from '../util/errors';

/** A Python tuple (kept apart from lists, which are JS arrays). */
export class PyTuple {
  constructor(readonly items: readonly PickleValue[]) {}
}

/** Keys a dict may have here (hashable scalars). */
export type PickleKey = string | number | bigint | boolean | null;

/** A Python dict (or OrderedDict); `state` holds what a BUILD gave it (e.g. a state dict's `_metadata`). */
export class PyDict {
  readonly map = new Map<PickleKey, PickleValue>();
  state: PickleValue | undefined;
  constructor(readonly ordered = false) {}
}

/** A Python set / frozenset. */
export class PySet {
  constructor(readonly items: PickleValue[], readonly frozen: boolean) {}
}

/** An allowed global, as a value (e.g. `torch.FloatStorage` passed as an argument). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** An object built by an allow-list handler (a tensor, a storage reference, …); `kind` says which. */
export class PyObject<T = unknown> {
  constructor(readonly kind: string, readonly payload: T) {}
}

export type PickleValue =
  | null | boolean | number | bigint | string | Uint8Array
  | PickleValue[] | PyTuple | PyDict | PySet | PyGlobal | PyObject;

/** What an allowed global may do. Without `call`, REDUCE on it is an error (it is only a marker value). */
export interface GlobalHandler {
  call?: (args: PyTuple, ctx: HandlerContext) => PickleValue;
}

export interface HandlerContext {
  file: string;
  /** Throw a DataError naming the file and the global. */
  fail(reason: string): never;
}

export interface PickleOptions {
  /** Names the source in errors. */
  file?: string;
  /** `module.name` → handler. Everything else is refused. */
  allowedGlobals: ReadonlyMap<string, GlobalHandler>;
  /** BINPERSID: turn a persistent id into a value (torch: storage references). Absent: BINPERSID is an error. */
  persistentLoad?: (pid: PickleValue, ctx: HandlerContext) => PickleValue;
  /** Caps (defaults: the PICKLE_LIMITS below). */
  maxStack?: number;
  maxMemo?: number;
  maxMarks?: number;
  maxLongBytes?: number;
  /** Deepest nesting of containers (a list of scalars has depth 1). */
  maxDepth?: number;
  /** Containers built plus items placed in containers, in all. */
  maxValues?: number;
}

/** Default caps of the pickle VM. */
export const PICKLE_LIMITS = {
  maxStack: 1_000_000,
  maxMemo: 1_000_000,
  maxMarks: 100_000,
  maxLongBytes: 4096,
  maxDepth: 1000,
  maxValues: 1_000_000,
} as const;

// Opcode table: byte → [name, argument kind]. Argument kinds: fixed byte counts, or a length-prefixed payload.
type ArgKind =
  | 'none' | 'u1' | 'u2' | 'i4' | 'u4' | 'u8' | 'f8'
  | 'bytes1' | 'bytes4' | 'bytes8' | 'long1' | 'long4' | 'lines2';

const OPS: ReadonlyMap<number, [string, ArgKind]> = new Map<number, [string, ArgKind]>([
  [0x80, ['PROTO', 'u1']], [0x95, ['FRAME', 'u8']], [0x2e, ['STOP', 'none']],
  [0x7d, ['EMPTY_DICT', 'none']], [0x5d, ['EMPTY_LIST', 'none']], [0x29, ['EMPTY_TUPLE', 'none']], [0x8f, ['EMPTY_SET', 'none']],
  [0x28, ['MARK', 'none']], [0x30, ['POP', 'none']], [0x31, ['POP_MARK', 'none']], [0x32, ['DUP', 'none']],
  [0x4a, ['BININT', 'i4']], [0x4b, ['BININT1', 'u1']], [0x4d, ['BININT2', 'u2']],
  [0x8a, ['LONG1', 'long1']], [0x8b, ['LONG4', 'long4']], [0x47, ['BINFLOAT', 'f8']],
  [0x4e, ['NONE', 'none']], [0x88, ['NEWTRUE', 'none']], [0x89, ['NEWFALSE', 'none']],
  [0x58, ['BINUNICODE', 'bytes4']], [0x8c, ['SHORT_BINUNICODE', 'bytes1']], [0x8d, ['BINUNICODE8', 'bytes8']],
  [0x54, ['BINSTRING', 'bytes4']], [0x55, ['SHORT_BINSTRING', 'bytes1']],
  [0x42, ['BINBYTES', 'bytes4']], [0x43, ['SHORT_BINBYTES', 'bytes1']], [0x8e, ['BINBYTES8', 'bytes8']], [0x96, ['BYTEARRAY8', 'bytes8']],
  [0x51, ['BINPERSID', 'none']], [0x63, ['GLOBAL', 'lines2']], [0x93, ['STACK_GLOBAL', 'none']],
  [0x52, ['REDUCE', 'none']], [0x62, ['BUILD', 'none']],
  [0x73, ['SETITEM', 'none']], [0x75, ['SETITEMS', 'none']], [0x61, ['APPEND', 'none']], [0x65, ['APPENDS', 'none']],
  [0x90, ['ADDITEMS', 'none']], [0x91, ['FROZENSET', 'none']],
  [0x74, ['TUPLE', 'none']], [0x85, ['TUPLE1', 'none']], [0x86, ['TUPLE2', 'none']], [0x87, ['TUPLE3', 'none']],
  [0x6c, ['LIST', 'none']], [0x64, ['DICT', 'none']],
  [0x94, ['MEMOIZE', 'none']], [0x71, ['BINPUT', 'u1']], [0x72, ['LONG_BINPUT', 'u4']],
  [0x68, ['BINGET', 'u1']], [0x6a, ['LONG_BINGET', 'u4']],
]);

/** Opcodes that are refused by name (they build arbitrary objects, or belong to the text protocol / buffers). */
const REFUSED: ReadonlyMap<number, string> = new Map([
  [0x69, 'INST'], [0x6f, 'OBJ'], [0x81, 'NEWOBJ'], [0x92, 'NEWOBJ_EX'], [0x82, 'EXT1'], [0x83, 'EXT2'], [0x84, 'EXT4'],
  [0x50, 'PERSID'], [0x49, 'INT'], [0x4c, 'LONG'], [0x53, 'STRING'], [0x56, 'UNICODE'], [0x46, 'FLOAT'],
  [0x67, 'GET'], [0x70, 'PUT'], [0x97, 'NEXT_BUFFER'], [0x98, 'READONLY_BUFFER'],
]);

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

interface Op {
  code: number;
  name: string;
  pos: number;
  /** Numeric argument (u1/u2/i4/u4/u8/f8), or the payload's start for length-prefixed kinds. */
  num: number;
  /** Payload for bytes/long/lines kinds. */
  bytes?: Uint8Array;
  /** For GLOBAL: module and name. */
  lines?: [string, string];
}

class Reader {
  pos = 0;
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly file: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(at: number, reason: string): never {
    throw new DataError({ file: this.file, field: `pickle byte ${at}` }, reason);
  }

  need(n: number, what: string, at: number): void {
    if (!(n >= 0) || n > this.bytes.length - this.pos) {
      this.fail(at, `${what} needs ${n} bytes, only ${this.bytes.length - this.pos} left: truncated or corrupt pickle`);
    }
  }

  /** Reads the next opcode and its argument; throws for unknown or refused opcodes. */
  next(): Op {
    const at = this.pos;
    this.need(1, 'opcode', at);
    const code = this.bytes[this.pos++];
    const entry = OPS.get(code);
    if (!entry) {
      const refused = REFUSED.get(code);
      if (refused) this.fail(at, `opcode ${refused} is not allowed (only plain data and allow-listed globals are read)`);
      this.fail(at, `unknown pickle opcode 0x${code.toString(16).padStart(2, '0')}`);
    }
    const [name, kind] = entry;
    const op: Op = { code, name, pos: at, num: 0 };
    const v = this.view;
    const p = this.pos;
    switch (kind) {
      case 'none': break;
      case 'u1': this.need(1, name, at); op.num = v.getUint8(p); this.pos += 1; break;
      case 'u2': this.need(2, name, at); op.num = v.getUint16(p, true); this.pos += 2; break;
      case 'i4': this.need(4, name, at); op.num = v.getInt32(p, true); this.pos += 4; break;
      case 'u4': this.need(4, name, at); op.num = v.getUint32(p, true); this.pos += 4; break;
      case 'u8': this.need(8, name, at); op.num = this.u64(p, at, name); this.pos += 8; break;
      case 'f8': this.need(8, name, at); op.num = v.getFloat64(p, false); this.pos += 8; break;
      case 'bytes1': case 'long1': {
        this.need(1, name, at);
        const n = v.getUint8(p);
        this.pos += 1;
        op.bytes = this.take(n, name, at);
        break;
      }
      case 'bytes4': case 'long4': {
        this.need(4, name, at);
        const n = code === 0x54 || kind === 'long4' ? v.getInt32(p, true) : v.getUint32(p, true);
        this.pos += 4;
        if (n < 0) this.fail(at, `${name} has a negative length ${n}`);
        op.bytes = this.take(n, name, at);
        break;
      }
      case 'bytes8': {
        this.need(8, name, at);
        const n = this.u64(p, at, name);
        this.pos += 8;
        op.bytes = this.take(n, name, at);
        break;
      }
      case 'lines2': {
        const a = this.line(name, at);
        const b = this.line(name, at);
        op.lines = [a, b];
        break;
      }
    }
    return op;
  }

  private u64(p: number, at: number, name: string): number {
    const lo = this.view.getUint32(p, true);
    const hi = this.view.getUint32(p + 4, true);
    if (hi > 0x1fffff) this.fail(at, `${name} length does not fit in 53 bits`);
    return hi * 2 ** 32 + lo;
  }

  private take(n: number, name: string, at: number): Uint8Array {
    this.need(n, `${name} payload`, at);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A newline-terminated ASCII line (GLOBAL's operands), at most 256 characters. */
  private line(name: string, at: number): string {
    const limit = Math.min(this.bytes.length, this.pos + 257);
    for (let i = this.pos; i < limit; i++) {
      if (this.bytes[i] === 0x0a) {
        const s = latin1.decode(this.bytes.subarray(this.pos, i));
        this.pos = i + 1;
        if (!/^[A-Za-z0-9_.]*$/.test(s)) this.fail(at, `${name} operand ${JSON.stringify(s)} is not a Python dotted name`);
        return s;
      }
    }
    return this.fail(at, `${name} operand is not a newline-terminated name of at most 256 characters`);
  }
}

/** Every GLOBAL named by a pickle, found without interpreting anything; throws for malformed opcode streams. */
export function scanPickle(bytes: Uint8Array, file = '<pickle>'): { globals: string[]; stackGlobals: number; protocol: number } {
  const r = new Reader(bytes, file);
  const globals: string[] = [];
  let stackGlobals = 0;
  let protocol = 0;
  for (;;) {
    const op = r.next();
    if (op.name === 'PROTO') protocol = op.num;
    else if (op.name === 'GLOBAL' && op.lines) globals.push(`${op.lines[0]}.${op.lines[1]}`);
    else if (op.name === 'STACK_GLOBAL') stackGlobals++;
    else if (op.name === 'STOP') break;
  }
  if (r.pos !== bytes.length) r.fail(r.pos, `${bytes.length - r.pos} bytes after STOP`);
  return { globals, stackGlobals, protocol };
}

function refuseGlobal(file: string, qualified: string, at: number): never {
  throw new DataError({ file, field: `global ${qualified}` },
    `refused: the pickle names the Python global "${qualified}" (byte ${at}), which is not on the allow-list of `
    + 'tensor-rebuilding functions; nothing was executed. Only state dicts of tensors can be read '
    + '(the same rule as torch.load(weights_only=True)).');
}

function asKey(v: PickleValue, fail: (reason: string) => never): PickleKey {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return v;
  return fail(`unhashable dict key of type ${describe(v)}`);
}

/** Values that hold other values (the ones whose nesting is bounded). */
function isContainer(v: PickleValue | undefined): v is PickleValue[] | PyTuple | PyDict | PySet | PyObject {
  return Array.isArray(v) || v instanceof PyTuple || v instanceof PyDict || v instanceof PySet || v instanceof PyObject;
}

/** Containers that opcodes may change after building them (lists, dicts, sets). */
function isMutable(v: PickleValue): boolean {
  return Array.isArray(v) || v instanceof PyDict || (v instanceof PySet && !v.frozen);
}

/** A short type name for error messages. */
export function describe(v: PickleValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  if (v instanceof PyTuple) return 'tuple';
  if (v instanceof PyDict) return 'dict';
  if (v instanceof PySet) return 'set';
  if (v instanceof PyGlobal) return `global ${v.qualified}`;
  if (v instanceof PyObject) return v.kind;
  return typeof v;
}

/** A value for an error message, never longer than `max` characters: scalars as text, containers by type name. */
export function showValue(v: PickleValue | undefined, max = 80): string {
  let text: string;
  if (typeof v === 'string') text = JSON.stringify(v.length > max ? `${v.slice(0, max)}…` : v);
  else if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') text = String(v);
  else return describe(v);
  return text.length > max + 2 ? `${text.slice(0, max)}…` : text;
}

function longFromBytes(b: Uint8Array): number | bigint {
  if (b.length === 0) return 0;
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
  if (b[b.length - 1] & 0x80) x -= 1n << BigInt(8 * b.length);
  return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x;
}

/**
 * Interpret a pickle and return the object it describes. The opcode stream is scanned first: a disallowed GLOBAL
 * is refused before anything is interpreted.
 */
export function unpickle(bytes: Uint8Array, options: PickleOptions): PickleValue {
  const file = options.file ?? '<pickle>';
  const allowed = options.allowedGlobals;
  // Pass 1: structure and GLOBAL names, nothing interpreted.
  {
    const r = new Reader(bytes, file);
    for (;;) {
      const op = r.next();
      if (op.name === 'GLOBAL' && op.lines) {
        const q = `${op.lines[0]}.${op.lines[1]}`;
        if (!allowed.has(q)) refuseGlobal(file, q, op.pos);
      }
      if (op.name === 'STOP') break;
    }
  }
  // Pass 2: interpret.
  const maxStack = options.maxStack ?? PICKLE_LIMITS.maxStack;
  const maxMemo = options.maxMemo ?? PICKLE_LIMITS.maxMemo;
  const maxMarks = options.maxMarks ?? PICKLE_LIMITS.maxMarks;
  const maxLong = options.maxLongBytes ?? PICKLE_LIMITS.maxLongBytes;
  const maxDepth = options.maxDepth ?? PICKLE_LIMITS.maxDepth;
  const maxValues = options.maxValues ?? PICKLE_LIMITS.maxValues;
  const r = new Reader(bytes, file);
  const stack: PickleValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();
  let op: Op = { code: 0, name: 'start', pos: 0, num: 0 };
  const fail = (reason: string): never => r.fail(op.pos, `${op.name}: ${reason}`);
  const ctxFor = (q: string): HandlerContext => ({
    file,
    fail: (reason: string): never => { throw new DataError({ file, field: `global ${q}` }, `${reason} (pickle byte ${op.pos})`); },
  });
  // Nesting bookkeeping: the depth of every container (absent = 1, an empty one), the containers already placed
  // inside another (complete: they may not change any more), and the values made so far.
  const depths = new Map<object, number>();
  const nested = new Set<object>();
  let values = 0;
  const count = (n: number): void => {
    values += n;
    if (values > maxValues) fail(`more than ${maxValues} values (containers and their items)`);
  };
  const depthOf = (v: PickleValue | undefined): number => (isContainer(v) ? depths.get(v) ?? 1 : 0);
  /** Records that `child` now lies inside `parent` (whose depth grows to fit it). */
  const adopt = (parent: object, child: PickleValue): void => {
    if (!isContainer(child)) return;
    if (child === parent) fail(`a ${describe(child)} cannot contain itself`);
    if (isMutable(child)) nested.add(child);
    const d = depthOf(child) + 1;
    if (d > maxDepth) fail(`containers nested deeper than ${maxDepth} levels`);
    if (d > (depths.get(parent) ?? 1)) depths.set(parent, d);
  };
  /** A container about to change: refused once it lies inside another (its depth there is final). */
  const changing = (target: PickleValue): void => {
    if (isContainer(target) && nested.has(target)) {
      fail(`the ${describe(target)} is changed after being placed inside another container (cycles and containers `
        + 'grown after nesting are not supported)');
    }
  };
  /** A container made from `items` (which it now holds). */
  const made = <T extends PickleValue>(container: T, items: readonly PickleValue[]): T => {
    count(1 + items.length);
    for (const it of items) adopt(container as object, it);
    return container;
  };
  /** The result of a handler: a new value is at least as deep as the arguments it may hold; one of them stays as it is. */
  const result = (v: PickleValue, from: PickleValue): PickleValue => {
    count(1);
    const passedOn = from instanceof PyTuple && from.items.includes(v);
    if (!passedOn && isContainer(v) && depthOf(from) > depthOf(v)) depths.set(v, depthOf(from));
    return v;
  };
  const push = (v: PickleValue): void => {
    if (stack.length >= maxStack) fail(`stack deeper than ${maxStack} items`);
    stack.push(v);
  };
  const pop = (): PickleValue => {
    const floor = marks.length ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack.pop() as PickleValue;
  };
  const top = (): PickleValue => {
    const floor = marks.length ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK on the stack');
    return stack.splice(m as number);
  };
  const put = (idx: number, v: PickleValue): void => {
    if (!memo.has(idx) && memo.size >= maxMemo) fail(`more than ${maxMemo} memo entries`);
    memo.set(idx, v);
  };
  const str = (b: Uint8Array): string => {
    try {
      return utf8.decode(b);
    } catch {
      return fail('string is not valid UTF-8');
    }
  };
  const resolve = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    if (!allowed.has(q)) refuseGlobal(file, q, op.pos);
    return new PyGlobal(module, name);
  };
  const setItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!(target instanceof PyDict)) fail(`target is a ${describe(target)}, not a dict`);
    const d = target as PyDict;
    if (items.length % 2) fail('odd number of items');
    changing(d);
    count(items.length / 2);
    for (let i = 0; i < items.length; i += 2) {
      d.map.set(asKey(items[i], fail), items[i + 1]);
      adopt(d, items[i + 1]);
    }
  };
  const appendItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!Array.isArray(target)) fail(`target is a ${describe(target)}, not a list`);
    const list = target as PickleValue[];
    changing(list);
    count(items.length);
    for (const v of items) {
      list.push(v);
      adopt(list, v);
    }
  };

  for (;;) {
    op = r.next();
    switch (op.name) {
      case 'PROTO': if (op.num > 5) fail(`protocol ${op.num} is newer than 5`); break;
      case 'FRAME': if (op.num > bytes.length - r.pos) fail(`frame of ${op.num} bytes runs past the end`); break;
      case 'STOP': {
        if (marks.length) fail('MARK left open at STOP');
        if (stack.length !== 1) fail(`STOP with ${stack.length} items on the stack (expected 1)`);
        if (r.pos !== bytes.length) fail(`${bytes.length - r.pos} bytes after STOP`);
        return stack[0];
      }
      case 'EMPTY_DICT': push(made(new PyDict(), [])); break;
      case 'EMPTY_LIST': push(made([], [])); break;
      case 'EMPTY_TUPLE': push(made(new PyTuple([]), [])); break;
      case 'EMPTY_SET': push(made(new PySet([], false), [])); break;
      case 'MARK':
        if (marks.length >= maxMarks) fail(`more than ${maxMarks} nested MARKs`);
        marks.push(stack.length);
        break;
      case 'POP': pop(); break;
      case 'POP_MARK': popMark(); break;
      case 'DUP': push(top()); break;
      case 'BININT': case 'BININT1': case 'BININT2': push(op.num); break;
      case 'LONG1': case 'LONG4': {
        const b = op.bytes as Uint8Array;
        if (b.length > maxLong) fail(`integer of ${b.length} bytes is larger than the ${maxLong}-byte limit`);
        push(longFromBytes(b));
        break;
      }
      case 'BINFLOAT': push(op.num); break;
      case 'NONE': push(null); break;
      case 'NEWTRUE': push(true); break;
      case 'NEWFALSE': push(false); break;
      case 'BINUNICODE': case 'SHORT_BINUNICODE': case 'BINUNICODE8': push(str(op.bytes as Uint8Array)); break;
      case 'BINSTRING': case 'SHORT_BINSTRING': push(latin1.decode(op.bytes as Uint8Array)); break;
      case 'BINBYTES': case 'SHORT_BINBYTES': case 'BINBYTES8': case 'BYTEARRAY8': push((op.bytes as Uint8Array).slice()); break;
      case 'BINPERSID': {
        const pid = pop();
        if (!options.persistentLoad) fail('persistent ids are not expected in this pickle');
        push(result((options.persistentLoad as NonNullable<PickleOptions['persistentLoad']>)(pid, ctxFor('persistent_load')), pid));
        break;
      }
      case 'GLOBAL': {
        const [m, n] = op.lines as [string, string];
        push(resolve(m, n));
        break;
      }
      case 'STACK_GLOBAL': {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('module and name must be strings');
        if (!/^[A-Za-z0-9_.]{1,256}$/.test(module as string) || !/^[A-Za-z0-9_.]{1,256}$/.test(name as string)) {
          fail(`${showValue(module)}.${showValue(name)} is not a Python dotted name`);
        }
        push(resolve(module as string, name as string));
        break;
      }
      case 'REDUCE': {
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal)) fail(`cannot call a ${describe(fn)}`);
        if (!(args instanceof PyTuple)) fail(`arguments must be a tuple, got ${describe(args)}`);
        const g = fn as PyGlobal;
        const handler = allowed.get(g.qualified);
        if (!handler?.call) fail(`${g.qualified} is allowed only as a value, not as a call`);
        push(result((handler as Required<GlobalHandler>).call(args as PyTuple, ctxFor(g.qualified)), args));
        break;
      }
      case 'BUILD': {
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict)) fail(`BUILD on a ${describe(target)} is not supported`);
        changing(target);
        count(1);
        (target as PyDict).state = state;
        adopt(target as PyDict, state);
        break;
      }
      case 'SETITEM': {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 'SETITEMS': { const items = popMark(); setItems(top(), items); break; }
      case 'APPEND': { const v = pop(); appendItems(top(), [v]); break; }
      case 'APPENDS': { const items = popMark(); appendItems(top(), items); break; }
      case 'ADDITEMS': {
        const items = popMark();
        const t = top();
        if (!(t instanceof PySet) || t.frozen) fail(`target is a ${describe(t)}, not a set`);
        const set = t as PySet;
        changing(set);
        count(items.length);
        for (const v of items) {
          set.items.push(v);
          adopt(set, v);
        }
        break;
      }
      case 'FROZENSET': { const items = popMark(); push(made(new PySet(items, true), items)); break; }
      case 'TUPLE': { const items = popMark(); push(made(new PyTuple(items), items)); break; }
      case 'TUPLE1': { const a = pop(); push(made(new PyTuple([a]), [a])); break; }
      case 'TUPLE2': { const b = pop(); const a = pop(); push(made(new PyTuple([a, b]), [a, b])); break; }
      case 'TUPLE3': { const c = pop(); const b = pop(); const a = pop(); push(made(new PyTuple([a, b, c]), [a, b, c])); break; }
      case 'LIST': { const items = popMark(); push(made(items, items)); break; }
      case 'DICT': { const items = popMark(); const d = made(new PyDict(), []); setItems(d, items); push(d); break; }
      case 'MEMOIZE': put(memo.size, top()); break;
      case 'BINPUT': case 'LONG_BINPUT': put(op.num, top()); break;
      case 'BINGET': case 'LONG_BINGET': {
        if (!memo.has(op.num)) fail(`memo entry ${op.num} was never stored`);
        push(memo.get(op.num) as PickleValue);
        break;
      }
      default: fail('opcode not handled');
    }
  }
}
