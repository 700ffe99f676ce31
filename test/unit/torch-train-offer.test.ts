/**
 * The backend step of "HRM: Train" (extension/commands/train-backend.ts) and the checks of a `train` request's
 * `torch`: without a PyTorch found, the TF.js backends exactly as before; with one, "TF.js (<name>)" beside
 * "PyTorch (<python>, torch <version>, cuda|cpu)", first when hrmLens.backend is torch; "HRM: Resume Training"'s step
 * puts PyTorch first when the run was trained with it, else the setting's TF.js backend; the process count must divide
 * the batch; the presets' batches agree with the engine's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKEND_NAMES } from '../../engine/rpc/backend-names';
import { getPreset } from '../../engine/train/presets';
import { torchTrainParamsProblem } from '../../engine/torch/torch-params';
import { processesProblem, resumeBackendItems, torchLabel, trainBackendItems, type TorchOffer } from '../../extension/commands/train-backend';
import { TRAIN_PRESETS } from '../../extension/commands/train-presets';

const offer: TorchOffer = { available: true, python: '/usr/bin/python3', torch: '1.13.1', cuda: false, cudaDevices: 0 };

test('without PyTorch the backend step lists the TF.js backends as before, the setting first', () => {
  const items = trainBackendItems(BACKEND_NAMES, 'wasm');
  assert.deepEqual(items.map((i) => i.label), ['wasm', 'auto', 'cpu', 'tensorflow', 'webgpu']);
  assert.equal(items[0].description, 'the hrmLens.backend setting');
  assert.ok(items.every((i) => i.choice.kind === 'tfjs'));
});

test('with PyTorch the step offers TF.js (<name>) and PyTorch (<python>, torch <version>, cpu|cuda), PyTorch first when the setting is torch', () => {
  const last = trainBackendItems(BACKEND_NAMES, 'auto', offer);
  assert.deepEqual(last.map((i) => i.label), ['TF.js (auto)', 'TF.js (wasm)', 'TF.js (cpu)', 'TF.js (tensorflow)', 'TF.js (webgpu)', 'PyTorch (/usr/bin/python3, torch 1.13.1, cpu)']);
  assert.deepEqual(last.at(-1)?.choice, { kind: 'torch' });
  assert.deepEqual(last[1].choice, { kind: 'tfjs', backend: 'wasm' });
  const first = trainBackendItems(BACKEND_NAMES, 'auto', { ...offer, cuda: true, cudaDevices: 2 }, true);
  assert.equal(first[0].label, 'PyTorch (/usr/bin/python3, torch 1.13.1, cuda)');
  assert.match(first[0].description ?? '', /2 CUDA devices · the hrmLens.backend setting/);
  assert.equal(torchLabel(offer), 'PyTorch (/usr/bin/python3, torch 1.13.1, cpu)');
});

test('Resume Training\'s step puts PyTorch first for a run trained with it, else the setting\'s TF.js backend; the run\'s backend says so', () => {
  const torchRun = resumeBackendItems(BACKEND_NAMES, 'wasm', offer, 'torch');
  assert.deepEqual(torchRun.map((i) => i.label), ['PyTorch (/usr/bin/python3, torch 1.13.1, cpu)', 'TF.js (wasm)', 'TF.js (auto)', 'TF.js (cpu)', 'TF.js (tensorflow)', 'TF.js (webgpu)']);
  assert.deepEqual(torchRun[0].choice, { kind: 'torch' });
  assert.equal(torchRun[0].description, 'under torchrun · this run\'s backend');
  assert.equal(torchRun[1].description, 'in the engine process · the hrmLens.backend setting');
  assert.equal(torchRun[2].description, 'in the engine process');
  const tfjsRun = resumeBackendItems(BACKEND_NAMES, 'auto', offer, 'wasm');
  assert.deepEqual(tfjsRun.map((i) => i.label), ['TF.js (auto)', 'TF.js (wasm)', 'TF.js (cpu)', 'TF.js (tensorflow)', 'TF.js (webgpu)', 'PyTorch (/usr/bin/python3, torch 1.13.1, cpu)']);
  assert.equal(tfjsRun[0].description, 'in the engine process · the hrmLens.backend setting');
  assert.equal(tfjsRun[1].description, 'in the engine process · this run\'s backend');
  assert.equal(tfjsRun.at(-1)?.description, 'under torchrun');
  // A run.json without a backend: the setting first, PyTorch last, no item claims the run.
  const unknown = resumeBackendItems(BACKEND_NAMES, 'cpu', offer, undefined);
  assert.deepEqual(unknown.map((i) => i.choice), [...['cpu', 'auto', 'wasm', 'tensorflow', 'webgpu'].map((backend) => ({ kind: 'tfjs', backend })), { kind: 'torch' }]);
  assert.ok(unknown.every((i) => !/this run/.test(i.description ?? '')));
});

test('the process count is a divisor of the batch', () => {
  assert.equal(processesProblem('1', 64), undefined);
  assert.equal(processesProblem(' 4 ', 64), undefined);
  assert.match(processesProblem('3', 64) ?? '', /divisor of the batch \(64\)/);
  assert.match(processesProblem('0', 64) ?? '', /1…1024/);
  assert.match(processesProblem('two', 64) ?? '', /whole number/);
  for (const p of TRAIN_PRESETS) assert.equal(p.batch, getPreset(p.name).train.batch, `${p.name}: the extension's copy of the batch`);
});

test('a train request\'s torch parameter is checked field by field', () => {
  assert.equal(torchTrainParamsProblem({}), '');
  assert.equal(torchTrainParamsProblem({ python: '/usr/bin/python3', device: 'cpu', processes: 2 }), '');
  assert.match(torchTrainParamsProblem({ device: 'mps' }), /torch.device must be one of auto, cuda, cpu for training/);
  assert.match(torchTrainParamsProblem({ processes: 0 }), /torch.processes must be an integer in 1…1024/);
  assert.match(torchTrainParamsProblem({ processes: 1.5 }), /torch.processes/);
  assert.match(torchTrainParamsProblem({ python: '' }), /torch.python must be a non-empty path/);
  assert.match(torchTrainParamsProblem({ dtype: 'bf16' }), /unknown fields: dtype/);
  assert.match(torchTrainParamsProblem([]), /torch must be an object/);
});
