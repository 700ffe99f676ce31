/**
 * The backend names a request, the CLI or the hrmLens.backend setting may ask for, spelled out once (package.json's
 * enum of hrmLens.backend lists SETTING_BACKENDS, in the same order: test/unit/backend-names.test.ts). No imports, so
 * the extension host and the request checks read it without loading engine/backend.ts (which pulls in TF.js).
 */
export const BACKEND_NAMES = ['auto', 'wasm', 'cpu', 'tensorflow', 'webgpu'] as const;

export type BackendName = (typeof BACKEND_NAMES)[number];

/**
 * The PyTorch worker (engine/torch/): runs the forward passes of the analyses (the CLI's `--backend torch` on inspect,
 * classify, probe, ensemble, landscape, kick and patch; the engine's requests that carry `torch`), not training. Not one
 * of BACKEND_NAMES (the TF.js backends, which training and every other request run on).
 */
export const TORCH_BACKEND = 'torch';

/** What the hrmLens.backend setting offers: the TF.js backends, then the PyTorch worker for the analyses. */
export const SETTING_BACKENDS = [...BACKEND_NAMES, TORCH_BACKEND] as const;

export type SettingBackend = (typeof SETTING_BACKENDS)[number];
