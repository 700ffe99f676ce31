/**
 * Where the PNG renderer's files are: the resvg WebAssembly binary and the DejaVu Sans font. Bundled (dist/cli.js,
 * dist/engine.js: esbuild.mjs copies them to dist/wasm/resvg.wasm and dist/fonts/DejaVuSans.ttf), they lie beside
 * the bundle; run from the sources (tsx), they are found in node_modules.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const here = typeof __filename === 'string' ? __filename : path.resolve(process.argv[1] ?? process.execPath);

export const RESVG_WASM = 'wasm/resvg.wasm';
export const FONT_FILE = 'fonts/DejaVuSans.ttf';
/** The font's family name, as the SVG names it first. */
export const FONT_NAME = 'DejaVu Sans';

function resolveModule(name: string): string | undefined {
  try {
    return createRequire(here).resolve(name);
  } catch {
    return undefined;
  }
}

/** The places a file is looked for, in order: beside the bundle, then node_modules. */
export function candidates(rel: string, moduleFile: string): string[] {
  const out = [path.join(path.dirname(here), rel)];
  const inModules = resolveModule(moduleFile);
  if (inModules) out.push(inModules);
  return out;
}

/** The first place that holds the file; an error naming every place looked in when none does. */
export function locate(what: string, rel: string, moduleFile: string): string {
  const places = candidates(rel, moduleFile);
  const found = places.find((p) => existsSync(p));
  if (found) return found;
  throw new Error(`figures: ${what} not found (looked in ${places.join(', ')}${places.length < 2 ? ' and node_modules' : ''}); rebuild with node esbuild.mjs`);
}

export const resvgWasmPath = (): string => locate('the resvg WebAssembly binary', RESVG_WASM, '@resvg/resvg-wasm/index_bg.wasm');
export const fontPath = (): string => locate('the DejaVu Sans font', FONT_FILE, 'dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
