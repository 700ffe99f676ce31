/**
 * SVG → PNG with resvg compiled to WebAssembly (@resvg/resvg-wasm: no native addon, so it runs from the bundle in the
 * installed extension). resvg sees no system fonts: text is drawn with the DejaVu Sans file shipped beside the bundle.
 * The binary and the font are loaded on the first call only.
 */
import { readFile } from 'node:fs/promises';
import { initWasm, Resvg } from '@resvg/resvg-wasm';
import { FONT_NAME, fontPath, resvgWasmPath } from './assets';

/** Default scale of a PNG against the SVG's size (2: sharp on high-density screens and in print). */
export const DEFAULT_PNG_SCALE = 2;
/** Allowed scales, and the longest side of a PNG in pixels. */
export const MIN_PNG_SCALE = 0.1;
export const MAX_PNG_SCALE = 8;
export const MAX_PNG_SIDE = 16384;

let ready: Promise<Uint8Array> | undefined;

/** Starts the wasm module once and reads the font; a failed start is retried on the next call. */
function renderer(): Promise<Uint8Array> {
  if (!ready) {
    ready = (async () => {
      const [wasm, font] = await Promise.all([readFile(resvgWasmPath()), readFile(fontPath())]);
      await initWasm(wasm);
      return new Uint8Array(font);
    })();
    ready.catch(() => { ready = undefined; });
  }
  return ready;
}

/** The SVG drawn as a PNG, `scale` times its own size (width × scale, rounded). */
export async function svgToPng(svg: string, opts?: { scale?: number }): Promise<Uint8Array> {
  const scale = opts?.scale ?? DEFAULT_PNG_SCALE;
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < MIN_PNG_SCALE || scale > MAX_PNG_SCALE) {
    throw new RangeError(`svgToPng: scale must be a number from ${MIN_PNG_SCALE} to ${MAX_PNG_SCALE}, got ${String(scale)}`);
  }
  const font = await renderer();
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    font: { fontBuffers: [font], defaultFontFamily: FONT_NAME, sansSerifFamily: FONT_NAME, defaultFontSize: 12 },
    shapeRendering: 2,
    textRendering: 1,
  });
  try {
    const side = Math.max(resvg.width, resvg.height) * scale;
    if (side > MAX_PNG_SIDE) throw new RangeError(`svgToPng: a ${resvg.width}×${resvg.height} SVG at scale ${scale} is over ${MAX_PNG_SIDE} pixels a side`);
    const image = resvg.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    resvg.free();
  }
}
