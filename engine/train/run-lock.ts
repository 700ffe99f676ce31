/**
 * The lock of a run folder while a training writes it: `<run>/.lock`, a small JSON file
 * `{ pid, host, started, command, token }` that appears atomically with its whole content (written to a temp file
 * beside it, then hard-linked into place, which fails when the name exists; where hard links are not supported, an
 * O_CREAT|O_EXCL create). A second writer of the same folder is refused with RunLockedError, whose message names the
 * holder's pid, host and start time and the lock file.
 *
 * A lock left behind by a process that is gone (same host, pid no longer running — or our own pid, when this process
 * does not hold it) is stale: it is taken over, and `onNotice` says so. A lock from another host cannot be checked
 * and is refused unless `forceUnlock` is given. Only the holder of the take-over mutex `<run>/.lock.takeover` (held
 * for the few system calls of one take-over) removes a lock, and only when it still reads as judged: when several
 * processes find the same stale lock, one replaces it with its own (a rename: the folder is never without a lock), and
 * the others are refused.
 *
 * The lock is released by RunLock.release (the trainer's close), and when the process exits (the 'exit' event, and
 * SIGINT, SIGTERM or SIGHUP when nothing else handles them); a process killed outright leaves a stale lock, which
 * the next writer takes over.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

/** The lock file's name inside a run folder (a dot-file: never listed as a checkpoint). */
export const RUN_LOCK_FILE = '.lock';

export interface RunLockInfo {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  started: string;
  /** What holds it (the command line, or the engine request). */
  command: string;
  /** Random: tells this lock from an earlier one of the same pid. */
  token: string;
}

export interface RunLockOptions {
  /** Recorded in the lock as what writes the folder (default: this process's command line). */
  command?: string;
  /** Take the lock whoever holds it (a lock from another host, or one that cannot be read). */
  forceUnlock?: boolean;
  /** A stale or forced lock was taken over (one line, no newline). */
  onNotice?(message: string): void;
}

/** Another process writes the run folder (or its lock cannot be judged). */
export class RunLockedError extends Error {
  constructor(readonly dir: string, readonly file: string, readonly holder: RunLockInfo | undefined, message: string) {
    super(message);
    this.name = 'RunLockedError';
  }
}

/** Times an unreadable lock is read again (its writer may be between create and write, without hard links). */
const UNREADABLE_RETRIES = 10;
const RETRY_MS = 20;
/** Rounds of create → judge → take over before giving up (a round waits RETRY_MS while another process takes over). */
const MAX_ATTEMPTS = 100;

const held = new Set<RunLock>();

export class RunLock {
  private released = false;

  /** @internal use acquireRunLock */
  constructor(readonly dir: string, readonly file: string, readonly info: RunLockInfo, private readonly text: string) {}

  /** Remove the lock file, unless someone has taken it over meanwhile. Idempotent; never throws. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this);
    try {
      if (readLockText(this.file) === this.text) fs.unlinkSync(this.file);
    } catch {
      // gone already, or the folder was removed
    }
    updateProcessHooks();
  }

  get isReleased(): boolean {
    return this.released;
  }
}

/** True when a process with this pid runs on this host (EPERM: it runs, as another user). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock of a folder as written, or undefined when there is none or it cannot be read as a lock. */
export function readRunLock(dir: string): RunLockInfo | undefined {
  try {
    const text = readLockText(path.join(dir, RUN_LOCK_FILE));
    return text === undefined ? undefined : parseLock(text);
  } catch {
    return undefined;
  }
}

function parseLock(text: string): RunLockInfo | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.pid !== 'number' || !Number.isSafeInteger(o.pid) || o.pid <= 0 || typeof o.host !== 'string') return undefined;
  return {
    pid: o.pid, host: o.host, started: typeof o.started === 'string' ? o.started : '?',
    command: typeof o.command === 'string' ? o.command : '', token: typeof o.token === 'string' ? o.token : '',
  };
}

const errCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** A lock is a line of JSON: anything longer is not one of ours (and is not read whole). */
const MAX_LOCK_BYTES = 64 * 1024;

/**
 * The text of a lock file, undefined when there is none. What cannot be a lock (too long, not a regular file,
 * unreadable) reads as a marker that names the file's identity, so that a take-over still sees whether it changed.
 */
function readLockText(file: string): string | undefined {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  }
  const marker = `\u0000not a lock: ${st.ino} ${st.size} ${st.mtimeMs}`;
  if (!st.isFile() || st.size > MAX_LOCK_BYTES) return marker;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(MAX_LOCK_BYTES + 1);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return n > MAX_LOCK_BYTES ? marker : buf.subarray(0, n).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    if (errCode(err) === 'ENOENT') return undefined;
    return marker;
  }
}
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EINVAL', 'EXDEV']);

/** Create `file` with `text`, or return false when it exists. */
function createExclusive(file: string, text: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, text, { flag: 'wx' });
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    if (!LINK_UNSUPPORTED.has(errCode(err) ?? '')) throw err;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  // No hard links on this file system: create with O_CREAT|O_EXCL and write (a reader may briefly see it empty).
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (err) {
    if (errCode(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * Remove `file` if it still reads `expected`: move it aside (atomic), check what was moved, and put it back when it
 * was a fresh one. Used for a take-over mutex left by a process that died while taking over.
 */
function removeIfUnchanged(file: string, expected: string): void {
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return; // gone already
  }
  if (readLockText(aside) !== expected) {
    try {
      fs.linkSync(aside, file);
    } catch (err) {
      if (errCode(err) !== 'EEXIST') {
        try { fs.renameSync(aside, file); } catch { /* nothing more to do */ }
      }
    }
  }
  fs.rmSync(aside, { force: true });
}

/** A take-over mutex older than this is abandoned whoever wrote it (a take-over takes microseconds). */
const TAKEOVER_STALE_MS = 10_000;

/**
 * Replace the lock `file` by `replacement` if it still reads `expected`, holding the take-over mutex
 * `<file>.takeover` meanwhile (only its holder replaces a lock, so a stale lock is taken once and a fresh one never).
 * The new lock is renamed over the old one, so there is no moment without a lock file in which a process that did not
 * take over could create one. 'replaced': the lock is now `replacement`; 'removed': the lock was gone (or could only
 * be removed, not replaced); 'busy': another process is taking over now; 'changed': the lock is no longer the one
 * judged.
 */
function takeOver(file: string, expected: string, host: string, replacement: string): 'replaced' | 'removed' | 'changed' | 'busy' {
  const mutex = `${file}.takeover`;
  const mine = `${JSON.stringify({ pid: process.pid, host, started: new Date().toISOString() })}\n`;
  if (!createExclusive(mutex, mine)) {
    try {
      const text = readLockText(mutex);
      if (text === undefined) return 'busy';
      const h = parseLock(text);
      const age = Date.now() - fs.statSync(mutex).mtimeMs;
      // Mutexes are held only inside this synchronous function: one with our own pid is left from an earlier process.
      const dead = h !== undefined && h.host === host && (h.pid === process.pid || !processIsAlive(h.pid));
      if (dead || age > TAKEOVER_STALE_MS) removeIfUnchanged(mutex, text);
    } catch {
      // released meanwhile
    }
    return 'busy';
  }
  try {
    const current = readLockText(file);
    if (current === undefined) return 'removed';
    if (current !== expected) return 'changed';
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.writeFileSync(tmp, replacement, { flag: 'wx' });
      fs.renameSync(tmp, file);
      return 'replaced';
    } catch {
      fs.rmSync(tmp, { force: true });
      fs.rmSync(file, { force: true });
      return 'removed';
    }
  } finally {
    fs.rmSync(mutex, { force: true });
  }
}

function describeHolder(h: RunLockInfo): string {
  return `pid ${h.pid} on host ${h.host} since ${h.started}`;
}

/** `(lock file F)`, with what holds it when known. */
function lockFileNote(file: string, h: RunLockInfo | undefined): string {
  return `(lock file ${file}${h?.command ? `, held by: ${h.command}` : ''})`;
}

/** Take the lock of run folder `dir` (which must exist), or throw RunLockedError. */
export async function acquireRunLock(dir: string, options: RunLockOptions = {}): Promise<RunLock> {
  const file = path.join(dir, RUN_LOCK_FILE);
  const host = os.hostname();
  const info: RunLockInfo = {
    pid: process.pid, host, started: new Date().toISOString(),
    command: options.command ?? [path.basename(process.argv[1] ?? process.argv0), ...process.argv.slice(2)].join(' '),
    token: randomBytes(8).toString('hex'),
  };
  const text = `${JSON.stringify(info)}\n`;
  const notices: string[] = [];
  let unreadable = 0;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const took = (): RunLock => {
      const lock = new RunLock(dir, file, info, text);
      held.add(lock);
      updateProcessHooks();
      for (const n of notices) options.onNotice?.(n);
      return lock;
    };
    if (createExclusive(file, text)) return took();
    const current = readLockText(file);
    if (current === undefined) continue; // released meanwhile
    const holder = parseLock(current);
    let notice: string;
    if (!holder) {
      if (!options.forceUnlock && unreadable++ < UNREADABLE_RETRIES) {
        await sleep(RETRY_MS);
        continue;
      }
      if (!options.forceUnlock) {
        throw new RunLockedError(dir, file, undefined, `run folder ${dir} has a lock file that cannot be read (${file}); `
          + 'if no training writes this folder, delete the lock file or pass --force-unlock');
      }
      notice = `removed the unreadable lock file ${file} (--force-unlock)`;
    } else if (options.forceUnlock) {
      notice = `took over the lock of ${describeHolder(holder)} (--force-unlock)`;
    } else if (holder.host !== host) {
      throw new RunLockedError(dir, file, holder, `run folder ${dir} is being written by ${describeHolder(holder)} ${lockFileNote(file, holder)}; `
        + `that host cannot be checked from ${host}: if no training writes this folder any more, pass --force-unlock or delete the lock file`);
    } else if (processIsAlive(holder.pid) && !(holder.pid === process.pid && ![...held].some((l) => l.info.token === holder.token))) {
      throw new RunLockedError(dir, file, holder, `run folder ${dir} is being written by ${describeHolder(holder)} ${lockFileNote(file, holder)}; `
        + 'wait for that training to end or stop it');
    } else {
      notice = `took over a stale lock of pid ${holder.pid} on host ${holder.host} (since ${holder.started}), which is no longer running (lock file ${file})`;
    }
    const outcome = takeOver(file, current, host, text);
    if (outcome === 'replaced') {
      notices.push(notice);
      return took();
    }
    if (outcome === 'removed') notices.push(notice);
    else if (outcome === 'busy') await sleep(RETRY_MS);
  }
  const holder = readRunLock(dir);
  throw new RunLockedError(dir, file, holder, `run folder ${dir} is being written by ${holder ? describeHolder(holder) : 'another process'} `
    + `${lockFileNote(file, holder)}; other writers kept taking its lock`);
}

// ------------------------------------------------------------------------------------------ release on exit

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let hooked = false;

function releaseAll(): void {
  for (const lock of [...held]) lock.release();
}

/** Release, then die of the signal as if nobody had listened, unless someone else handles it. */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  releaseAll();
  process.off(signal, onSignal);
  try {
    process.kill(process.pid, signal);
  } catch {
    process.exit(1); // a signal this platform cannot send
  }
}

function updateProcessHooks(): void {
  if (held.size > 0 && !hooked) {
    process.on('exit', releaseAll);
    for (const s of SIGNALS) process.on(s, onSignal);
    hooked = true;
  } else if (held.size === 0 && hooked) {
    process.off('exit', releaseAll);
    for (const s of SIGNALS) process.off(s, onSignal);
    hooked = false;
  }
}
