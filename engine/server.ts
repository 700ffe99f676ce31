/**
 * Engine process entry: the fork target of the extension's EngineClient (bundled to dist/engine.js).
 * Listens on the IPC channel (started with `serialization: 'advanced'`), hands every message to the Dispatcher
 * (engine/rpc/dispatcher.ts) and sends replies, progress events and log lines back. Announces itself with a
 * 'ready' message, exits when the parent disconnects (the extension host closed or died), and writes to stderr
 * only: lines the host shows in its "HRM Lens" log (stdout is redirected to stderr too, so that stray
 * console.log output of libraries cannot mix with anything).
 *
 * Liveness: long requests let the event loop turn between bounded steps (engine/util/steps.ts), so `ping` and
 * `cancel` are answered while they run; and a watchdog thread (engine/parent-watchdog.ts) ends the process when the
 * parent process is gone, even if the main thread is busy and never sees 'disconnect'.
 *
 * Run by hand for a check: node -e "require('child_process').fork('dist/engine.js',{serialization:'advanced'})
 *   .on('message',m=>{console.log(m);process.exit()})"
 */
import { PROTOCOL_VERSION, type EngineToHost, type LogLevel } from './protocol';
import { Dispatcher } from './rpc/dispatcher';
import { handlers } from './rpc/handlers';
import { startParentWatchdog } from './parent-watchdog';

function stderrLine(line: string): void {
  process.stderr.write(line.endsWith('\n') ? line : `${line}\n`);
}

const sendToHost = process.send?.bind(process);
if (!sendToHost) {
  stderrLine('hrm-lens engine: no IPC channel. This is the fork target of the extension; start it with child_process.fork().');
  process.exit(2);
}

// Checks the parent every second from a thread of its own; started before anything heavy is loaded.
startParentWatchdog({ intervalMs: 1000, graceMs: 1000, onError: (m) => stderrLine(`hrm-lens engine: ${m}`) });

// Library chatter on stdout (e.g. TF.js banners) goes to stderr: the host logs both, but keeps stdout clean.
console.log = (...args: unknown[]) => console.error(...args);
console.info = (...args: unknown[]) => console.error(...args);

function send(msg: EngineToHost): void {
  if (!process.connected) return;
  // Throws synchronously when the value cannot be cloned (DataCloneError); the dispatcher turns that into an error.
  sendToHost?.(msg, undefined, undefined, (err: Error | null) => {
    if (err && process.connected) stderrLine(`hrm-lens engine: a ${msg.kind} message was not delivered: ${err.message}`);
  });
}

/** A log line: to the host's log (with its level) while connected, to stderr otherwise. */
function log(level: LogLevel, message: string): void {
  if (process.connected) send({ kind: 'log', level, message });
  else stderrLine(`[${level}] ${message}`);
}

const dispatcher = new Dispatcher(handlers, send, log);

process.on('message', (msg: unknown) => dispatcher.handle(msg));
process.on('disconnect', () => {
  dispatcher.cancelAll('the extension host disconnected');
  stderrLine(`hrm-lens engine (pid ${process.pid}): the host disconnected; exiting`);
  process.exit(0);
});

send({ kind: 'ready', pid: process.pid, version: PROTOCOL_VERSION });
