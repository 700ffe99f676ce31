/** Drawing helpers shared by the webviews: theme colours from CSS variables, and a canvas sized for the screen's pixel ratio. */

/** A `--vscode-*` colour (or any CSS variable) as the theme defines it now, else `fallback`. */
export const css = (name: string, fallback: string): string => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;

/** Size `canvas` to w × h CSS pixels at the device pixel ratio; the context draws in CSS pixels. */
export function sized(canvas: HTMLCanvasElement, w: number, h: number): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(h * dpr);
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2-D canvas');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}
