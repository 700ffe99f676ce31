/**
 * Shared set-up of the in-host suites (not a test file: index.ts loads only *.test.ts). `useExtension()` inside a
 * suite activates HRM Lens before its tests and, after them, stops the engine and waits until it has stopped, so
 * that the next suite starts from a fresh extension state. It returns a getter for the activate() API.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { HrmLensApi } from '../../extension/extension';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function useExtension(): () => HrmLensApi {
  let api: HrmLensApi | undefined;
  suiteSetup(async () => {
    const ext = vscode.extensions.getExtension<HrmLensApi>('hrm-lens.hrm-lens');
    assert.ok(ext, 'the extension hrm-lens.hrm-lens is not installed in this host');
    api = await ext.activate();
  });
  suiteTeardown(async () => {
    if (!api) return;
    await api.engine.stop();
    for (let i = 0; i < 100 && api.engine.state() !== 'stopped'; i++) await sleep(20);
  });
  return () => {
    assert.ok(api, 'the suite set-up did not activate the extension');
    return api;
  };
}

/**
 * Pictures of what the window shows now, in the dark and the light theme: `<stem>-dark` and `<stem>-light`, taken by
 * the runner (run-in-code-server.mjs saves them under out/shots/, ignored output); the theme is reset afterwards.
 */
export async function screenshotInThemes(stem: string): Promise<void> {
  const workbench = vscode.workspace.getConfiguration('workbench');
  for (const [theme, name] of [['Default Dark Modern', `${stem}-dark`], ['Default Light Modern', `${stem}-light`]]) {
    await workbench.update('colorTheme', theme, vscode.ConfigurationTarget.Global);
    await sleep(1500);
    console.log(`HRM_LENS_SCREENSHOT ${name}`);
    await sleep(1200);
  }
  await workbench.update('colorTheme', undefined, vscode.ConfigurationTarget.Global);
}
