/**
 * The handler registry: method name -> handler, one entry per method of EngineMethods (engine/protocol.ts).
 * Typed as complete, so adding a method to the protocol without registering its handler here fails `tsc`.
 *
 * To add a method: describe it in engine/protocol.ts (see "HOW TO ADD A METHOD" there), write its handler in the
 * feature's folder, and add one line below. Keep handler modules cheap to import (load TF.js lazily, inside the
 * handler): the engine announces 'ready' only after this registry is loaded.
 */
import { ping, selfTestProgress } from './core-handlers';
import { inspect, inspectLatents, inspectStrip } from './inspect-handlers';
import { importCheckpointHandler } from './import-handlers';
import { ensemble, landscape, probe } from './analysis-handlers';
import { evaluate, train, trainStop } from './train-handlers';
import { reproduce } from './paper-handlers';
import { officialEvaluate } from './official-handlers';
import { torchInfo } from './torch-handlers';
import { interventionKick, interventionPatch } from './patch-kick-handlers';
import { interventionKickData, interventionPatchData } from './intervene-data-handlers';
import { interveneLens, interveneSpectrum, interveneSweep } from './map-analysis-handlers';
import type { HandlerRegistry } from './handler';

export const handlers: HandlerRegistry = {
  ping,
  'selfTest.progress': selfTestProgress,
  inspect,
  'inspect.strip': inspectStrip,
  'inspect.latents': inspectLatents,
  train,
  'train.stop': trainStop,
  evaluate,
  import: importCheckpointHandler,
  probe,
  ensemble,
  landscape,
  reproduce,
  'official.evaluate': officialEvaluate,
  'torch.info': torchInfo,
  'intervene.patch': interventionPatch,
  'intervene.kick': interventionKick,
  'intervene.patchData': interventionPatchData,
  'intervene.kickData': interventionKickData,
  'intervene.spectrum': interveneSpectrum,
  'intervene.sweep': interveneSweep,
  'intervene.lens': interveneLens,
};
