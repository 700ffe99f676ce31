/**
 * Long computations written once as step generators (one `yield` after each bounded piece of work, e.g. one
 * segment of one batch) and driven two ways: to the end in one go (`runSteps`, the CLI and the tests), or with
 * the event loop turning between steps (`runStepsAsync`, the engine process), so that the host's `ping` and
 * `cancel` messages are answered while a request runs. An aborted signal stops the run at the next step; the
 * generator's `finally` blocks free what it holds (tensors) either way.
 *
 * A step may also wait for work done elsewhere (the PyTorch worker): it yields the promise (`waitFor`) and gets its
 * value back. Only `runStepsAsync` can drive such a computation; `runSteps` refuses it.
 */

/** A computation that yields after each bounded piece of work (or yields a promise to wait for) and returns T. */
export type Steps<T> = Generator<void | Promise<unknown>, T, unknown>;

/** Waits for `p` inside a step generator (`const x = yield* waitFor(p)`); needs runStepsAsync. */
export function* waitFor<T>(p: Promise<T>): Steps<T> {
  return (yield p) as T;
}

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
    if (r.value instanceof Promise) {
      r.value.catch(() => undefined);
      steps.return(undefined as never);
      throw new Error('this computation waits for the PyTorch worker: it must be driven with runStepsAsync');
    }
  }
}

/**
 * Drives `steps` to its end, giving the event loop a turn whenever YIELD_INTERVAL_MS have passed since the last
 * one; checks `signal` before every step (an AbortError once it is aborted, the generator closed first).
 */
export async function runStepsAsync<T>(steps: Steps<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  let last = performance.now();
  let input: unknown;
  try {
    for (;;) {
      throwIfAborted(signal, what);
      const r = steps.next(input);
      input = undefined;
      if (r.done) return r.value;
      if (r.value instanceof Promise) {
        input = await r.value;
        last = performance.now();
      } else if (performance.now() - last >= YIELD_INTERVAL_MS) {
        await nextTurn();
        last = performance.now();
      }
    }
  } finally {
    steps.return(undefined as never);
  }
}
