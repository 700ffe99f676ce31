/**
 * The inspector's patch donors kept across a reload (extension/panels/inspector-donor-store.ts): what a token is, what
 * is kept of a Memento's value (well-formed entries only, newest first, one per token, at most 50), and the store on
 * an in-memory Memento: set, replace, forget, and the cap.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Memento } from 'vscode';
import {
  DONOR_RECORDS_KEY, DonorStore, MAX_DONOR_RECORDS, donorRecords, isDonorToken, withDonorRecord, type DonorRecord,
} from '../../extension/panels/inspector-donor-store';

/** A Memento in memory (what context.workspaceState is to the store: get and update). */
class MemoryMemento implements Memento {
  readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, fallback?: T): T | undefined {
    return this.values.has(key) ? structuredClone(this.values.get(key)) as T : fallback;
  }
  update(key: string, value: unknown): Thenable<void> {
    // JSON, as VS Code stores it.
    this.values.set(key, JSON.parse(JSON.stringify(value)));
    return Promise.resolve();
  }
}

const PUZZLE = '..4.3.....1..2..';

describe('the inspector\'s donors kept across a reload', () => {
  test('a token is a random UUID; anything else (a path, a number, a UUID with other characters) is none', () => {
    assert.ok(isDonorToken(randomUUID()));
    for (const x of ['/etc/passwd', '', 42, null, undefined, { token: randomUUID() }, `${randomUUID()}x`, randomUUID().toUpperCase(), '../0000000-0000-0000-0000-000000000000']) {
      assert.equal(isDonorToken(x), false, JSON.stringify(x));
    }
  });

  test('of a Memento\'s value only well-formed entries are kept, newest first, one per token', () => {
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const stored = [
      { token: a, choice: { kind: 'relabel', shift: 2 }, time: 10 },
      { token: b, choice: { kind: 'latents', file: '/data/run.safetensors' }, time: 30 },
      { token: c, choice: { kind: 'trace', puzzle: PUZZLE, checkpoint: '/models/tiny-4x4.safetensors' }, time: 20 },
      { token: a, choice: { kind: 'relabel', shift: 3 }, time: 5 },
      { token: 'not-a-token', choice: { kind: 'relabel', shift: 1 }, time: 40 },
      { token: randomUUID(), choice: { kind: 'relabel', shift: 0 }, time: 40 },
      { token: randomUUID(), choice: { kind: 'relabel', shift: 1.5 }, time: 40 },
      { token: randomUUID(), choice: { kind: 'trace', puzzle: 'abc', checkpoint: '/m.safetensors' }, time: 40 },
      { token: randomUUID(), choice: { kind: 'latents', file: '' }, time: 40 },
      { token: randomUUID(), choice: { kind: 'latents', file: 'a\0b' }, time: 40 },
      { token: randomUUID(), choice: { kind: 'dataset', file: '/x' }, time: 40 },
      { token: randomUUID(), choice: { kind: 'relabel', shift: 1 }, time: 'now' },
      null, 7, 'x',
    ];
    const kept = donorRecords(stored);
    assert.deepEqual(kept.map((r) => r.token), [b, c, a]);
    assert.deepEqual(kept[2].choice, { kind: 'relabel', shift: 2 });
    assert.deepEqual(donorRecords(undefined), []);
    assert.deepEqual(donorRecords({ [a]: stored[0] }), []);
  });

  test('setting a token\'s donor puts it first and replaces the old one; undefined removes it; at most the newest max', () => {
    const tokens = Array.from({ length: 5 }, () => randomUUID());
    let records: DonorRecord[] = [];
    tokens.forEach((t, i) => { records = withDonorRecord(records, t, { kind: 'relabel', shift: i + 1 }, i, 3); });
    assert.deepEqual(records.map((r) => r.token), tokens.slice(2).reverse(), 'the newest 3');
    records = withDonorRecord(records, tokens[2], { kind: 'latents', file: '/l.npy' }, 10, 3);
    assert.deepEqual(records.map((r) => r.token), [tokens[2], tokens[4], tokens[3]]);
    assert.deepEqual(records[0].choice, { kind: 'latents', file: '/l.npy' });
    records = withDonorRecord(records, tokens[4], undefined, 11, 3);
    assert.deepEqual(records.map((r) => r.token), [tokens[2], tokens[3]]);
  });

  test('the store on a Memento: a donor set is found under its token, replaced, forgotten; an unknown token finds none; 50 kept', async () => {
    const memento = new MemoryMemento();
    const store = new DonorStore(memento);
    const t = randomUUID();
    assert.equal(store.get(t), undefined);
    await store.set(t, { kind: 'trace', puzzle: PUZZLE, checkpoint: '/models/tiny-4x4.safetensors' }, 1);
    assert.deepEqual(store.get(t), { kind: 'trace', puzzle: PUZZLE, checkpoint: '/models/tiny-4x4.safetensors' });
    assert.equal(store.get(randomUUID()), undefined, 'an unknown token');
    assert.equal(store.get('/models/tiny-4x4.safetensors'), undefined, 'a path is no token');
    await store.set(t, { kind: 'relabel', shift: 1 }, 2);
    assert.deepEqual(store.get(t), { kind: 'relabel', shift: 1 });
    assert.equal((memento.get<unknown[]>(DONOR_RECORDS_KEY) ?? []).length, 1, 'one entry per token');
    await store.set(t, undefined);
    assert.equal(store.get(t), undefined);
    assert.deepEqual(memento.get(DONOR_RECORDS_KEY), []);

    const tokens = Array.from({ length: MAX_DONOR_RECORDS + 7 }, () => randomUUID());
    for (const [i, token] of tokens.entries()) await store.set(token, { kind: 'relabel', shift: 1 + (i % 3) }, 100 + i);
    assert.equal(MAX_DONOR_RECORDS, 50);
    assert.deepEqual(store.tokens(), tokens.slice(7).reverse(), 'the newest 50, newest first');
    assert.equal(store.get(tokens[0]), undefined, 'the oldest went');
    assert.equal((memento.get<unknown[]>(DONOR_RECORDS_KEY) ?? []).length, MAX_DONOR_RECORDS);
    // Forgetting a token that is not kept writes nothing.
    const before = JSON.stringify(memento.get(DONOR_RECORDS_KEY));
    await store.set(randomUUID(), undefined);
    assert.equal(JSON.stringify(memento.get(DONOR_RECORDS_KEY)), before);
  });
});
