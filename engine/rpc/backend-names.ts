/** The backend names a request may ask for (without loading engine/backend.ts, which pulls in TF.js). */
import type { BackendName } from '../protocol';

export const BACKEND_NAMES: readonly BackendName[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];
