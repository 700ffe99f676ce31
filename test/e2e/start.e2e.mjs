#!/usr/bin/env node
// `npm start` as a user runs it, checked: scripts/start.mjs --check packages the extension, makes the demo workspace,
// starts code-server with the .vsix INSTALLED (not loaded from the repository) and drives headless Chromium through
// it (the workbench with HRM Lens, the shipped run's accuracy in the Runs view, the inspector from a CodeLens). Each
// "  ✔" / "  ✘" line of its output counts as one test. Closing line: "N passed, N failed, N skipped". Without
// code-server or Chromium: skipped (failed when CI is set; the rule is harness.mjs's). Screenshot: out/shots/start-demo.png.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createReport, root } from './harness.mjs';

const { requireBrowser, count, finish } = createReport('start-e2e');
requireBrowser();
const child = spawn(process.execPath, [path.join(root, 'scripts', 'start.mjs'), '--check'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (c) => { out += c; process.stdout.write(c); });
const status = await new Promise((resolve) => child.on('close', resolve));
const passed = (out.match(/^ {2}✔ /gm) ?? []).length;
let failed = (out.match(/^ {2}✘ /gm) ?? []).length;
if (status !== 0 && failed === 0) failed = 1;
if (passed === 0 && failed === 0) failed = 1;
count(passed, failed);
finish();
