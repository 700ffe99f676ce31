/**
 * TensorBoard event files written by training: CRC32C known answers; the writer's buffering and file naming; and a
 * short real training (`hrm-lens train` spawned from the sources, tiny-4x4, a temp folder) whose event files are read
 * back by an independent reader — Python with google.protobuf, the Event / Summary / SessionLog types built at run
 * time from a descriptor (descriptor_pb2), the TFRecord CRCs checked by a CRC32C written in Python — and compared with
 * metrics.jsonl and the held-out .eval.json: tags, steps and values. A resumed run adds a second file that starts with
 * a SessionLog START; --no-tensorboard writes none.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { crc32c, maskedCrc32c, tfRecord } from '../../engine/train/tensorboard-record';
import { TensorBoardWriter, hostPart } from '../../engine/train/tensorboard-writer';
import { scalarsEvent } from '../../engine/train/tensorboard-event';
import { pythonWith } from './helpers/python-with';

const root = path.resolve(__dirname, '..', '..');
const dir = mkdtempSync(path.join(tmpdir(), 'hrm-tensorboard-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const range = (n: number, f: (i: number) => number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => f(i));

test('CRC32C known answers (the RFC 3720 test vectors and the "123456789" check value) and the TFRecord mask', () => {
  assert.equal(crc32c(bytes('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(range(32, () => 0xff)), 0x62a8ab43);
  assert.equal(crc32c(range(32, (i) => i)), 0x46dd794e);
  assert.equal(crc32c(range(32, (i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(maskedCrc32c(new Uint8Array(0)), 0xa282ead8);
  const c = 0xe3069283;
  assert.equal(maskedCrc32c(bytes('123456789')), ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
  const rec = tfRecord(bytes('abc'));
  const view = new DataView(rec.buffer);
  assert.equal(rec.length, 19);
  assert.equal(view.getUint32(0, true), 3);
  assert.equal(view.getUint32(4, true), 0);
  assert.equal(view.getUint32(8, true), maskedCrc32c(rec.subarray(0, 8)));
  assert.equal(view.getUint32(15, true), maskedCrc32c(bytes('abc')));
});

test('the writer: a new file per writer, the file version written at open, events held until a flush or the bound', () => {
  const sub = path.join(dir, 'writer');
  mkdirSync(sub);
  const a = TensorBoardWriter.open(sub);
  const b = TensorBoardWriter.open(sub, { maxBufferBytes: 200, resumedFrom: 7 });
  try {
    assert.notEqual(a.file, b.file);
    for (const f of [a.file, b.file]) assert.match(path.basename(f), /^events\.out\.tfevents\.\d{10}\.[A-Za-z0-9._-]+\.\d+\.\d+$/);
    const headerSize = statSync(a.file).size;
    assert.ok(headerSize > 0);
    a.addScalars(1, [{ tag: 'train/loss', value: 1.5 }, { tag: 'train/nan', value: Number.NaN }]);
    assert.equal(statSync(a.file).size, headerSize, 'buffered until a flush');
    a.addScalars(2, [{ tag: 'train/loss', value: Number.POSITIVE_INFINITY }]);
    assert.equal(a.buffered, tfRecord(scalarsEvent(0, 1, [{ tag: 'train/loss', value: 1.5 }])).length, 'non-finite values are left out');
    a.flush();
    assert.equal(statSync(a.file).size, headerSize + tfRecord(scalarsEvent(0, 1, [{ tag: 'train/loss', value: 1.5 }])).length);
    const before = statSync(b.file).size;
    for (let s = 8; b.buffered < 200 && s < 100; s++) {
      b.addScalars(s, [{ tag: 'train/a-long-tag-name-for-a-quick-bound', value: s }]);
      if (statSync(b.file).size > before) break;
    }
    assert.ok(statSync(b.file).size > before, 'the buffer bound flushes');
  } finally {
    a.close();
    b.close();
  }
  assert.equal(hostPart('my host/../x:y'), 'my_host_.._x_y');
  assert.equal(hostPart(''), 'host');
});

interface PyEvent { wall_time: number; step: number; what: string; file_version?: string; values?: [string, number][]; status?: number }

/**
 * Reads event files with google.protobuf (message types built from a FileDescriptorProto, no TensorFlow or
 * TensorBoard code) and checks every record's framing and both CRCs with its own CRC32C.
 */
const PY_READER = `
import json, struct, sys
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

def crc32c(data):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    c = 0xFFFFFFFF
    for b in data:
        c = table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF

assert crc32c(b'123456789') == 0xE3069283

F = descriptor_pb2.FieldDescriptorProto
fdp = descriptor_pb2.FileDescriptorProto(name='tfevents_reader.proto', package='reader', syntax='proto3')
summary = fdp.message_type.add(name='Summary')
value = summary.nested_type.add(name='Value')
value.field.add(name='tag', number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
value.field.add(name='simple_value', number=2, type=F.TYPE_FLOAT, label=F.LABEL_OPTIONAL)
summary.field.add(name='value', number=1, type=F.TYPE_MESSAGE, type_name='.reader.Summary.Value', label=F.LABEL_REPEATED)
session = fdp.message_type.add(name='SessionLog')
status = session.enum_type.add(name='SessionStatus')
for i, n in enumerate(['STATUS_UNSPECIFIED', 'START', 'STOP', 'CHECKPOINT']):
    status.value.add(name=n, number=i)
session.field.add(name='status', number=1, type=F.TYPE_ENUM, type_name='.reader.SessionLog.SessionStatus', label=F.LABEL_OPTIONAL)
event = fdp.message_type.add(name='Event')
event.oneof_decl.add(name='what')
event.field.add(name='wall_time', number=1, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
event.field.add(name='step', number=2, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
event.field.add(name='file_version', number=3, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, oneof_index=0)
event.field.add(name='summary', number=5, type=F.TYPE_MESSAGE, type_name='.reader.Summary', label=F.LABEL_OPTIONAL, oneof_index=0)
event.field.add(name='session_log', number=7, type=F.TYPE_MESSAGE, type_name='.reader.SessionLog', label=F.LABEL_OPTIONAL, oneof_index=0)
pool = descriptor_pool.DescriptorPool()
pool.Add(fdp)
desc = pool.FindMessageTypeByName('reader.Event')
Event = message_factory.GetMessageClass(desc) if hasattr(message_factory, 'GetMessageClass') else message_factory.MessageFactory(pool).GetPrototype(desc)

out = []
for name in sys.argv[1:]:
    raw = open(name, 'rb').read()
    pos, events = 0, []
    while pos < len(raw):
        assert pos + 12 <= len(raw), f'{name}: torn record header at {pos}'
        head = raw[pos:pos + 8]
        (length,) = struct.unpack('<Q', head)
        (crc_len,) = struct.unpack('<I', raw[pos + 8:pos + 12])
        assert crc_len == masked(head), f'{name}: length CRC at {pos}'
        data = raw[pos + 12:pos + 12 + length]
        assert len(data) == length, f'{name}: torn record at {pos}'
        (crc_data,) = struct.unpack('<I', raw[pos + 12 + length:pos + 16 + length])
        assert crc_data == masked(data), f'{name}: data CRC at {pos}'
        pos += 16 + length
        ev = Event()
        ev.ParseFromString(data)
        if hasattr(ev, 'UnknownFields'):
            assert len(ev.UnknownFields()) == 0, f'{name}: unknown fields'
        e = {'wall_time': ev.wall_time, 'step': ev.step, 'what': ev.WhichOneof('what')}
        if e['what'] == 'file_version':
            e['file_version'] = ev.file_version
        elif e['what'] == 'summary':
            e['values'] = [[v.tag, v.simple_value] for v in ev.summary.value]
        elif e['what'] == 'session_log':
            e['status'] = ev.session_log.status
        events.append(e)
    out.append(events)
print(json.dumps(out))
`;

function readEvents(files: string[]): PyEvent[][] {
  const python = pythonWith(['google.protobuf'], 'python3-protobuf (Debian) or protobuf (pip)');
  return JSON.parse(execFileSync(python, ['-c', PY_READER, ...files], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 })) as PyEvent[][];
}

/** The documented tag of every metrics.jsonl key (segmentExact: one tag per segment). */
const TAGS: Record<string, string> = {
  loss: 'train/loss', lmLoss: 'train/lm_loss', qHaltLoss: 'train/q_halt_loss', qContinueLoss: 'train/q_continue_loss',
  exactAccuracy: 'train/exact_accuracy', cellAccuracy: 'train/accuracy', meanSteps: 'train/steps', halted: 'train/count',
  batchCellAccuracy: 'train/batch_accuracy', lr: 'train/lr', stepMs: 'train/step_ms',
};

function expectedStepValues(record: Record<string, unknown>): [string, number][] {
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(record)) {
    if (k === 'step') continue;
    if (k === 'segmentExact') {
      (v as (number | null)[]).forEach((x, i) => { if (x !== null) out.push([`train/segment_exact/${String(i + 1).padStart(2, '0')}`, Math.fround(x)]); });
    } else if (typeof v === 'number') {
      assert.ok(TAGS[k], `metrics.jsonl key ${k} has a documented tag`);
      out.push([TAGS[k], Math.fround(v)]);
    }
  }
  return out;
}

interface EvalJson { step: number; exact: number; cell: number; haltedAtLast: number; perSegment: { segment: number; exact: number }[] }

const heldOutValues = (e: EvalJson): [string, number][] => [
  ['heldout/exact_accuracy', Math.fround(e.exact)], ['heldout/accuracy', Math.fround(e.cell)], ['heldout/halted_at_last', Math.fround(e.haltedAtLast)],
  ...e.perSegment.map((s): [string, number] => [`heldout/segment_exact/${String(s.segment).padStart(2, '0')}`, Math.fround(s.exact)]),
];

const cli = (...args: string[]): string =>
  execFileSync(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 240_000, env: { ...process.env, HRM_LENS_THREADS: '1' } });

const eventFiles = (run: string): string[] => readdirSync(run).filter((f) => f.startsWith('events.out.tfevents.')).sort().map((f) => path.join(run, f));

test('training writes TensorBoard events equal to metrics.jsonl and the held-out result; a resume appends a new file', { timeout: 600_000 }, () => {
  const run = path.join(dir, 'run');
  const common = ['--batch', '4', '--eval-puzzles', '4', '--checkpoint-every', '2', '--backend', 'wasm', '--quiet'];
  const t0 = Date.now() / 1000;
  cli('train', '--preset', 'tiny-4x4', '--steps', '3', '--seed', '1', '--out', run, ...common);
  const first = eventFiles(run);
  assert.equal(first.length, 1, 'one event file per training process');
  assert.match(path.basename(first[0]), /^events\.out\.tfevents\.\d{10}\.[A-Za-z0-9._-]+\.\d+\.\d+$/);
  cli('train', '--resume', run, '--steps', '5', ...common);
  const files = eventFiles(run);
  assert.equal(files.length, 2, 'the resumed process writes its own file');
  assert.equal(files[0], first[0]);
  const [a, b] = readEvents(files);
  const metrics = readFileSync(path.join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(metrics.map((m) => m.step), [1, 2, 3, 4, 5]);
  const evalAt = (step: number) => JSON.parse(readFileSync(path.join(run, `step-${String(step).padStart(6, '0')}.eval.json`), 'utf8')) as EvalJson;

  // Every file starts with the file version; the resumed one then says where the restart is (after step 3).
  assert.deepEqual([a[0].what, a[0].file_version, a[0].step], ['file_version', 'brain.Event:2', 0]);
  assert.deepEqual([b[0].what, b[0].file_version], ['file_version', 'brain.Event:2']);
  assert.deepEqual([b[1].what, b[1].status, b[1].step], ['session_log', 1, 4]);
  for (const e of [...a, ...b]) assert.ok(e.wall_time >= t0 - 5 && e.wall_time <= Date.now() / 1000 + 5, `wall time ${e.wall_time}`);

  const summaries = (es: PyEvent[]) => es.filter((e) => e.what === 'summary');
  const train = (es: PyEvent[]) => summaries(es).filter((e) => e.values?.[0][0].startsWith('train/'));
  const held = (es: PyEvent[]) => summaries(es).filter((e) => e.values?.[0][0].startsWith('heldout/'));
  assert.deepEqual(train(a).map((e) => e.step), [1, 2, 3]);
  assert.deepEqual(train(b).map((e) => e.step), [4, 5]);
  for (const e of [...train(a), ...train(b)]) {
    const record = metrics.find((m) => m.step === e.step) as Record<string, unknown>;
    assert.deepEqual(e.values, expectedStepValues(record), `step ${e.step}`);
  }
  assert.deepEqual(held(a).map((e) => [e.step, e.values]), [[3, heldOutValues(evalAt(3))]]);
  assert.deepEqual(held(b).map((e) => [e.step, e.values]), [[5, heldOutValues(evalAt(5))]]);
  assert.ok(train(a)[0].values?.some(([tag]) => tag === 'train/lm_loss'));

  // --no-tensorboard: the next resume writes no event file.
  cli('train', '--resume', run, '--steps', '6', '--no-tensorboard', ...common);
  assert.deepEqual(eventFiles(run), files);
});
