/**
 * Finding a checkpoint path in a line of text (JSON, YAML, Markdown, TypeScript) and resolving it to a file:
 * absolute; `~/`; relative to the document's folder; relative to a workspace folder; or a `file://` URI.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** A path-like token ending in .safetensors: no quotes, spaces, brackets or commas (escaped backslashes allowed). */
const TOKEN = /(?:file:\/\/)?[^\s"'`()<>[\]{},;|*?]*\.safetensors\b/g;

export interface PathAt {
  text: string;
  start: number;
  end: number;
}

/** The .safetensors token of `line` that covers `character`, if any. */
export function checkpointPathAt(line: string, character: number): PathAt | undefined {
  for (const m of line.matchAll(TOKEN)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    if (character >= start && character <= end && m[0].length > '.safetensors'.length) return { text: m[0], start, end };
  }
  return undefined;
}

/** Candidate absolute paths of a written path, most likely first. */
export function candidateFiles(written: string, documentDir: string | undefined, workspaceDirs: readonly string[], home = process.env.HOME ?? ''): string[] {
  let p = written.replace(/\\\\/g, '\\');
  if (p.startsWith('file://')) {
    try {
      return [fileURLToPath(p)];
    } catch {
      return [];
    }
  }
  if (p.startsWith('~/')) return home ? [path.join(home, p.slice(2))] : [];
  if (path.isAbsolute(p)) return [p];
  p = p.replace(/^\.\//, '');
  const bases = [...(documentDir ? [documentDir] : []), ...workspaceDirs];
  return [...new Set(bases.map((b) => path.resolve(b, p)))];
}

/** The first candidate that exists. */
export function resolveCheckpointPath(written: string, documentDir: string | undefined, workspaceDirs: readonly string[]): string | undefined {
  return candidateFiles(written, documentDir, workspaceDirs).find((f) => existsSync(f));
}
