/**
 * Which value of the setting hrmLens.runsFolder applies, and where it leads. Training writes into the runs folder,
 * so a value from the workspace's own settings (`.vscode/settings.json`, a folder's settings, a .code-workspace file:
 * files that come with a cloned repository) must lead inside the first workspace folder, symbolic links resolved; one
 * that leads elsewhere (`/tmp/x`, `~/x`, `../x`, a link to elsewhere) is ignored, and the user's own value (or the
 * default) applies. The user's value (user or machine settings) may point anywhere. In an untrusted workspace the
 * workspace's values do not apply at all (the setting is one of the manifest's restrictedConfigurations).
 * No `vscode` import: settings.ts passes what `WorkspaceConfiguration.inspect` reports; unit-tested.
 */
import { realpathSync } from 'node:fs';
import * as path from 'node:path';
import { isWithin } from './panels/path-containment';

export const DEFAULT_RUNS_FOLDER = '.hrm/runs';

/** The values `inspect('runsFolder')` reports, by where they were set. */
export interface RunsFolderValues {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export type RunsFolderSource = 'default' | 'user' | 'workspace' | 'folder';

export interface RunsFolderChoice {
  /** As written in the setting that applies (default `.hrm/runs`). */
  value: string;
  source: RunsFolderSource;
  /** A workspace value that leads outside the workspace folder, and was therefore ignored. */
  ignored?: { value: string; source: 'workspace' | 'folder'; resolved: string | undefined };
}

/** A path setting resolved against `workspaceDir` (absolute paths as they are, `~/` under `home`). */
export function resolveSettingPathIn(p: string, workspaceDir: string | undefined, home: string): string | undefined {
  const trimmed = p.trim();
  if (!trimmed) return undefined;
  if (trimmed.startsWith('~/')) return home ? path.join(home, trimmed.slice(2)) : undefined;
  if (path.isAbsolute(trimmed)) return path.normalize(trimmed);
  return workspaceDir ? path.join(workspaceDir, trimmed) : undefined;
}

/** The real path of `p`, which need not exist yet: its nearest existing ancestor resolved, the rest appended. */
export function realPathOfNew(p: string): string {
  const rest: string[] = [];
  let at = path.resolve(p);
  for (;;) {
    try {
      return path.join(realpathSync(at), ...rest.reverse());
    } catch {
      const parent = path.dirname(at);
      if (parent === at) return path.join(at, ...rest.reverse());
      rest.push(path.basename(at));
      at = parent;
    }
  }
}

/**
 * The value that applies: the folder's, then the workspace's (trusted workspace only, and only when it leads inside
 * `workspaceDir`), then the user's, then the default. `ignored` reports the first workspace value passed over.
 */
export function chooseRunsFolder(values: RunsFolderValues, opts: { workspaceDir: string | undefined; home: string; trusted: boolean }): RunsFolderChoice {
  const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  let ignored: RunsFolderChoice['ignored'];
  if (opts.trusted) {
    for (const [source, raw] of [['folder', values.workspaceFolderValue], ['workspace', values.workspaceValue]] as const) {
      const value = text(raw);
      if (value === undefined) continue;
      const resolved = resolveSettingPathIn(value, opts.workspaceDir, opts.home);
      if (resolved && opts.workspaceDir && isWithin(realPathOfNew(resolved), realPathOfNew(opts.workspaceDir))) return { value, source, ...(ignored ? { ignored } : {}) };
      ignored ??= { value, source, resolved };
    }
  }
  const user = text(values.globalValue);
  return { value: user ?? DEFAULT_RUNS_FOLDER, source: user ? 'user' : 'default', ...(ignored ? { ignored } : {}) };
}
