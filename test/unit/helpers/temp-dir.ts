/**
 * Temporary folders for tests, under the system's temporary directory and removed afterwards on every path, so that
 * a test run writes nothing into the repository: `withTempDir` for one test's body, `useTempDir` for a whole file
 * (removed after its tests).
 */
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Runs `fn` with a new folder named from `prefix`, removed when `fn` settles. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A new folder named from `prefix` for the calling test file, removed after its tests. */
export function useTempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
