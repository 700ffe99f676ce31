/** Errors that name where bad input came from: file, line (1-based) and field. */
export interface DataLocation {
  file: string;
  line?: number;
  field?: string;
}

export class DataError extends Error {
  readonly location: DataLocation;
  readonly reason: string;

  constructor(location: DataLocation, reason: string) {
    const where = [location.file, location.line !== undefined ? `line ${location.line}` : undefined,
      location.field !== undefined ? `field "${location.field}"` : undefined].filter(Boolean).join(', ');
    super(`${where}: ${reason}`);
    this.name = 'DataError';
    this.location = location;
    this.reason = reason;
  }
}
