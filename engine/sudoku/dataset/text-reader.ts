/** What the CSV and one-per-line readers share: the path, options, the validation report and progress of a read. */
import type { DatasetFormat, DatasetReader, DatasetRecord } from './record';
import type { LineSource } from './text-lines';
import { type ValidateOptions, ValidationReport } from './validate';

export abstract class TextDatasetReader implements DatasetReader {
  abstract readonly format: DatasetFormat;
  protected current: ValidationReport;
  protected source: LineSource | undefined;

  constructor(readonly path: string, readonly opts: ValidateOptions = {}) {
    this.current = new ValidationReport(path, opts.maxExamples ?? 3);
  }

  get report(): ValidationReport {
    return this.current;
  }

  progress(): number {
    return this.source?.progress() ?? 0;
  }

  abstract [Symbol.asyncIterator](): AsyncGenerator<DatasetRecord>;
}
