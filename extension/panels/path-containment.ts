/**
 * Whether a path handed over by a webview (its saved state, or a message) names what it claims, inside one of the
 * allowed folders: resolved through symbolic links (fs.realpath) on both sides before the containment check, so a
 * link inside the workspace to a file elsewhere is outside. No `vscode` import: the roots and the workspace-trust
 * rule come from webview-paths.ts; unit-tested on real files.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** A checkpoint's weight file (`*.safetensors`, not `*.optim.safetensors`), or a run folder. */
export type WebviewPathKind = 'checkpoint' | 'run';

export type PathCheck = { ok: true; path: string } | { ok: false; reason: string };

/** Longer than any path a panel shows: such a string is not a path the host gave it. */
const MAX_PATH_CHARS = 4096;

/** True when `child` is `parent` or lies below it (both absolute, already resolved). */
export function isWithin(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

async function realOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fs.realpath(p);
  } catch {
    return undefined;
  }
}

/**
 * Checks `value` (anything a webview sent) as a path of `kind` inside one of `roots`: a string, absolute, that exists,
 * of the right type (a regular `.safetensors` file that is not optimizer state, or a folder), whose real path lies in
 * the real path of a root (`rootsName` names them in the reason). Answers the real path, or why not.
 */
export async function checkPathWithin(value: unknown, kind: WebviewPathKind, roots: readonly string[], rootsName = 'the allowed folders'): Promise<PathCheck> {
  if (typeof value !== 'string' || value.length === 0) return { ok: false, reason: `no ${kind} path` };
  if (value.length > MAX_PATH_CHARS || value.includes('\0')) return { ok: false, reason: `not a ${kind} path` };
  if (!path.isAbsolute(value)) return { ok: false, reason: `${value} is not an absolute path` };
  if (kind === 'checkpoint' && (!value.endsWith('.safetensors') || value.endsWith('.optim.safetensors'))) {
    return { ok: false, reason: `${value} is not a checkpoint (.safetensors) file` };
  }
  const real = await realOrUndefined(value);
  if (real === undefined) return { ok: false, reason: `${value} does not exist` };
  const st = await fs.stat(real).catch(() => undefined);
  if (kind === 'checkpoint' && !st?.isFile()) return { ok: false, reason: `${value} is not a regular file` };
  if (kind === 'run' && !st?.isDirectory()) return { ok: false, reason: `${value} is not a folder` };
  const realRoots = (await Promise.all(roots.map(realOrUndefined))).filter((r): r is string => r !== undefined);
  if (!realRoots.some((r) => isWithin(real, r))) {
    const where = real === value ? '' : ` (it leads to ${real})`;
    return { ok: false, reason: `${value}${where} is outside ${rootsName}` };
  }
  return { ok: true, path: real };
}
