/** Open a checkpoint as a ready model: weights (PyTorch layout on disk) plus the config from its metadata. */
import { type HrmModel, configFromFile, modelFromWeights } from '../model';
import { type LoadedCheckpoint, loadCheckpoint } from './checkpoint';

export interface OpenedModel {
  model: HrmModel;
  checkpoint: LoadedCheckpoint;
}

/**
 * Reads the checkpoint (loadCheckpoint refuses non-finite weights) and checks its metadata config against the field
 * ranges (engine/model/config.ts CONFIG_RANGES) before any model memory is allocated: a DataError names the file and
 * the field (`config.haltMaxSteps`, …).
 */
export async function loadModel(file: string): Promise<OpenedModel> {
  const checkpoint = await loadCheckpoint(file);
  const config = configFromFile(checkpoint.config, file, 'config');
  return { model: modelFromWeights(config, checkpoint.tensors), checkpoint };
}
