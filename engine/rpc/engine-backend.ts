/**
 * The engine process's TF.js backend, chosen once (the first request that needs TF.js decides: its `backend`
 * parameter, else env HRM_LENS_BACKEND, else auto). Imported only by the heavy halves of handlers (it loads TF.js).
 */
import { type BackendChoice, type BackendInfo, selectBackend } from '../backend';

let chosen: Promise<BackendInfo> | undefined;
let asked: BackendChoice | undefined;

/** The backend of this process; `choice` counts only on the first call (a later, different one is reported by `note`). */
export function engineBackend(choice?: BackendChoice, note?: (message: string) => void): Promise<BackendInfo> {
  if (!chosen) {
    asked = choice;
    chosen = selectBackend(choice ? { backend: choice } : {});
    chosen.catch(() => { chosen = undefined; }); // a failed start may be retried (e.g. with another backend)
  } else if (choice && choice !== 'auto' && choice !== asked) {
    note?.(`the engine already runs on the backend chosen first (${asked ?? 'auto'}); "${choice}" applies after Restart Engine`);
  }
  return chosen;
}
