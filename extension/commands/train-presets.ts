/**
 * The presets offered by "HRM: Train" with their default step counts and batches. A copy of engine/train/presets.ts's
 * figures (the extension host must not load engine code); test/unit/engine-methods.test.ts and
 * test/unit/torch-train-offer.test.ts check that they agree.
 */
export interface TrainPresetChoice {
  name: string;
  description: string;
  defaultSteps: number;
  /** Global batch (slots): a PyTorch training's process count must divide it. */
  batch: number;
}

export const TRAIN_PRESETS: readonly TrainPresetChoice[] = [
  { name: 'tiny-4x4', description: '4×4 Sudoku, minutes on one CPU core', defaultSteps: 2000, batch: 64 },
  { name: 'small-6x6', description: '6×6 Sudoku with 18 givens, about 20 minutes on 2 CPU cores', defaultSteps: 20000, batch: 64 },
  { name: 'hard-6x6', description: 'minimal 6×6 Sudoku (~10 givens), about 80 minutes on 2 CPU cores', defaultSteps: 50000, batch: 64 },
  { name: 'paper-6x6', description: 'hard-6x6 on a fixed set of 1,000 puzzles × 1,000 copies, as the paper trains', defaultSteps: 20000, batch: 64 },
  { name: 'easy-9x9', description: '9×9 Sudoku with ≥ 40 givens, about an hour on 2 CPU cores', defaultSteps: 30000, batch: 64 },
];

/** `<preset>-s<seed>-<yyyymmddThhmmss>`: the folder name of a new run under .hrm/runs. */
export function runFolderName(preset: string, seed: number, now = new Date()): string {
  return `${preset}-s${seed}-${now.toISOString().replace(/[-:]/g, '').slice(0, 15)}`;
}
