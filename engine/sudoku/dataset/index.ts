/** Sudoku datasets: records, streaming readers (CSV, one-per-line, reference .npy folders), validation, writers,
 * subsampling, splits, augmentation and hint-twin mixing. Import from here. */
export * from './record';
export * from './validate';
export * from './csv-reader';
export * from './lines-reader';
export * from './npy-folder-reader';
export * from './npy-folder-writer';
export * from './open-dataset';
export * from './csv-writer';
export * from './subsample';
export * from './split';
export * from './augment-stream';
export * from './stats';
export * from './duplicates';
