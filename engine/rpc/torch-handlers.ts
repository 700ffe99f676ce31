/**
 * The handler of `torch.info` (engine/torch/torch-protocol.ts TorchMethods): whether there is a PyTorch to train with.
 * Cheap to import: the probe (engine/torch/torch-info.ts) loads with the first call; no TF.js.
 */
import { checkParam, type Handler } from './handler';
import { MAX_PYTHON_PATH } from '../torch/torch-params';

export const torchInfo: Handler<'torch.info'> = async (params) => {
  const p = params.python;
  checkParam(p === undefined || (typeof p === 'string' && p.length > 0 && p.length <= MAX_PYTHON_PATH && !p.includes('\0')),
    `python must be a non-empty path of at most ${MAX_PYTHON_PATH} characters`);
  return (await import('../torch/torch-info')).torchInfo(p);
};
