/**
 * Error texts stay small whatever input they quote: `excerpt` / `quoted`, DataError's bounded reason and location,
 * `boundedMessage` for anything thrown, and the engine's error replies (real Dispatcher, a handler throwing a 20 MB
 * message).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineToHost, WireError } from '../../engine/protocol';
import { Dispatcher, type HandlerTable } from '../../engine/rpc/dispatcher';
import {
  DataError, EXCERPT_CHARS, MAX_ERROR_MESSAGE_CHARS, MAX_REASON_CHARS, boundedMessage, excerpt, quoted,
} from '../../engine/util/errors';

test('excerpt and quoted: short text unchanged; long text cut with the count of the rest; no split surrogate pair', () => {
  assert.equal(EXCERPT_CHARS, 80);
  assert.equal(excerpt('abc'), 'abc');
  assert.equal(excerpt('x'.repeat(80)), 'x'.repeat(80));
  assert.equal(excerpt('x'.repeat(100)), `${'x'.repeat(80)}… (20 more characters)`);
  assert.equal(excerpt('abcdef', 2), 'ab… (4 more characters)');
  assert.equal(quoted('a"b'), '"a\\"b"');
  assert.equal(quoted(`${'q'.repeat(10)}\n${'r'.repeat(10)}`, 12), '"qqqqqqqqqq\\nr"… (9 more characters)');
  const emoji = `${'a'.repeat(79)}😀tail`;
  assert.equal(excerpt(emoji), `${'a'.repeat(79)}… (6 more characters)`); // the pair (2 units) and 'tail'
});

test('DataError: a 20 MB reason, file name and field name give a message under the bound', () => {
  const big = 'z'.repeat(20_000_000);
  const e = new DataError({ file: `/data/${'d'.repeat(5000)}/puzzles.csv`, line: 123_456_789, field: big }, `bad header ${big}`);
  assert.ok(e.message.length < MAX_ERROR_MESSAGE_CHARS, `message is ${e.message.length} characters`);
  assert.ok(e.reason.length <= MAX_REASON_CHARS + 40);
  assert.match(e.reason, /^bad header z+… \(\d+ more characters\)$/);
  assert.match(e.message, /^\/data\/d+…d+\/puzzles\.csv, line 123456789, field "z+… \(\d+ more characters\)": bad header z+…/);
  assert.ok((e.location.field ?? '').length < 100);
  // Ordinary errors are unchanged.
  const small = new DataError({ file: 'a.csv', line: 2, field: 'question' }, 'expected 81 characters');
  assert.equal(small.message, 'a.csv, line 2, field "question": expected 81 characters');
  assert.deepEqual(small.location, { file: 'a.csv', line: 2, field: 'question' });
});

test('boundedMessage: Errors, strings and objects whose string form throws', () => {
  assert.equal(boundedMessage(new Error('short')), 'short');
  assert.equal(boundedMessage(new TypeError('')), 'TypeError');
  const long = boundedMessage(new Error('m'.repeat(5_000_000)));
  assert.ok(long.length <= MAX_ERROR_MESSAGE_CHARS + 40 && long.endsWith('more characters)'), long.slice(-40));
  assert.equal(boundedMessage('plain'), 'plain');
  assert.equal(boundedMessage(42), '42');
  const hostile = { toString(): string { throw new Error('no'); } };
  assert.equal(boundedMessage(hostile), 'an error that cannot be shown as text');
  assert.equal(boundedMessage('s'.repeat(50), 10), `${'s'.repeat(10)}… (40 more characters)`);
});

test('engine replies: a handler error with a 20 MB message, and a 20 MB method name, come back bounded', async () => {
  const sent: EngineToHost[] = [];
  const huge = 'h'.repeat(20_000_000);
  const table = { ping: () => { throw new Error(`cannot read ${huge}`); } } as unknown as HandlerTable;
  const d = new Dispatcher(table, (m) => { sent.push(m); }, () => {});
  d.handle({ kind: 'request', id: 1, method: 'ping', params: {} });
  d.handle({ kind: 'request', id: 2, method: huge, params: {} });
  d.handle({ kind: 'nonsense', id: 3 });
  for (let i = 0; i < 100 && sent.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
  const errors = new Map<number, WireError>();
  for (const m of sent) if (m.kind === 'error') errors.set(m.id, m.error);
  assert.deepEqual([...errors.keys()].sort(), [1, 2, 3]);
  for (const [id, e] of errors) {
    assert.ok(e.message.length <= MAX_ERROR_MESSAGE_CHARS + 40, `reply ${id}: message is ${e.message.length} characters`);
    assert.ok((e.detail ?? '').length <= 8100, `reply ${id}: detail is ${(e.detail ?? '').length} characters`);
  }
  assert.match(errors.get(1)?.message ?? '', /^cannot read h+… \(\d+ more characters\)$/);
  assert.equal(errors.get(1)?.code, 'HandlerError');
  assert.equal(errors.get(2)?.code, 'MethodNotFound');
});
