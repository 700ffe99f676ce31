/**
 * The inspector's patch donors kept across a window reload (extension/panels/inspector-interventions.ts): how each
 * panel's donor was chosen, in the workspace's Memento under an opaque random token. The token is all the webview
 * keeps (InterventionsState.donorToken in its saved state); the choice, files included, stays on the host, and a
 * restored panel checks its files again before it takes the donor. At most MAX_DONOR_RECORDS entries, the newest;
 * an entry goes when its panel is closed.
 */
import type { Memento } from 'vscode';

/** How a donor was chosen, as kept on the host (never sent to a webview). */
export type DonorRecordChoice =
  /** A trajectory of the Trajectories view. */
  | { kind: 'trace'; puzzle: string; checkpoint: string }
  /** The panel's own puzzle under the digit shift +`shift`. */
  | { kind: 'relabel'; shift: number }
  /** A latents file picked in a dialog. */
  | { kind: 'latents'; file: string };

export interface DonorRecord {
  token: string;
  choice: DonorRecordChoice;
  /** When the donor was set (ms since the epoch): the newest are kept. */
  time: number;
}

export const DONOR_RECORDS_KEY = 'hrmLens.inspectorDonors';
export const MAX_DONOR_RECORDS = 50;

const TOKEN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const PUZZLE = /^[0-9.]{16}$|^[0-9.]{36}$|^[0-9.]{81}$/;
const MAX_PATH = 4096;

/** A token as crypto.randomUUID() makes them (what a webview's saved state may hold; anything else is no token). */
export function isDonorToken(x: unknown): x is string {
  return typeof x === 'string' && TOKEN.test(x);
}

const isPath = (x: unknown): x is string => typeof x === 'string' && x.length > 0 && x.length <= MAX_PATH && !x.includes('\0');

function choiceOf(x: unknown): DonorRecordChoice | undefined {
  if (!x || typeof x !== 'object') return undefined;
  const c = x as Record<string, unknown>;
  if (c.kind === 'trace' && typeof c.puzzle === 'string' && PUZZLE.test(c.puzzle) && isPath(c.checkpoint)) return { kind: 'trace', puzzle: c.puzzle, checkpoint: c.checkpoint };
  if (c.kind === 'relabel' && Number.isInteger(c.shift) && (c.shift as number) >= 1 && (c.shift as number) <= 8) return { kind: 'relabel', shift: c.shift as number };
  if (c.kind === 'latents' && isPath(c.file)) return { kind: 'latents', file: c.file };
  return undefined;
}

/** The well-formed records of what the Memento holds (newest first, one per token, at most `max`); the rest is dropped. */
export function donorRecords(stored: unknown, max = MAX_DONOR_RECORDS): DonorRecord[] {
  if (!Array.isArray(stored)) return [];
  const out: DonorRecord[] = [];
  const seen = new Set<string>();
  for (const r of stored as unknown[]) {
    if (!r || typeof r !== 'object') continue;
    const { token, choice, time } = r as Record<string, unknown>;
    const c = choiceOf(choice);
    if (!isDonorToken(token) || seen.has(token) || !c || typeof time !== 'number' || !Number.isFinite(time)) continue;
    seen.add(token);
    out.push({ token, choice: c, time });
  }
  return out.sort((a, b) => b.time - a.time).slice(0, max);
}

/** `records` with `token`'s choice set to `choice` (or removed when undefined): newest first, at most `max`. */
export function withDonorRecord(records: readonly DonorRecord[], token: string, choice: DonorRecordChoice | undefined, time: number, max = MAX_DONOR_RECORDS): DonorRecord[] {
  const rest = records.filter((r) => r.token !== token);
  return donorRecords(choice ? [{ token, choice, time }, ...rest] : rest, max);
}

/** The donors in a Memento (the workspace's: context.workspaceState). */
export class DonorStore {
  constructor(private readonly memento: Memento, private readonly max = MAX_DONOR_RECORDS) {}

  private records(): DonorRecord[] {
    return donorRecords(this.memento.get<unknown>(DONOR_RECORDS_KEY), this.max);
  }

  /** How the donor under `token` was chosen; undefined for an unknown token or anything that is no token. */
  get(token: unknown): DonorRecordChoice | undefined {
    return isDonorToken(token) ? this.records().find((r) => r.token === token)?.choice : undefined;
  }

  /** Keeps `choice` under `token` (undefined: forgets it). The Memento's own value changes at once; the promise: written. */
  set(token: string, choice: DonorRecordChoice | undefined, time = Date.now()): Thenable<void> {
    const before = this.records();
    if (!choice && !before.some((r) => r.token === token)) return Promise.resolve();
    return this.memento.update(DONOR_RECORDS_KEY, withDonorRecord(before, token, choice, time, this.max));
  }

  /** The tokens kept, newest first. */
  tokens(): string[] {
    return this.records().map((r) => r.token);
  }
}
