/**
 * The trajectories the user inspected in this workspace (newest first, at most 200), kept in workspaceState so they
 * survive reloads: puzzle, checkpoint, class, and the wrong cells per segment for a sparkline.
 */
import * as vscode from 'vscode';
import type { InspectSummary } from '../../engine/analysis/inspect';

export interface TrajectoryEntry {
  puzzle: string;
  checkpoint: string;
  mode: string;
  success: boolean;
  /** Wrong cells per segment (null where the solution is not unique). */
  wrong: (number | null)[];
  exactAtLast: boolean;
  time: number;
}

const KEY = 'hrmLens.trajectories';
const MAX = 200;

export class TrajectoryStore implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly memento: vscode.Memento) {}

  entries(): TrajectoryEntry[] {
    return this.memento.get<TrajectoryEntry[]>(KEY, []);
  }

  add(s: InspectSummary): void {
    const entry: TrajectoryEntry = {
      puzzle: s.puzzle, checkpoint: s.checkpoint, mode: s.mode.mode, success: s.mode.success, wrong: s.segments.map((g) => g.wrong),
      exactAtLast: s.segments.at(-1)?.exact ?? false, time: Date.now(),
    };
    const rest = this.entries().filter((e) => !(e.puzzle === entry.puzzle && e.checkpoint === entry.checkpoint));
    void this.memento.update(KEY, [entry, ...rest].slice(0, MAX)).then(() => this.changed.fire());
  }

  async clear(): Promise<void> {
    await this.memento.update(KEY, []);
    this.changed.fire();
  }

  dispose(): void {
    this.changed.dispose();
  }
}
