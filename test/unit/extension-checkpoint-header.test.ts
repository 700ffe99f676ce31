/**
 * Telling HRM Lens checkpoints from other safetensors files by their header alone (the Explorer's menu, the pickers
 * and the commands' refusals): the shipped model is one (4×4, step 2000); files of other kinds, optimizer state,
 * truncated or oversized headers, non-files and missing files are not, each with a reason. The header is read only
 * up to its bound. Files are made here, in a temp folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MAX_HEADER_BYTES, notCheckpointMessage, readCheckpointKind } from '../../extension/views/checkpoint-header';

const root = path.resolve(import.meta.dirname, '..', '..');
const shipped = path.join(root, 'models', 'tiny-4x4.safetensors');

/** A safetensors file: the 8-byte length, the JSON header, then `data` (no tensors unless the header lists them). */
function safetensors(header: Record<string, unknown>, data = Buffer.alloc(0), declared?: bigint): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declared ?? BigInt(json.length));
  return Buffer.concat([len, json, data]);
}

function withDir(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'hrm-header-'));
  return run(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('the shipped model is an HRM Lens checkpoint of a 4×4 grid at step 2000', async () => {
  assert.deepEqual(await readCheckpointKind(shipped), { hrm: true, gridSize: 4, step: 2000 });
});

test('an HRM Lens header with a 6×6 config reads as 6×6; without a config, the grid size is unknown', () => withDir(async (dir) => {
  const six = path.join(dir, 'six.safetensors');
  writeFileSync(six, safetensors({ __metadata__: { format: 'hrm-lens', format_version: '1', step: '4', config: JSON.stringify({ gridSize: 6, hidden: 64 }) } }));
  assert.deepEqual(await readCheckpointKind(six), { hrm: true, gridSize: 6, step: 4 });
  const bare = path.join(dir, 'bare.safetensors');
  writeFileSync(bare, safetensors({ __metadata__: { format: 'hrm-lens', config: 'not json' } }));
  assert.deepEqual(await readCheckpointKind(bare), { hrm: true, gridSize: undefined, step: undefined });
}));

test('other safetensors files are not checkpoints, each with its reason', () => withDir(async (dir) => {
  const cases: [string, Buffer, RegExp][] = [
    ['foreign.safetensors', safetensors({ __metadata__: { format: 'pt' }, w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, Buffer.alloc(4)), /metadata format is "pt", not "hrm-lens"/],
    ['plain.safetensors', safetensors({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, Buffer.alloc(4)), /no HRM Lens metadata/],
    ['step-000001.optim.safetensors', safetensors({ __metadata__: { format: 'hrm-lens-optim' } }), /optimizer state/],
    ['tiny.safetensors', Buffer.from([1, 2, 3]), /shorter than the 8-byte header length/],
    ['notjson.safetensors', Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{{{{')]), /header is not JSON/],
    ['array.safetensors', Buffer.concat([Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('[]')]), /not a JSON object/],
    ['past-end.safetensors', safetensors({ __metadata__: { format: 'hrm-lens' } }, Buffer.alloc(0), 5000n), /runs past the end/],
    ['huge.safetensors', safetensors({}, Buffer.alloc(0), BigInt(MAX_HEADER_BYTES) + 1n), new RegExp(`more than the ${MAX_HEADER_BYTES} bytes`)],
    ['absurd.safetensors', safetensors({}, Buffer.alloc(0), 0xffffffffffffffffn), /declares 18446744073709551615 bytes/],
  ];
  for (const [name, bytes, why] of cases) {
    const file = path.join(dir, name);
    writeFileSync(file, bytes);
    const kind = await readCheckpointKind(file);
    assert.equal(kind.hrm, false, name);
    assert.match(kind.hrm ? '' : kind.why, why, name);
    assert.match(notCheckpointMessage(file, kind.hrm ? '' : kind.why), new RegExp(`^HRM: ${name.replace(/\./g, '\\.')} is not an HRM Lens checkpoint: .*HRM: Import Checkpoint`), name);
  }
}));

test('a missing file, a folder and a FIFO are refused without blocking', () => withDir(async (dir) => {
  assert.deepEqual(await readCheckpointKind(path.join(dir, 'missing.safetensors')), { hrm: false, why: 'no such file' });
  const kind = await readCheckpointKind(dir);
  assert.equal(kind.hrm, false);
  assert.match(kind.hrm ? '' : kind.why, /a folder, not a regular file/);
  if (process.platform !== 'win32') {
    const fifo = path.join(dir, 'fifo.safetensors');
    execFileSync('mkfifo', [fifo]);
    const f = await readCheckpointKind(fifo);
    assert.match(f.hrm ? '' : f.why, /a FIFO, not a regular file/);
  }
}));
