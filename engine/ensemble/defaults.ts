/**
 * Defaults of the ensemble report shared by `hrm-lens ensemble`, the engine's `ensemble` request and the VS Code
 * command (docs/analyses.md §Checkpoint ensembles). No imports: the extension host bundles it.
 */

/** Checkpoints taken from a run folder when none is said: the last 10, as the paper bootstraps one run. */
export const DEFAULT_LAST_CHECKPOINTS = 10;
