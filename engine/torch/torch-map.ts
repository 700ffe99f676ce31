/**
 * A model on the PyTorch worker as the interventions' RecurrentMap (engine/intervene/recurrent-map.ts): the kicks and
 * the patching run their trajectories and read-outs on the worker (trajectory-torch.ts), and every state, perturbation
 * and outcome stays in TypeScript as on TF.js. The map's tensor methods belong to the TF.js analyses that
 * differentiate the map (spectrum, sweep, lens); on this map they throw.
 */
import type { GridSize } from '../sudoku/geometry';
import type { RecurrentMap } from '../intervene/recurrent-map';
import type { OpenedMap } from '../intervene/trajectory';
import { TorchModel } from './torch-model';
import type { TorchWorker } from './worker-client';

/** `model` (on its worker) as a RecurrentMap whose segments run on the worker. */
export function torchMap(model: TorchModel): RecurrentMap {
  const tfOnly = (what: string) => (): never => {
    throw new Error(`${what}: this map runs on the PyTorch worker; the analyses that differentiate the map (spectrum, sweep, lens) run on TF.js`);
  };
  return {
    n: model.config.gridSize as GridSize,
    positions: model.dims.totalLen,
    hidden: model.config.hidden,
    prefix: model.dims.prefix,
    segments: model.config.haltMaxSteps,
    initial: tfOnly('initial'),
    embed: tfOnly('embed'),
    step: tfOnly('step'),
    readout: tfOnly('readout'),
    torch: model,
  };
}

/** A checkpoint read and checked by the engine, run on `worker`, as an OpenedMap (nothing to free on the engine side). */
export async function openTorchMap(file: string, worker: TorchWorker): Promise<OpenedMap> {
  return openedTorchMap(await TorchModel.fromCheckpoint(file, worker), file);
}

/** An already opened worker model as an OpenedMap. */
export function openedTorchMap(model: TorchModel, file: string): OpenedMap {
  return { map: torchMap(model), file, dispose: () => undefined };
}
