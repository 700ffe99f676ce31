/** Open a checkpoint as a ready model: weights (PyTorch layout on disk) plus the config from its metadata. */
import { type HrmModel, configFromJson, modelFromWeights } from '../model';
import { type LoadedCheckpoint, loadCheckpoint } from './checkpoint';

export interface OpenedModel {
  model: HrmModel;
  checkpoint: LoadedCheckpoint;
}

export async function loadModel(file: string): Promise<OpenedModel> {
  const checkpoint = await loadCheckpoint(file);
  let config;
  try {
    config = configFromJson(checkpoint.config);
  } catch (err) {
    throw new Error(`${file}: bad model config in the safetensors metadata: ${(err as Error).message}`);
  }
  return { model: modelFromWeights(config, checkpoint.tensors), checkpoint };
}
