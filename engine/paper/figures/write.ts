/** A figure on disk: <name>.svg and <name>.png, both rendered before either is written, each written atomically. */
import * as path from 'node:path';
import { DataError } from '../../util/errors';
import { writeFileAtomic } from '../../util/atomic-write';
import { svgToPng } from './png';

/** A figure's name: a letter or digit, then letters, digits, '.', '_' or '-' (at most 100 characters in all). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** Writes `svg` and its PNG as <dir>/<name>.svg and <dir>/<name>.png (temp file beside each, then renamed). */
export async function writeSvgAndPng(dir: string, name: string, svg: string): Promise<{ svg: string; png: string }> {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new DataError({ file: dir, field: 'name' }, `a figure's name is letters, digits, '.', '_' and '-' (at most 100, not starting with '.', '_' or '-'), got ${JSON.stringify(String(name)).slice(0, 120)}`);
  }
  const png = await svgToPng(svg);
  const files = { svg: path.join(dir, `${name}.svg`), png: path.join(dir, `${name}.png`) };
  await writeFileAtomic(files.svg, svg);
  await writeFileAtomic(files.png, png);
  return files;
}
