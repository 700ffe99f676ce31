// Helpers of the browser walks (test/e2e/*.e2e.mjs) for the code-server workbench page in Playwright: finding a
// webview's frame by its content, running a command from the palette, switching the colour theme, the HRM side view's
// entry for a puzzle, the inspector after a window reload, and the save dialog of an export.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { assert, secs } from './harness.mjs';

/** The selector of the inspector panel of `puzzle`, once it has rendered. */
export const inspectorOf = (puzzle) => `body[data-render-ms] #title:has-text("${puzzle}")`;

/** The frame (webview content) that matches `selector`; the webview is iframe.webview > iframe#active-frame. */
export async function findFrame(page, selector, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      try { if (await f.locator(selector).count()) return f; } catch { /* detached */ }
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`no webview frame with ${selector} within ${secs(ms)}`);
}

/** Gives the workbench the focus: the active editor tab, else the editor area (no actionability wait: a busy workbench animates). */
export async function focusWorkbench(page) {
  const tab = page.locator('.part.editor .tab.active').first();
  if (await tab.count()) await tab.click({ timeout: 10_000, force: true });
  else await page.locator('.monaco-workbench .part.editor').click({ timeout: 10_000, force: true });
}

/** Runs `command` from the palette; answers the quick input (for the command's own prompts). */
export async function palette(page, command) {
  const qi = page.locator('.quick-input-widget');
  const input = qi.locator('input');
  // Up to three tries. In CI the palette has closed again right after opening (a webview took the focus back), or
  // got its text incomplete: each try gives the workbench the focus first and checks every step.
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('Escape');
      // From the second try on, or when F1 does not open the palette: focus the workbench.
      if (attempt > 1) await focusWorkbench(page);
      await page.keyboard.press('F1');
      if (!(await input.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false))) {
        await focusWorkbench(page);
        await page.keyboard.press('F1');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
      }
      // The whole text at once ('>' keeps the command mode), instead of key by key.
      await input.fill(`>${command}`, { timeout: 15_000 });
      // Click the row itself: Enter would take the best fuzzy match, which may be another command.
      const row = qi.locator('.monaco-list-row', { hasText: command }).first();
      await row.waitFor({ timeout: 30_000 });
      await row.click({ timeout: 10_000 });
      return qi;
    } catch (e) {
      if (attempt >= 3) throw e;
      console.log(`  palette "${command}", try ${attempt} failed (${String(e).split('\n')[0]}); trying again`);
    }
  }
}

/** Picks the colour theme `theme` and waits until the webview in `frame` has the body class `bodyClass`. */
export async function setTheme(page, frame, theme, bodyClass) {
  const qi = await palette(page, 'Preferences: Color Theme');
  await page.keyboard.type(theme);
  const row = qi.locator('.monaco-list-row', { hasText: theme }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
  await frame.locator(`body.${bodyClass}`).waitFor({ timeout: 30_000 });
  await page.waitForTimeout(800); // the MutationObserver redraws charts and canvases
}

/** The segment the inspector in `frame` shows. */
export const segmentOf = async (frame) => Number(await frame.locator('body').getAttribute('data-segment'));

/** The HRM side view's frame (`side`) and its list entry (`item`) for `puzzle` (the side view must be shown). */
export async function sideViewItem(page, puzzle) {
  const code = `code:has-text("${puzzle.slice(0, 12)}")`;
  const side = await findFrame(page, `li[data-mode] ${code}`, 60_000);
  return { side, item: side.locator('li[data-mode]', { has: side.locator(code) }).first() };
}

/** Reloads the window and answers the inspector of `puzzle` again (restored from its webview state). */
export async function reloadToInspector(page, puzzle) {
  // Give the workbench a moment to persist the webview state and the editor layout before reloading.
  await page.waitForTimeout(2000);
  await page.reload({ waitUntil: 'domcontentloaded' });
  try {
    return await findFrame(page, inspectorOf(puzzle), 45_000);
  } catch {
    // The restored panel's webview loads only when its tab is visible: bring the tab forward, then look again.
    await page.locator('.tab', { hasText: puzzle.slice(0, 10) }).first().click({ timeout: 15_000 });
    return await findFrame(page, inspectorOf(puzzle), 45_000);
  }
}

/** Accepts the save dialog an export button opened (its proposed name, in the workspace). */
export async function acceptSaveDialog(page) {
  const qi = page.locator('.quick-input-widget');
  await qi.locator('input').waitFor({ state: 'visible', timeout: 30_000 });
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
}

/** The file an export saved, from its status text "… saved <path in the workspace>": its path and its lines. */
export function savedFile(folder, status) {
  const rel = /saved (.*)$/.exec(status ?? '')?.[1];
  const file = rel ? path.join(folder, rel) : '';
  assert(file && existsSync(file), `no file for "${status}"`);
  return { rel, lines: readFileSync(file, 'utf8').split('\n') };
}
