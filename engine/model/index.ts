/**
 * The model package in one import: config, weights, the model object, the segment forward pass, halting and capture.
 * `import { createModel, runSegment, runWithCache } from '../model'`.
 */
export * from './config';
export * from './weights';
export * from './hrm';
export * from './halting';
export * from './capture';
export { linear } from './linear';
export { rmsNorm, ropeData, applyRope, attention, swiglu } from './layers';
export { truncNormal, TRUNC_NORMAL_STD_FACTOR } from './init';
