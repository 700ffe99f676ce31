/**
 * The single place that imports TF.js. Everything else in the engine does `import { tf } from '../tf'`.
 *
 * Importing this module:
 * - loads `@tensorflow/tfjs-core` (pinned 4.22.0);
 * - registers every gradient (tfjs-core's Node entry ships none; the ESM `register_all_gradients` module is bundled
 *   by esbuild and transpiled by tsx, and lands in tfjs-core's global registry);
 * - registers the chained tensor methods (`t.reshape(…)`, `t.add(…)`; the core Node entry ships only a few);
 * - registers the `cpu` and `wasm` backends (priority wasm 2 > cpu 1). Nothing is *selected* here: call
 *   `selectBackend()` from `engine/backend.ts` once at start-up (tests: `selectBackend({ backend: 'cpu' | 'wasm' })`).
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
// Named imports (not bare `import '…'`): both packages declare sideEffects lists that make esbuild drop a bare import.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount, setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';

export { tf, version_cpu, getThreadsCount, setThreadsCount, setWasmPaths, version_wasm };
