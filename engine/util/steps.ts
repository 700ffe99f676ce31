/**
 * Long computations written once as step generators (one `yield` after each bounded piece of work, e.g. one
 * segment of one batch) and driven two ways: to the end in one go (`runSteps`, the CLI and the tests), or with
 * the event loop turning between steps (`runStepsAsync`, the engine process), so that the host's `ping` and
 * `cancel` messages are answered while a request runs. An aborted signal stops the run at the next step; the
 * generator's `finally` blocks free what it holds (tensors) either way.
 */

/** A computation that yields after each bounded piece of work and returns T. */
export type Steps<T> = Generator<void, T, void>;

/** The event loop gets a turn at least this often (ms) while a step generator is driven asynchronously. */
export const YIELD_INTERVAL_MS = 10;

/** The error a cancelled run throws when the signal carries no Error of its own. */
export function abortError(what: string): Error {
  const e = new Error(`${what} cancelled`);
  e.name = 'AbortError';
  return e;
}

/** Throws abortError(what) when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortError(what);
}

/** One turn of the event loop (pending I/O, messages and timers run). */
export const nextTurn = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/** Drives `steps` to its end without yielding. */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * Drives `steps` to its end, giving the event loop a turn whenever YIELD_INTERVAL_MS have passed since the last
 * one; checks `signal` before every step (an AbortError once it is aborted, the generator closed first).
 */
export async function runStepsAsync<T>(steps: Steps<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  let last = performance.now();
  try {
    for (;;) {
      throwIfAborted(signal, what);
      const r = steps.next();
      if (r.done) return r.value;
      if (performance.now() - last >= YIELD_INTERVAL_MS) {
        await nextTurn();
        last = performance.now();
      }
    }
  } finally {
    steps.return(undefined as never);
  }
}
