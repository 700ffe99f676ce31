#!/usr/bin/env node
// The inspector in a real browser: a disposable code-server (scripts/code-server.mjs) with the extension loaded from
// the repository (the `payload` extensionDevelopmentPath, no tests module), a copy of test/vscode/workspace open, and
// headless Chromium driven by playwright-core, as a researcher would use it:
//
//   palette → "HRM: Inspect Puzzle" → type a 4×4 puzzle in the input box → the inspector panel renders (webview
//   iframe found by its content) → Home / → scrub the segments (label, slider and grid follow) → compute a 21×21
//   landscape → export the trace as CSV through the save dialog → screenshots in the dark and the light theme →
//   the landscape's paper style, chosen with the keyboard (kept across the reload below) →
//   a 9×9 puzzle with 16 segments (a random-weight checkpoint made by make-random-checkpoint.ts, picked from the
//   quick pick): the time from the trace's arrival in the webview to the first painted frame (printed) →
//   back to the 4×4 tab (state kept: segment, landscape; high-contrast screenshot) → a window reload (the panel is
//   restored by the serializer) → the HRM side view lists the puzzle with its class → palette "HRM: Train" through
//   its five prompts (tiny-4x4, 40 steps): the training dashboard's step count grows live, then it says finished →
//   hover the new checkpoint in the Runs tree: the tooltip shows its held-out accuracy → the run's context menu →
//   Ensemble Report: the report panel (200 puzzles, the ablation table, the agreement matrix read by the arrow keys) →
//   close all editors, click the puzzle in the HRM side view: its inspector opens again.
//
// Builds nothing: run `npm run build` first. Screenshots: out/shots/e2e-*.png (ignored output; scripts/shots.mjs). Closing line:
// "N passed, N failed, N skipped"; exit 1 on failure. Without code-server or Chromium: skipped (failed when CI is set).
// Env: HRM_LENS_KEEP=1 (keep the temp folders), HRM_LENS_VERBOSE=1 (browser console). The setup, the counting and the
// cleanup are harness.mjs's; the workbench helpers (frames, palette, theme, side view), workbench.mjs's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { SHOTS_DIR as shots, SHOTS_REL } from '../../scripts/shots.mjs';
import { assert, openWalk, root } from './harness.mjs';
import {
  acceptSaveDialog, findFrame, inspectorOf, palette, reloadToInspector, savedFile, segmentOf, setTheme, sideViewItem,
} from './workbench.mjs';

const PUZZLE_4 = '.1.....3..32....';
const PUZZLE_9 = '003020600900305001001806400008102900700000008006708200002609500800203009005010300';

const { step, log, fail, folder, run } = await openWalk('e2e', 'hrm-lens-e2e-');

// ---------------------------------------------------------------- set up: a 9×9 checkpoint in the workspace copy
const ckptDir = path.join(folder, '.hrm', 'runs', 'random-9x9-s16');
const made = spawnSync(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), path.join(root, 'test', 'e2e', 'make-random-checkpoint.ts'), ckptDir, '9', '16'],
  { encoding: 'utf8', cwd: root });
const ckpt9 = made.stdout.trim().split('\n').pop();
if (made.status !== 0 || !ckpt9 || !existsSync(ckpt9)) fail(`making the 9×9 checkpoint failed:\n${made.stderr}`);

const gridText = async (frame) => (await frame.locator('#grid .cell').allTextContents()).map((c) => c || '.').join('');

await run(async (page) => {
  let frame;
  await step(`palette → HRM: Inspect Puzzle → ${PUZZLE_4} → the inspector panel renders`, async () => {
    const qi = await palette(page, 'HRM: Inspect Puzzle');
    await qi.locator('.quick-input-title', { hasText: 'HRM: Inspect Puzzle' }).waitFor({ timeout: 30_000 });
    await page.keyboard.type(PUZZLE_4);
    const tCommand = Date.now();
    await page.keyboard.press('Enter');
    frame = await findFrame(page, 'body[data-render-ms]', 120_000);
    const commandToGrid = Date.now() - tCommand;
    const title = await frame.locator('#title').textContent();
    assert(title?.includes(PUZZLE_4), `title "${title}"`);
    const badge = await frame.locator('#badge').textContent();
    assert(/success|failure/.test(badge ?? ''), `class badge "${badge}"`);
    // The strip comes after the trace (a second engine request): wait for its chips.
    await frame.locator('#strip .chip.vote').waitFor({ timeout: 120_000 });
    const chips = await frame.locator('#strip .chip').count();
    assert(chips === 5, `perturbation strip: ${chips} chips, expected 4 relabelings + the vote`);
    log(`inspect latency, command → first grid (engine cold start included): ${commandToGrid} ms`);
    return `class "${badge}", first render ${await frame.locator('body').getAttribute('data-render-ms')} ms, command → first grid ${commandToGrid} ms`;
  });

  await step('Home, → and ← scrub the segments: label, slider and grid follow', async () => {
    const last = await segmentOf(frame);
    assert(last === 4, `opens at the last segment (got ${last})`);
    await frame.locator('#segment-label').click();
    await page.keyboard.press('Home');
    await frame.locator('body[data-segment="1"]').waitFor({ timeout: 5000 });
    const g1 = await gridText(frame);
    const label1 = await frame.locator('#segment-label').textContent();
    let changedAt = null;
    for (let k = 2; k <= 4; k++) {
      await page.keyboard.press('ArrowRight');
      await frame.locator(`body[data-segment="${k}"]`).waitFor({ timeout: 5000 });
      assert((await frame.locator('#scrubber').inputValue()) === String(k - 1), 'the slider follows the keys');
      if (changedAt === null && (await gridText(frame)) !== g1) changedAt = k;
    }
    const label = await frame.locator('#segment-label').textContent();
    assert(label !== label1 && /segment 4 \/ 4/.test(label ?? ''), `segment label "${label1}" → "${label}"`);
    await page.keyboard.press('ArrowLeft');
    await frame.locator('body[data-segment="3"]').waitFor({ timeout: 5000 });
    return changedAt ? `the grid changed first at segment ${changedAt}` : 'the grid is the same at every segment (labels and markers moved)';
  });

  await step('Compute landscape (21×21, basins): the E heatmap with basins and the trajectory', async () => {
    await frame.locator('#landscape-size').selectOption('21');
    await frame.locator('#landscape-basins').click();
    await frame.locator('#landscape-compute').click();
    await frame.locator('#landscape-status', { hasText: /points in/ }).waitFor({ timeout: 180_000 });
    assert(/basins: .*solution/.test(await frame.locator('#landscape-status').textContent() ?? ''), 'the basins are listed');
    const w = await frame.locator('#landscape').evaluate((c) => c.width);
    assert(w > 0, 'the landscape canvas is drawn');
    return await frame.locator('#landscape-status').textContent();
  });

  await step('export the trace as CSV through the save dialog', async () => {
    await frame.locator('#export-csv').click();
    await acceptSaveDialog(page);
    await frame.locator('#export-status', { hasText: /saved/ }).waitFor({ timeout: 30_000 });
    const status = await frame.locator('#export-status').textContent();
    const { lines } = savedFile(folder, status);
    assert(lines[0].startsWith('segment,exact,wrong,energy') && lines.length > 4 * 16, `CSV has ${lines.length} lines`);
    return status;
  });

  await step('screenshots in the dark and the light theme', async () => {
    await page.keyboard.press('Escape');
    await setTheme(page, frame, 'Dark Modern', 'vscode-dark');
    await page.screenshot({ path: path.join(shots, 'e2e-inspector-dark.png') });
    await frame.locator('#landscape').evaluate((c) => c.scrollIntoView({ block: 'end' }));
    await page.screenshot({ path: path.join(shots, 'e2e-inspector-dark-2.png') });
    await frame.locator('#title').evaluate((t) => t.scrollIntoView({ block: 'start' }));
    await setTheme(page, frame, 'Light Modern', 'vscode-light');
    await page.screenshot({ path: path.join(shots, 'e2e-inspector-light.png') });
    await frame.locator('#landscape').evaluate((c) => c.scrollIntoView({ block: 'end' }));
    await page.screenshot({ path: path.join(shots, 'e2e-inspector-light-2.png') });
    return `${SHOTS_REL}/e2e-inspector-{dark,light}{,-2}.png`;
  });

  // The landscape's second style, chosen with the keyboard (← / → move between the radios, not the segment).
  let paperSample = '';
  await step('the landscape in the paper style: E clipped at 40, 5% of the arrows at full length', async () => {
    const canvas = frame.locator('#landscape');
    assert((await canvas.getAttribute('data-style')) === 'normalized', 'the normalized view is the default');
    await frame.locator('input[name="landscape-style"][value="normalized"]').click();
    await page.keyboard.press('ArrowRight');
    await frame.locator('#landscape[data-style="paper"]').waitFor({ timeout: 10_000 });
    assert(await frame.locator('input[name="landscape-style"][value="paper"]').isChecked(), 'the paper radio is checked');
    assert((await segmentOf(frame)) === 3, 'the arrow key moved the radio, not the segment');
    const clip = await canvas.getAttribute('data-clip');
    const arrows = Number(await canvas.getAttribute('data-arrows'));
    paperSample = (await canvas.getAttribute('data-arrow-sample')) ?? '';
    assert(clip === '40', `clip ${clip}`);
    assert(arrows === 22 && paperSample.split(',').length === 22, `${arrows} arrows drawn, expected 5% of 21×21 = 22`);
    await canvas.evaluate((c) => c.scrollIntoView({ block: 'end' }));
    await page.screenshot({ path: path.join(shots, 'e2e-landscape-paper.png') });
    return `${arrows} arrows, clip ${clip}; ${SHOTS_REL}/e2e-landscape-paper.png`;
  });

  let renderMs = NaN;
  await step('a 9×9 puzzle, 16 segments: the inspector renders it (render time printed)', async () => {
    // The checkpoint pick closes when focus leaves it (a webview that takes focus late, on a loaded host): then the
    // command is asked again, up to three times.
    let ckRow;
    for (let attempt = 1; ; attempt++) {
      const qi = await palette(page, 'HRM: Inspect Puzzle');
      await qi.locator('.quick-input-title', { hasText: 'HRM: Inspect Puzzle' }).waitFor({ timeout: 30_000 });
      await page.keyboard.type(PUZZLE_9);
      await page.keyboard.press('Enter');
      ckRow = qi.locator('.monaco-list-row', { hasText: 'step-000000.safetensors' }).first();
      try {
        await ckRow.waitFor({ timeout: 20_000 });
        break;
      } catch (e) {
        if (attempt === 3) throw e;
        log(`the checkpoint pick closed before its row showed (attempt ${attempt}); asking again`);
        await page.keyboard.press('Escape');
      }
    }
    const tCommand = Date.now();
    await ckRow.click(); // a click, not Enter: an Enter can land before the list is ready and be lost
    const f9 = await findFrame(page, `#title:has-text("${PUZZLE_9.replace(/0/g, '.').slice(0, 30)}")`, 120_000);
    await f9.locator('body[data-render-ms]').waitFor({ timeout: 60_000 });
    log(`inspect latency, command → first grid (9×9, 16 segments, engine warm): ${Date.now() - tCommand} ms`);
    renderMs = Number(await f9.locator('body').getAttribute('data-render-ms'));
    assert((await f9.locator('#scrubber').getAttribute('max')) === '15', '16 segments');
    assert((await f9.locator('#grid .cell').count()) === 81, '81 cells');
    await page.screenshot({ path: path.join(shots, 'e2e-inspector-9x9-light.png') });
    assert(Number.isFinite(renderMs) && renderMs >= 0, `data-render-ms "${renderMs}"`);
    return `render ${renderMs.toFixed(1)} ms`;
  });
  log(`9×9 × 16 segments: trace arrival → first painted frame ${renderMs.toFixed(1)} ms`);

  // The 4×4 panel was left at segment 3 with a landscape. Its webview is not retained when hidden: it comes back from
  // vscode.setState (the host sees `restored` in 'ready' and posts nothing), and after a reload from the serializer.
  const panel4 = inspectorOf(PUZZLE_4);
  await step('a tab switch keeps the segment and the landscape (webview state)', async () => {
    await page.locator('.tabs-container .tab', { hasText: PUZZLE_4.slice(0, 12) }).first().click();
    const f = await findFrame(page, panel4, 30_000);
    await page.waitForTimeout(500);
    assert((await segmentOf(f)) === 3, `segment ${await segmentOf(f)} after the switch`);
    const status = await f.locator('#landscape-status').textContent();
    assert(/restored/.test(status ?? '') && (await f.locator('#landscape').evaluate((c) => c.width)) > 0, `landscape status "${status}"`);
    await setTheme(page, f, 'Dark High Contrast', 'vscode-high-contrast');
    await page.screenshot({ path: path.join(shots, 'e2e-inspector-high-contrast.png') });
    return `${SHOTS_REL}/e2e-inspector-high-contrast.png`;
  });

  await step('a window reload restores the inspector panel (WebviewPanelSerializer)', async () => {
    const f = await reloadToInspector(page, PUZZLE_4);
    assert((await segmentOf(f)) === 3, `segment ${await segmentOf(f)} after the reload`);
    assert((await f.locator('#grid .cell').count()) === 16, 'the grid is back');
    // The landscape style chosen before survives, with the same arrows.
    await f.locator('#landscape[data-style="paper"]').waitFor({ timeout: 10_000 });
    assert(await f.locator('input[name="landscape-style"][value="paper"]').isChecked(), 'the paper style is still chosen');
    assert((await f.locator('#landscape').getAttribute('data-arrow-sample')) === paperSample, 'the same arrows after the reload');
  });

  await step('the HRM side view lists the inspected puzzle with its class (kept across the reload)', async () => {
    await page.locator('.activitybar a.action-label[aria-label^="HRM"]').click();
    const { side, item } = await sideViewItem(page, PUZZLE_4);
    const badge = (await item.locator('.badge').textContent())?.trim();
    assert(/^(trivial|non-trivial) (success|failure)$/.test(badge ?? ''), `side view badge "${badge}"`);
    const dist = await side.locator('.dist').textContent();
    assert(dist?.includes(badge ?? '?'), `class distribution "${dist}"`);
    await page.screenshot({ path: path.join(shots, 'e2e-side-view.png') });
    return `"${badge}"; distribution: ${dist}`;
  });

  let dashboard;
  await step('palette → HRM: Train (tiny-4x4, 40 steps): the training dashboard moves, then finishes', async () => {
    // The focus is in the side view's webview: give it back to the workbench first.
    await page.locator('.part.editor .tab.active').first().click();
    const qi = await palette(page, 'HRM: Train');
    const pick = async (title, text) => {
      await qi.locator('.quick-input-title', { hasText: title }).waitFor({ timeout: 30_000 });
      const row = qi.locator('.monaco-list-row', { hasText: text }).first();
      await row.waitFor({ timeout: 30_000 });
      await row.click();
    };
    await pick('preset', 'tiny-4x4');
    await pick('training data', 'Generated puzzles');
    await pick('data mixing', 'Off');
    await qi.locator('.quick-input-title', { hasText: 'steps' }).waitFor({ timeout: 30_000 });
    await page.keyboard.press('Control+a');
    await page.keyboard.type('40');
    await page.keyboard.press('Enter');
    // Click the setting's row (listed first): an Enter pressed as the title changes can land before the list has
    // its items, and is then lost (seen once in CI: the pick stayed open with "auto" highlighted).
    await pick('backend', 'the hrmLens.backend setting');
    await qi.locator('.quick-input-title', { hasText: 'backend' }).waitFor({ state: 'hidden', timeout: 30_000 });
    dashboard = await findFrame(page, 'body[data-status] #title:has-text("tiny-4x4")', 120_000);
    // Live: the step count grows while the run trains.
    const stepsNow = async () => Number((await dashboard.locator('body').getAttribute('data-steps')) ?? 0);
    const seen = new Set();
    const end = Date.now() + 240_000;
    let status = '';
    while (Date.now() < end) {
      status = (await dashboard.locator('body').getAttribute('data-status')) ?? '';
      seen.add(await stepsNow());
      if (status === 'finished' || status === 'failed') break;
      await page.waitForTimeout(300);
    }
    assert(status === 'finished', `dashboard status "${status}"`);
    assert((await stepsNow()) === 40, `40 steps shown, got ${await stepsNow()}`);
    const live = [...seen].filter((n) => n > 0 && n < 40);
    assert(live.length >= 2, `the dashboard moved while training (step counts seen: ${[...seen].sort((a, b) => a - b).join(', ')})`);
    const backend = await dashboard.locator('[data-stat="backend"] .v').textContent();
    assert(backend && backend !== '–', `backend "${backend}"`);
    assert((await dashboard.locator('#checkpoints button').count()) >= 1, 'the final checkpoint is listed');
    await page.screenshot({ path: path.join(shots, 'e2e-dashboard.png') });
    return `${live.length} intermediate step counts seen; backend ${backend}`;
  });

  await step('hover a checkpoint in the Runs tree: its held-out accuracy', async () => {
    const runRow = page.locator('.monaco-list-row', { hasText: /tiny-4x4-s0-/ }).first();
    await runRow.waitFor({ timeout: 30_000 });
    if ((await runRow.getAttribute('aria-expanded')) !== 'true') await runRow.click();
    const ckRow = page.locator('.monaco-list-row', { hasText: 'step-000040' }).first();
    await ckRow.waitFor({ timeout: 30_000 });
    const desc = (await ckRow.locator('.label-description').textContent()) ?? '';
    // A hover shows after the pointer rests on the row; a tree refresh (the run's files change after training) re-renders
    // the row and drops a pending hover. So move away and rest on the label again, a few times, before failing.
    const hover = page.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'held-out' }).first();
    let shown = false;
    let attempt = 0;
    for (; attempt < 6 && !shown; attempt++) {
      await page.mouse.move(5, 5);
      await page.waitForTimeout(200);
      await ckRow.locator('.label-name').first().hover();
      shown = await hover.waitFor({ state: 'visible', timeout: 6_000 }).then(() => true, () => false);
    }
    assert(shown, 'no hover with the held-out accuracy appeared over the checkpoint row in 6 tries');
    const text = (await hover.textContent()) ?? '';
    assert(/\d+(\.\d+)?%/.test(text), `hover text "${text.slice(0, 200)}"`);
    await page.screenshot({ path: path.join(shots, 'e2e-hover.png') });
    return `description "${desc.trim()}"; hover (try ${attempt}): ${text.replace(/\s+/g, ' ').slice(0, 120)}`;
  });

  await step('the run\'s context menu → Ensemble Report: the report panel (ablation table, matrix read by the keys)', async () => {
    await page.mouse.move(5, 5);
    const runRow = page.locator('.monaco-list-row', { hasText: /tiny-4x4-s0-/ }).first();
    await runRow.click({ button: 'right' });
    const item = page.locator('.context-view .action-menu-item', { hasText: 'Ensemble Report' }).first();
    await item.waitFor({ timeout: 15_000 });
    await page.waitForTimeout(300); // the menu fades in; a click during the animation can be lost (seen locally)
    await item.click();
    // If the menu is still open, the click was lost: the item is under the pointer, so it is focused; Enter runs it.
    const menuGone = await page.locator('.context-view .monaco-menu').waitFor({ state: 'detached', timeout: 3_000 }).then(() => true, () => false);
    // (If the menu closes meanwhile, there is nothing to hover and the item has run: no Enter.)
    if (!menuGone && (await item.hover({ timeout: 2_000 }).then(() => true, () => false))) await page.keyboard.press('Enter');
    const report = await findFrame(page, 'body[data-puzzles]', 300_000);
    const puzzles = Number(await report.locator('body').getAttribute('data-puzzles'));
    assert(puzzles === 200, `${puzzles} puzzles in the report, expected the 200 generated ones`);
    const rows = await report.locator('#ablation tbody tr').allTextContents();
    assert(rows.length === 4 && rows.every((r) => /\d+\.\d%/.test(r)), `ablation rows: ${JSON.stringify(rows)}`);
    // The agreement matrix is keyboard reachable: focus reads the cell under the cursor, → moves it to the next pass.
    await report.locator('#matrix').focus();
    await report.locator('#matrix-info', { hasText: /^puzzle / }).waitFor({ timeout: 10_000 });
    const first = await report.locator('#matrix-info').textContent();
    await page.keyboard.press('ArrowRight');
    await report.locator('#matrix-info', { hasText: /^puzzle / }).filter({ hasNotText: first ?? '' }).waitFor({ timeout: 10_000 });
    const info = await report.locator('#matrix-info').textContent();
    assert(/: (right|wrong), (halted|not halted)$|oracle (solved|not solved)/.test(info ?? ''), `matrix info "${info}"`);
    await page.screenshot({ path: path.join(shots, 'e2e-ensemble-matrix.png') });
    await report.locator('#title').evaluate((t) => t.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: path.join(shots, 'e2e-ensemble.png') });
    return `${menuGone ? '' : 'menu click lost, Enter ran the item; '}${rows.length} ablation rows, first "${rows[0].replace(/\s+/g, ' ').trim()}"; cursor: ${info}`;
  });

  await step('a click on a puzzle in the HRM side view reopens its inspector', async () => {
    await page.locator('.part.editor .tab.active').first().click();
    await palette(page, 'View: Close All Editors');
    await page.locator('.part.editor .tab').first().waitFor({ state: 'detached', timeout: 30_000 });
    const { item } = await sideViewItem(page, PUZZLE_4);
    await item.locator('button').click();
    const f = await findFrame(page, inspectorOf(PUZZLE_4), 120_000);
    assert((await f.locator('#grid .cell').count()) === 16, 'the reopened inspector shows the 4×4 grid');
    const badge = (await f.locator('#badge').textContent())?.trim();
    assert(/success|failure/.test(badge ?? ''), `class badge "${badge}"`);
    return `reopened; class "${badge}"`;
  });
});
