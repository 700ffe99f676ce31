/**
 * The backend names a request, the CLI or the hrmLens.backend setting may ask for, spelled out once (package.json's
 * enum of hrmLens.backend lists the same, in the same order: test/unit/backend-names.test.ts). No imports, so the
 * extension host and the request checks read it without loading engine/backend.ts (which pulls in TF.js).
 */
export const BACKEND_NAMES = ['auto', 'wasm', 'cpu', 'tensorflow', 'webgpu'] as const;

export type BackendName = (typeof BACKEND_NAMES)[number];
