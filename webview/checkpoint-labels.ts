/**
 * Short checkpoint labels for the ensemble report's canvases, where a column or a row has room for a few characters.
 * Checkpoints are named "run/step-000040" or "models/tiny-4x4": the last part tells apart the checkpoints of one run,
 * so it is used when every last part is different, else the whole name. A label longer than its room keeps its
 * tail (where the step number is) behind an ellipsis.
 */

/** The last part of each name when those are all different; else the names as given. */
export function checkpointLabels(names: readonly string[]): string[] {
  const last = names.map((n) => n.slice(n.lastIndexOf('/') + 1).replace(/\.safetensors$/, ''));
  return new Set(last).size === last.length ? last : [...names];
}

/** `label` in at most `room` characters (at least 2): the whole of it, or "…" and its tail. */
export function fitTail(label: string, room: number): string {
  const n = Math.max(2, Math.floor(room));
  return label.length <= n ? label : `…${label.slice(label.length - (n - 1))}`;
}
