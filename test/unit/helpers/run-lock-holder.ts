/**
 * A process that takes a run folder's lock, for run-lock.test.ts:
 *   node --import tsx run-lock-holder.ts DIR race GO_FILE   prints "ready", waits for GO_FILE, tries once and prints
 *                                                           {"ok":true,"notices":[…]} or {"ok":false,"message":…};
 *                                                           a winner holds the lock until its stdin closes
 *   node --import tsx run-lock-holder.ts DIR hold           takes the lock, prints "locked", then waits (for a signal)
 *   node --import tsx run-lock-holder.ts DIR exit           takes the lock and exits at once without releasing it
 */
import { existsSync } from 'node:fs';
import { acquireRunLock } from '../../../engine/train/run-lock';

const [dir, mode, go] = process.argv.slice(2);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (mode === 'race') {
    process.stdout.write('ready\n');
    while (!existsSync(go)) await sleep(2);
    const notices: string[] = [];
    try {
      const lock = await acquireRunLock(dir, { command: 'run-lock-holder race', onNotice: (m) => notices.push(m) });
      process.stdout.write(`${JSON.stringify({ ok: true, notices })}\n`);
      process.stdin.resume();
      await new Promise((r) => process.stdin.on('end', r));
      lock.release();
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ ok: false, message: (err as Error).message })}\n`);
    }
    process.exit(0);
  }
  await acquireRunLock(dir, { command: `run-lock-holder ${mode}` });
  if (mode === 'exit') process.exit(3);
  process.stdout.write('locked\n');
  setInterval(() => {}, 1000);
}

void main();
