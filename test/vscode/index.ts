/**
 * Entry of the tests that run inside VS Code's extension host (the test-electron contract: VS Code `require`s this
 * module from `extensionTestsPath` and awaits `run()`). Bundled by esbuild to dist/test/vscode/index.js with mocha
 * left external; started by test/vscode/run-in-code-server.mjs.
 *
 * Every `test/vscode/**\/*.test.ts` is bundled (esbuild glob import) and loaded here: add a file, rebuild, done.
 * Env (set on the code-server process, it reaches the extension host): HRM_LENS_VSCODE_GREP = mocha --grep.
 *
 * Console protocol read by the runner (console output of the extension host reaches it via codeAutomationLog):
 *   HRM_LENS_METRIC <name>=<value>                      e.g. activationMs=12.3 (tests call `metric()`)
 *   HRM_LENS_RESULT {"passed":N,"failed":N,"skipped":N}  once, at the end
 */
import Mocha from 'mocha';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';

/** Source folder of these tests (this bundle lives in dist/test/vscode/). */
const sourceDir = path.resolve(__dirname, '..', '..', '..', 'test', 'vscode');

function testNames(): string[] {
  if (!existsSync(sourceDir)) throw new Error(`test sources not found at ${sourceDir}`);
  return readdirSync(sourceDir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.ts') && !f.split(path.sep).includes('workspace'))
    .map((f) => f.slice(0, -'.test.ts'.length).split(path.sep).join('/'))
    .sort();
}

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: 30_000, reporter: 'spec' });
  const grep = process.env.HRM_LENS_VSCODE_GREP;
  // The Restricted Mode suite runs only in its own pass (run-in-code-server.mjs --untrusted): left out of the others.
  if (grep) mocha.grep(grep);
  else mocha.grep('HRM untrusted workspace').invert();
  // Define suite/test/... as globals for the test files, then load them (they register their tests on load).
  mocha.suite.emit('pre-require', globalThis, 'file', mocha);
  const names = testNames();
  for (const name of names) {
    try {
      await import(`./${name}.test.ts`);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(/not found in bundle/i.test(msg) ? `${name}.test.ts is not in the bundle: run \`npm run build\`` : msg);
    }
  }
  console.log(`extension host: VS Code ${vscode.version} (${vscode.env.appName}), Node ${process.versions.node}, pid ${process.pid}`);
  console.log(`in-host test files: ${names.map((n) => `${n}.test.ts`).join(', ') || '(none)'}`);

  const stats = await new Promise<{ passed: number; failed: number; skipped: number }>((resolve, reject) => {
    try {
      const runner = mocha.run(() => {
        const s = runner.stats;
        resolve({ passed: s?.passes ?? 0, failed: s?.failures ?? 0, skipped: s?.pending ?? 0 });
      });
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e)));
    }
  });
  console.log(`HRM_LENS_RESULT ${JSON.stringify(stats)}`);
  if (stats.failed > 0) throw new Error(`${stats.failed} in-host test(s) failed`);
  if (stats.passed === 0) throw new Error('no in-host test ran');
}
