/**
 * The training status bar item: "$(sync~spin) HRM step 120/2000 · loss 0.812 · 4.1 steps/s · wasm" while a training
 * runs (click: Stop Training), hidden otherwise.
 */
import * as vscode from 'vscode';
import type { TrainEvent } from '../engine/protocol';

export class TrainingStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('hrmLens.training', vscode.StatusBarAlignment.Left, 10);

  constructor() {
    this.item.name = 'HRM Lens Training';
    this.item.command = 'hrmLens.stopTraining';
  }

  /** Show the item for a run that is starting. */
  start(label: string): void {
    this.item.text = `$(sync~spin) HRM ${label}: starting…`;
    this.item.tooltip = `HRM Lens is training ${label}. Click to stop after the next checkpoint.`;
    this.item.show();
  }

  /** Update from a step event. */
  update(e: Extract<TrainEvent, { kind: 'step' }>): void {
    this.item.text = `$(sync~spin) HRM step ${e.step}/${e.totalSteps} · loss ${e.loss.toFixed(3)} · ${e.stepsPerSecond.toFixed(1)} steps/s · ${e.backend}`;
  }

  /** The current text (for tests). */
  get text(): string {
    return this.item.text;
  }

  hide(): void {
    this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}
