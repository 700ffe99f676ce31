/**
 * Charts of the paper report (engine/paper/figures): well-formed, deterministic, escaped SVG; nice ticks on linear and
 * log axes; gaps for NaN/null; 500 thin lines; "no data"; bar charts with error bars; PNGs drawn by resvg (wasm) with
 * the shipped font, decoded and checked pixel by pixel; figures written atomically; and the same from an esbuild
 * bundle that has only the files esbuild.mjs puts in dist/ beside it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { chartSvg, svgToPng, writeFigure, type BarChart, type LineChart, type Series } from '../../engine/paper/figures/index';
import { PALETTE } from '../../engine/paper/figures/palette';
import { formatLinear, linearAxis, logAxis, logTicks, niceStep } from '../../engine/paper/figures/scale';
import { thinOpacity } from '../../engine/paper/figures/line-chart';
import { DataError } from '../../engine/util/errors';
import { decodePng, pngHeader, PNG_SIGNATURE } from './helpers/png-decode';
import { xmlProblems } from './helpers/xml-check';

const root = path.resolve(__dirname, '..', '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'hrm-figures-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function accuracyChart(): LineChart {
  const steps = range(21).map((i) => i * 500);
  return {
    kind: 'line', title: 'Exact accuracy during training', xLabel: 'step', yLabel: 'accuracy', yMin: 0, yMax: 1,
    series: [
      { label: 'baseline', x: steps, y: steps.map((s) => 1 - Math.exp(-s / 3000)) },
      { label: 'mixing', x: steps, y: steps.map((s) => 0.9 - 0.8 * Math.exp(-s / 2000)), dashed: true,
        band: { lo: steps.map((s) => 0.85 - 0.8 * Math.exp(-s / 2000)), hi: steps.map((s) => 0.95 - 0.8 * Math.exp(-s / 2000)) } },
    ],
  };
}

function ensembleChart(): BarChart {
  return {
    kind: 'bar', title: 'Ensembles', xLabel: 'method', yLabel: 'accuracy', categories: ['single', 'relabel ×8', 'checkpoints ×4', 'both'],
    groups: [
      { label: 'baseline', values: [0.5, 0.6, 0.62, 0.7], lo: [0.45, 0.55, 0.57, 0.66], hi: [0.55, 0.65, 0.67, 0.74] },
      { label: 'mixing', values: [0.55, NaN, 0.7, 0.78] },
    ],
  };
}

/** 500 residual curves (one per puzzle) over 16 segments, from a fixed-seed generator, plus their median. */
function manyPuzzles(distinctLabels = false): LineChart {
  let seed = 7;
  const rnd = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const x = range(16);
  const series: Series[] = range(500).map((p) => ({ label: distinctLabels ? `puzzle ${p}` : 'puzzle', thin: true, x, y: x.map((s) => Math.exp(-s * (0.2 + rnd() * 0.5))) }));
  series.push({ label: 'median', x, y: x.map((s) => Math.exp(-s * 0.45)) });
  return { kind: 'line', title: 'Residual by segment', xLabel: 'segment', yLabel: 'residual', yLog: true, series };
}

function assertWellFormed(svg: string): void {
  assert.deepEqual(xmlProblems(svg), [], 'the SVG is well-formed XML');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /);
  assert.doesNotMatch(svg, /NaN|Infinity|undefined|null|e\+/, 'no non-numbers or exponents in coordinates');
  assert.doesNotMatch(svg, /<image|href=|<script|<style|@import|url\((?!#)/, 'self-contained: no external references');
}

/** Pixels of a decoded PNG that are not (near) white. */
function inked(img: ReturnType<typeof decodePng>, y0 = 0, y1 = img.height): number {
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * img.channels;
      if (img.data[o] < 200 || img.data[o + 1] < 200 || img.data[o + 2] < 200) n++;
    }
  }
  return n;
}

/** Pixels within `tol` of the colour `hex`. */
function pixelsOf(img: ReturnType<typeof decodePng>, hex: string, tol = 24): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let o = 0; o < img.data.length; o += img.channels) {
    if (Math.abs(img.data[o] - c[0]) <= tol && Math.abs(img.data[o + 1] - c[1]) <= tol && Math.abs(img.data[o + 2] - c[2]) <= tol) n++;
  }
  return n;
}

describe('chart SVG', () => {
  test('line and bar charts are well-formed, self-contained SVG with a white background, legend and axis labels', () => {
    for (const spec of [accuracyChart(), ensembleChart()]) {
      const svg = chartSvg(spec);
      assertWellFormed(svg);
      assert.match(svg, /width="720" height="440" viewBox="0 0 720 440"/);
      assert.match(svg, /<rect width="720" height="440" fill="#ffffff"\/>/);
      for (const word of ['baseline', 'mixing', spec.xLabel, spec.yLabel, spec.title]) assert.ok(svg.includes(`>${word}</text>`), `${word} is drawn`);
    }
    assert.match(chartSvg(accuracyChart(), { width: 300, height: 200 }), /width="300" height="200"/);
    assert.match(chartSvg(accuracyChart(), { width: 1e9, height: -5 }), /width="4000" height="160"/, 'sizes are clamped');
  });

  test('the same spec gives the same bytes', () => {
    for (const make of [accuracyChart, ensembleChart, () => manyPuzzles()]) {
      const a = chartSvg(make());
      const b = chartSvg(structuredClone(make()));
      assert.equal(a, b);
    }
    assert.notEqual(chartSvg(accuracyChart()), chartSvg({ ...accuracyChart(), title: 'other' }));
  });

  test('labels from run names are escaped: < & " \' > and characters XML cannot hold', () => {
    const hostile = `run <b>&"x'</b> ]]> \u0001\ud800 end`;
    const line: LineChart = { ...accuracyChart(), title: hostile, xLabel: hostile, yLabel: hostile };
    line.series[0].label = hostile;
    line.series[1].color = '"/><script>alert(1)</script>';
    const bar: BarChart = { ...ensembleChart(), title: hostile, categories: [hostile, 'b', 'c', 'd'] };
    bar.groups[0].label = hostile;
    for (const svg of [chartSvg(line), chartSvg(bar)]) {
      assertWellFormed(svg);
      assert.ok(!svg.includes('<b>') && !svg.includes('<script') && !svg.includes('\u0001'), 'nothing of the label is markup');
      assert.ok(svg.includes('run &lt;b&gt;&amp;&quot;x&#39;&lt;/b&gt;'), 'the label is kept, escaped');
    }
    assert.ok(chartSvg(line).includes(`stroke="${PALETTE[1]}"`), 'an invalid colour falls back to the palette');
  });

  test('NaN, null and Infinity break a line into pieces; a point between two gaps is a dot', () => {
    const y = [1, 2, NaN, 3, 4, null as unknown as number, 5, Infinity, 6, 7];
    const svg = chartSvg({ kind: 'line', title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 'gappy', x: range(10), y, color: '#123456' }] });
    assertWellFormed(svg);
    const d = /<path d="([^"]+)" fill="none" stroke="#123456"/.exec(svg)?.[1] ?? '';
    assert.equal((d.match(/M/g) ?? []).length, 3, 'three runs of two points or more: [1,2], [3,4], [6,7]');
    assert.equal((d.match(/L/g) ?? []).length, 3);
    assert.equal((svg.match(/<circle /g) ?? []).length, 1, 'the lone 5 is a dot');
    const allBad = chartSvg({ kind: 'line', title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 's', x: [0, 1], y: [NaN, null as unknown as number] }] });
    assertWellFormed(allBad);
    assert.ok(allBad.includes('>no data</text>'));
    const ragged = chartSvg({ kind: 'line', title: 't', xLabel: 'x', yLabel: 'y', series: [{ label: 's', x: [0, 1, 2], y: [1] }, { label: 'b', x: [0, 1], y: [1, 2], band: { lo: [0], hi: [3, 4, 5] } }] });
    assertWellFormed(ragged);
  });

  test('an empty series list draws empty axes with "no data"; so does a bar chart without categories', () => {
    const svg = chartSvg({ kind: 'line', title: 'nothing yet', xLabel: 'step', yLabel: 'loss', series: [] });
    assertWellFormed(svg);
    assert.ok(svg.includes('>no data</text>'));
    assert.ok(svg.includes('>0.0</text>') && svg.includes('>1.0</text>'), 'the axes have ticks');
    const bar = chartSvg({ kind: 'bar', title: 'x', xLabel: 'x', yLabel: 'y', categories: [], groups: [] });
    assertWellFormed(bar);
    assert.ok(bar.includes('>no data</text>'));
    assert.ok(!chartSvg(accuracyChart()).includes('no data'));
  });

  test('linear axes get 1-2-5 ticks with exact labels', () => {
    assert.equal(niceStep(1, 6), 0.2);
    assert.equal(niceStep(10000, 7), 1000);
    assert.equal(niceStep(10000, 6), 2000);
    assert.equal(niceStep(0.03, 6), 0.005);
    const a = linearAxis([0.013, 0.97], undefined, undefined, true);
    assert.deepEqual([a.lo, a.hi, a.ticks], [0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1]]);
    assert.deepEqual(linearAxis([-3.2, 7.9], undefined, undefined, true).ticks, [-4, -2, 0, 2, 4, 6, 8]);
    assert.deepEqual(linearAxis([0.1, 0.3], undefined, undefined, true).ticks.map((t) => formatLinear(t, 0.05)), ['0.10', '0.15', '0.20', '0.25', '0.30']);
    assert.deepEqual([0, 0.5, 1].map((t) => formatLinear(t, 0.5)), ['0.0', '0.5', '1.0'], 'one number of decimals on every tick');
    assert.equal(formatLinear(2000, 1000), '2000');
    assert.equal(formatLinear(2e6, 1e6), '2e6');
    assert.equal(formatLinear(-0.0000000001, 0.2), '0.0', 'no -0');
    assert.deepEqual(linearAxis([5, 5], undefined, undefined, true).ticks.length > 1, true, 'a one-value extent is widened');
    assert.deepEqual(linearAxis(undefined, 0, 1, true).ticks, [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.ok(linearAxis([-1e308, 1e308], undefined, undefined, true).ticks.length <= 51, 'a huge span stays a bounded tick list');
  });

  test('log axes: decades, 1-2-5 over short spans, values ≤ 0 left out', () => {
    assert.deepEqual(logTicks(1e-5, 10), [1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10]);
    assert.deepEqual(logTicks(1, 100), [1, 2, 5, 10, 20, 50, 100]);
    assert.deepEqual(logTicks(3, 8), [3, 4, 5, 6, 7, 8]);
    assert.ok(logTicks(1e-300, 1e300).length <= 10, 'many decades: every k-th decade');
    const axis = logAxis([0.003, 0.8], undefined, undefined);
    assert.deepEqual([axis.lo, axis.hi, axis.ticks], [0.001, 1, [0.001, 0.01, 0.1, 1]]);
    const svg = chartSvg({ kind: 'line', title: 'r', xLabel: 's', yLabel: 'r', yLog: true, series: [{ label: 'r', x: [0, 1, 2, 3, 4], y: [1, 0.1, 0, -1, 0.00001] }] });
    assertWellFormed(svg);
    for (const t of ['1e-5', '1e-4', '0.001', '0.01', '0.1', '1']) assert.ok(svg.includes(`>${t}</text>`), `tick ${t}`);
    const d = /<path d="([^"]+)" fill="none" stroke=/.exec(svg)?.[1] ?? '';
    assert.equal((d.match(/M/g) ?? []).length, 1, 'the line stops at the first value ≤ 0');
    assert.equal((svg.match(/<circle /g) ?? []).length, 1, 'the last value is a dot after the gap');
  });

  test('500 thin series stay readable: translucent, beneath the others, one legend entry', () => {
    const svg = chartSvg(manyPuzzles());
    assertWellFormed(svg);
    const group = /<g fill="none" stroke-width="0.8" stroke-opacity="([\d.]+)"[^>]*>(.*?)<\/g>/.exec(svg);
    assert.ok(group, 'the thin lines share one translucent group');
    assert.equal(Number(group[1]), thinOpacity(500));
    assert.ok(thinOpacity(500) <= 0.1 && thinOpacity(5) >= 0.4, 'fewer thin lines are drawn stronger');
    assert.equal((group[2].match(/<path /g) ?? []).length, 500);
    assert.ok(svg.indexOf('stroke-opacity=') < svg.indexOf('stroke-width="1.8"'), 'the median is drawn on top');
    assert.equal((svg.match(/>puzzle<\/text>/g) ?? []).length, 1, 'one legend entry for 500 lines of one label');
    const many = chartSvg(manyPuzzles(true));
    assertWellFormed(many);
    assert.match(many, />\+ \d+ more<\/text>/, 'a legend of 500 labels is cut short');
    assert.ok((many.match(/>puzzle \d+<\/text>/g) ?? []).length <= 16);
  });

  test('bar charts: bars from zero, error bars, no bar for NaN, turned labels when they do not fit', () => {
    const svg = chartSvg(ensembleChart());
    assertWellFormed(svg);
    assert.equal((svg.match(/<rect x=/g) ?? []).length, 7 + 2 + 1, '7 bars, 2 legend swatches and the clip rectangle');
    const whiskers = /<path d="([^"]+)" stroke="#444444" stroke-width="1.2"/.exec(svg)?.[1] ?? '';
    assert.equal((whiskers.match(/M/g) ?? []).length, 4 * 3, 'an error bar and two caps per interval');
    const negative = chartSvg({ kind: 'bar', title: 'delta', xLabel: '', yLabel: 'Δ', categories: ['a', 'b'], groups: [{ label: '', values: [-0.4, 0.3] }] });
    assertWellFormed(negative);
    assert.ok(negative.includes('>-0.4</text>'), 'the axis reaches below zero');
    const long = chartSvg({ kind: 'bar', title: 't', xLabel: 'x', yLabel: 'y', categories: range(12).map((i) => `a rather long category name ${i}`), groups: [{ label: 'g', values: range(12) }] });
    assertWellFormed(long);
    const turned = [...long.matchAll(/translate\(([\d.]+) [\d.]+\) rotate\(-35\)[^>]*>([^<]*)<\/text>/g)];
    assert.equal(turned.length, 12, 'turned labels');
    for (const [, x, label] of turned) assert.ok([...label].length * 11 * 0.6 * Math.cos((35 * Math.PI) / 180) <= Number(x), `"${label}" stays inside the left edge`);
  });
});

describe('chart PNG', () => {
  test('a PNG of the requested size, with the palette\'s colours, the text drawn with the shipped font', async () => {
    const svg = chartSvg(accuracyChart(), { width: 400, height: 250 });
    const png = await svgToPng(svg, { scale: 1.5 });
    assert.deepEqual([...png.subarray(0, 8)], PNG_SIGNATURE);
    const img = decodePng(png);
    assert.deepEqual([img.width, img.height], [600, 375]);
    assert.deepEqual([pngHeader(await svgToPng(svg, { scale: 1 })).width, pngHeader(await svgToPng(svg)).width], [400, 800], 'scale 1, and 2 by default');
    const total = img.width * img.height;
    assert.equal(img.data[0], 255, 'white background');
    assert.ok(inked(img) > total * 0.01, 'not blank');
    assert.ok(pixelsOf(img, PALETTE[0]) > 200 && pixelsOf(img, PALETTE[1]) > 200, 'both series are drawn in their colours');
    // The title band: text there only when there is a title (resvg draws text only from the fonts it is given).
    const untitled = decodePng(await svgToPng(chartSvg({ ...accuracyChart(), title: '' }, { width: 400, height: 250 }), { scale: 1.5 }));
    assert.ok(inked(img, 0, 36) > inked(untitled, 0, 36) + 100, 'the title is drawn');
  });

  test('different charts give different PNGs; the same chart the same bytes', async () => {
    const a = await svgToPng(chartSvg(ensembleChart()));
    const b = await svgToPng(chartSvg(accuracyChart()));
    assert.notDeepEqual(Buffer.from(a), Buffer.from(b));
    assert.deepEqual(Buffer.from(await svgToPng(chartSvg(ensembleChart()))), Buffer.from(a));
  });

  test('500 thin lines and an empty chart render', async () => {
    const many = decodePng(await svgToPng(chartSvg(manyPuzzles()), { scale: 1 }));
    assert.ok(pixelsOf(many, PALETTE[1], 40) > 100, 'the median shows over the thin lines');
    const empty = decodePng(await svgToPng(chartSvg({ kind: 'line', title: '', xLabel: '', yLabel: '', series: [] }), { scale: 1 }));
    assert.ok(inked(empty) > 0, 'axes and "no data" are drawn');
  });

  test('a bad scale or a malformed SVG is an error, not a crash', async () => {
    for (const scale of [0, -1, NaN, 100]) await assert.rejects(svgToPng(chartSvg(accuracyChart()), { scale }), RangeError);
    await assert.rejects(svgToPng('<svg xmlns="http://www.w3.org/2000/svg"><g></svg>'));
    await assert.rejects(svgToPng(chartSvg(accuracyChart(), { width: 4000, height: 4000 }), { scale: 8 }), /pixels a side/);
  });
});

describe('writeFigure', () => {
  test('writes <name>.svg and <name>.png, replaces old ones, leaves no temp file', async () => {
    const dir = path.join(tmp, 'figures');
    const first = await writeFigure(dir, 'accuracy', accuracyChart());
    assert.deepEqual(first, { svg: path.join(dir, 'accuracy.svg'), png: path.join(dir, 'accuracy.png') });
    const again = await writeFigure(dir, 'accuracy', ensembleChart());
    assert.deepEqual(again, first);
    assert.equal(readFileSync(again.svg, 'utf8'), chartSvg(ensembleChart()));
    assert.deepEqual([...readFileSync(again.png).subarray(0, 8)], PNG_SIGNATURE);
    assert.deepEqual(pngHeader(readFileSync(again.png)), { width: 1440, height: 880, bitDepth: 8, colorType: 6, interlace: 0 });
    assert.deepEqual(readdirSync(dir).sort(), ['accuracy.png', 'accuracy.svg']);
  });

  test('a name that is not a plain file name is a DataError and writes nothing', async () => {
    const dir = path.join(tmp, 'bad-names');
    for (const name of ['../escape', 'a/b', '.hidden', '', 'x'.repeat(101), 'a\\b']) {
      await assert.rejects(writeFigure(dir, name, accuracyChart()), (e: unknown) => e instanceof DataError && e.location.field === 'name');
    }
    assert.equal(existsSync(dir), false);
    assert.equal(existsSync(path.join(tmp, 'escape.svg')), false);
  });
});

describe('bundled renderer', () => {
  const dist = path.join(root, 'dist');
  const assets = ['wasm/resvg.wasm', 'fonts/DejaVuSans.ttf', 'fonts/DejaVuSans-LICENSE.txt'];

  test('the extension package keeps the renderer\'s wasm, font and font licence', () => {
    // .vscodeignore: the last pattern matching a path decides; '!' brings a path back.
    const rules = readFileSync(path.join(root, '.vscodeignore'), 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    const glob = (p: string): RegExp => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\ue000').replace(/\*/g, '[^/]*').replace(/\ue000/g, '.*')}$`);
    const shipped = (file: string): boolean => {
      let keep = true;
      for (const r of rules) if (glob(r.replace(/^!/, '')).test(file)) keep = r.startsWith('!');
      return keep;
    };
    for (const a of assets) assert.ok(shipped(`dist/${a}`), `dist/${a} is in the .vsix`);
    assert.equal(shipped('node_modules/@resvg/resvg-wasm/index_bg.wasm'), false);
  });

  test('dist/ has the wasm and the font, and a bundle renders with only them beside it', { skip: existsSync(dist) ? false : 'dist/ is absent (build with node esbuild.mjs)' }, async () => {
    for (const a of assets) assert.ok(existsSync(path.join(dist, a)), `dist/${a} exists (node esbuild.mjs copies it)`);
    assert.deepEqual([...readFileSync(path.join(dist, 'wasm/resvg.wasm')).subarray(0, 4)], [0, 0x61, 0x73, 0x6d], 'a wasm binary');
    assert.equal(readFileSync(path.join(dist, 'fonts/DejaVuSans.ttf')).readUInt32BE(0), 0x00010000, 'a TrueType font');

    // Bundled as esbuild.mjs bundles the CLI and the engine, in a folder outside the repository (no node_modules).
    const dir = mkdtempSync(path.join(tmpdir(), 'hrm-figures-bundle-'));
    try {
      await esbuild.build({ entryPoints: [path.join(root, 'engine/paper/figures/index.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: path.join(dir, 'figures.js'), logLevel: 'silent' });
      for (const a of assets.slice(0, 2)) {
        mkdirSync(path.dirname(path.join(dir, a)), { recursive: true });
        cpSync(path.join(dist, a), path.join(dir, a));
      }
      const spec = JSON.stringify(accuracyChart());
      writeFileSync(path.join(dir, 'render.js'), `require('./figures.js').writeFigure(process.argv[2], 'chart', ${spec}).then((r) => console.log(JSON.stringify(r)), (e) => { console.error(String(e && e.message)); process.exit(3); });`);
      const env = { ...process.env, NODE_PATH: '', NODE_OPTIONS: '' };
      const run = (out: string) => spawnSync(process.execPath, [path.join(dir, 'render.js'), out], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
      const ok = run(path.join(dir, 'out'));
      assert.equal(ok.status, 0, ok.stderr);
      const files = JSON.parse(ok.stdout) as { svg: string; png: string };
      assert.equal(readFileSync(files.svg, 'utf8'), chartSvg(accuracyChart()), 'the bundle draws the same SVG');
      const img = decodePng(readFileSync(files.png));
      assert.deepEqual([img.width, img.height], [1440, 880]);
      assert.ok(inked(img, 0, 50) > 100, 'with its title drawn in the shipped font');
      // Without the font beside it the bundle finds none (no node_modules to fall back on) and says where it looked.
      rmSync(path.join(dir, 'fonts'), { recursive: true });
      const missing = run(path.join(dir, 'out2'));
      assert.equal(missing.status, 3);
      assert.match(missing.stderr, /DejaVu Sans font not found .*fonts[/\\]DejaVuSans\.ttf/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
