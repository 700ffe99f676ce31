/**
 * Repository hygiene, checked on the files as they are on disk (no git needed).
 *
 * Scanned: engine/, extension/, webview/, test/, bench/, scripts/, docs/, .ci/, README.md, CHANGELOG.md and
 * package.json; folders named node_modules, dist, out, .hrm, .hrm-demo, __pycache__ or .git are skipped (ignored build
 * and run outputs), and so are binary files (a NUL byte in the first 8 KiB) and this file, whose examples of
 * references name headings that do not exist; the wording rules (1 and 2) are checked on this file too, by a test
 * of its own: its patterns are written so that they do not match themselves.
 *
 * 1. Every document the code cites ships with the repository: no path into the workspace's shared folder and no
 *    citation of the background documents that live there (EXTERNAL_DOCS below).
 * 2. Comments, names and docs speak of the product: no wording of a work log — numbered work sessions or tracker
 *    items, references to an assignment or its write-up, times of day (WORK_LOG below); no ISO date (YYYY-MM-DD) in the prose of a markdown file (fenced code blocks are not
 *    prose; CHANGELOG.md may date its releases) nor in a comment of a source file (after `//`, or on a line that
 *    starts with `*`, `/*` or `#`). Data files (JSON, JSONL, CSV: measured results, fixtures) may hold dates.
 * 3. Every reference to a section of the docs resolves. Syntax of a reference:
 *      docs/<name>.md §<Heading>[, §<Heading>]…
 *    `docs/` starts the path (not preceded by a letter, digit, `_`, `.`, `/` or `-`), then one space and `§`. The
 *    heading text starts right after `§` and ends at the first of: `;`, `)`, `, §` (which starts another heading of
 *    the same file), or the end of the line; a `.` that is the last character of the line is not part of it. Before
 *    that, a block comment's closing star-slash at the end of the line and trailing spaces are removed. Two references
 *    on one line are separated by `;`. (`:` and `,` alone do not end a heading: "Votes: oracle and label-free" is
 *    one.) The text must equal, case and all, the text of a
 *    heading `#` … `####` of docs/<name>.md outside fenced code blocks. A `docs/<name>.md` without `§` must name an
 *    existing file, and every `§` must belong to such a reference (so a reference split over two lines is caught).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const self = path.resolve(__filename);
const SCANNED = ['engine', 'extension', 'webview', 'test', 'bench', 'scripts', 'docs', '.ci', 'README.md', 'CHANGELOG.md', 'package.json'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'out', '.hrm', '.hrm-demo', '__pycache__', '.git']);

interface TextFile { rel: string; lines: string[] }

function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8192).includes(0);
}

function listFiles(): TextFile[] {
  const out: TextFile[] = [];
  const visit = (abs: string): void => {
    const st = statSync(abs);
    if (st.isDirectory()) {
      if (SKIPPED_DIRS.has(path.basename(abs))) return;
      for (const name of readdirSync(abs).sort()) visit(path.join(abs, name));
      return;
    }
    if (!st.isFile() || abs === self || /\.tmp\./.test(path.basename(abs))) return;
    const buf = readFileSync(abs);
    if (isBinary(buf)) return;
    out.push({ rel: path.relative(root, abs).split(path.sep).join('/'), lines: buf.toString('utf8').split(/\r\n|\r|\n/) });
  };
  for (const entry of SCANNED) if (existsSync(path.join(root, entry))) visit(path.join(root, entry));
  return out;
}

const files = listFiles();

/** Lines of a markdown text outside fenced code blocks, with their 1-based numbers. */
function proseLines(lines: readonly string[]): { line: string; n: number }[] {
  const out: { line: string; n: number }[] = [];
  let fence: string | null = null;
  lines.forEach((line, i) => {
    const m = /^\s*(```+|~~~+)/.exec(line);
    if (m) {
      if (fence === null) fence = m[1][0];
      else if (m[1][0] === fence) fence = null;
      return;
    }
    if (fence === null) out.push({ line, n: i + 1 });
  });
  return out;
}

function headingsOf(file: string): Set<string> {
  const lines = readFileSync(path.join(root, 'docs', file), 'utf8').split(/\r\n|\r|\n/);
  const out = new Set<string>();
  for (const { line } of proseLines(lines)) {
    const m = /^#{1,4} +(.*?)\s*$/.exec(line);
    if (m) out.add(m[1]);
  }
  return out;
}

interface Finding { where: string; what: string }

function report(findings: readonly Finding[]): string {
  return `${findings.length} finding(s):\n${findings.map((f) => `  ${f.where}: ${f.what}`).join('\n')}`;
}

// Each pattern separates its words with `\s` or a character class, so that no line of this file matches it.
const EXTERNAL_DOCS: readonly [string, RegExp][] = [
  ['a path into the shared folder', /\.\.[/]shared\b/],
  ['the shared docs folder', /\bshared[/]docs[/]/],
  ['a section of the reference notes', /hrm-referen[c]e\s§/],
  ['the reference notes', /hrm-referen[c]e[.]md/],
  ['the paper notes', /\bpaper[.]md\b/],
  ['the backend notes', /\bengine-backen[d]s\b/],
  ['the VS Code notes', /\breal-vscod[e][.]md\b/],
];

const WORK_LOG: readonly [string, RegExp][] = [
  ['a numbered session', /\bsession\s\d/i],
  ['a numbered issue', /\bissue\s\d/i],
  ['an issue number', /\bissue\s#/i],
  ['the assignment', /\bthis\stask\b/i],
  ['a time of day', /\bto[n]ight\b/i],
  ['the assignment text', /\bthe\sbrief\b/i],
];
const ISO_DATE = /\b(?:19|20)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b/;
const DATE_IN_COMMENT = new RegExp(`(?://|^\\s*(?:\\*|/\\*|#)).*${ISO_DATE.source}`);
const isMarkdownProse = (rel: string): boolean => rel.endsWith('.md') && rel !== 'CHANGELOG.md';
const isSource = (rel: string): boolean => /\.(?:[cm]?[jt]s|sh|py|wat|css|html)$/.test(rel) || rel.startsWith('.ci/');

function scan(patterns: readonly [string, RegExp][]): Finding[] {
  const out: Finding[] = [];
  for (const f of files) {
    f.lines.forEach((line, i) => {
      for (const [name, re] of patterns) {
        if (re.test(line)) out.push({ where: `${f.rel}:${i + 1}`, what: `${name}: ${line.trim().slice(0, 140)}` });
      }
    });
  }
  return out;
}

/** One parsed reference: the file it names and the headings it cites (empty: no `§`). */
interface DocRef { file: string; headings: string[] }

/**
 * The docs references on one line, by the syntax at the top of this file, and the number of `§` they account for.
 */
function parseDocRefs(rawLine: string): { refs: DocRef[]; sections: number } {
  const line = rawLine.replace(/\s*\*\/\s*$/, '').replace(/\s+$/, '');
  const refs: DocRef[] = [];
  let sections = 0;
  const start = /(?<![\w./-])docs\/([\w.-]+\.md)/g;
  for (let m = start.exec(line); m !== null; m = start.exec(line)) {
    const ref: DocRef = { file: m[1], headings: [] };
    let pos = m.index + m[0].length;
    if (line.startsWith(' §', pos)) {
      pos += 2;
      for (;;) {
        sections++;
        const rest = line.slice(pos);
        const end = /;|\)|, §/.exec(rest);
        let text = end ? rest.slice(0, end.index) : rest;
        if (!end && text.endsWith('.')) text = text.slice(0, -1);
        ref.headings.push(text);
        if (end?.[0] !== ', §') { pos += end ? end.index : rest.length; break; }
        pos += end.index + 3;
      }
      start.lastIndex = pos;
    }
    refs.push(ref);
  }
  return { refs, sections };
}

test('reference syntax: a heading ends at ;  )  , §  or the end of the line, less a final period', () => {
  const cases: [string, DocRef[]][] = [
    [' * The loss (docs/model.md §Losses), as ops', [{ file: 'model.md', headings: ['Losses'] }]],
    [' * (docs/model.md §Forward pass of one segment, §One-step gradient):', [{ file: 'model.md', headings: ['Forward pass of one segment', 'One-step gradient'] }]],
    ['// Recipe: docs/testing.md §Running a real VS Code.', [{ file: 'testing.md', headings: ['Running a real VS Code'] }]],
    ['/** Votes (docs/analyses.md §Votes: oracle and label-free; more) */', [{ file: 'analyses.md', headings: ['Votes: oracle and label-free'] }]],
    ['/** See docs/model.md §EMA. */', [{ file: 'model.md', headings: ['EMA'] }]],
    ['docs/model.md §A, docs/analyses.md §B', [{ file: 'model.md', headings: ['A, docs/analyses.md §B'] }]],
    ['docs/model.md §A; docs/analyses.md §B', [{ file: 'model.md', headings: ['A'] }, { file: 'analyses.md', headings: ['B'] }]],
    ['a heading with a period inside: docs/model.md §Otsu v. Gauss, then', [{ file: 'model.md', headings: ['Otsu v. Gauss, then'] }]],
    ['see [docs/model.md](docs/model.md#ema) or ../docs/x.md', [{ file: 'model.md', headings: [] }, { file: 'model.md', headings: [] }]],
  ];
  for (const [line, want] of cases) assert.deepEqual(parseDocRefs(line).refs, want, line);
  assert.equal(parseDocRefs('x (docs/model.md §A, §B) §1.7').sections, 2);
});

test('date rule: a date in a comment is flagged, a date in code or data is not', () => {
  for (const line of ['// measured on 2026-11-28', ' * run on 2026-11-28, 2 cores', '# 2026-11-28', 'x(); // 2026-11-28']) {
    assert.ok(DATE_IN_COMMENT.test(line), line);
  }
  for (const line of ["const day = '2026-11-28';", '"version": "2026.11.28"', ' * version 1.13.1+dfsg-4']) assert.ok(!DATE_IN_COMMENT.test(line), line);
});

test('repo hygiene: the scan reads the sources, the docs and the top-level files', () => {
  const rels = new Set(files.map((f) => f.rel));
  for (const rel of ['engine/model/config.ts', 'docs/model.md', 'README.md', 'package.json', 'test/run.mjs']) assert.ok(rels.has(rel), rel);
  assert.ok(!rels.has(path.relative(root, self).split(path.sep).join('/')));
  assert.ok(![...rels].some((r) => r.includes('node_modules/') || r.endsWith('.png') || r.endsWith('.safetensors')));
});

test('repo hygiene: each wording pattern catches the form it is for (examples joined from parts)', () => {
  const examples = [
    ['..', '/shared/data'], ['shared', '/docs/x'], ['hrm-refer', 'ence §1.3'], ['hrm-refer', 'ence.md'], ['paper', '.md'],
    ['engine-back', 'ends §4'], ['real-vs', 'code.md'], ['Sess', 'ion 11'], ['iss', 'ue 8'], ['iss', 'ue #4'], ['this t', 'ask'],
    ['ton', 'ight'], ['the bri', 'ef'],
  ].map((parts) => parts.join(''));
  const patterns = [...EXTERNAL_DOCS, ...WORK_LOG];
  assert.equal(examples.length, patterns.length);
  patterns.forEach(([name, re], i) => assert.ok(re.test(examples[i]), `${name} does not catch "${examples[i]}"`));
});

test('repo hygiene: this file speaks of the product too (its patterns do not match themselves)', () => {
  const lines = readFileSync(self, 'utf8').split('\n');
  const found = lines.flatMap((line, i) => [...EXTERNAL_DOCS, ...WORK_LOG].filter(([, re]) => re.test(line)).map(([name]) => `line ${i + 1}: ${name}`));
  assert.deepEqual(found, []);
});

test('repo hygiene: no citation of a document outside the repository', () => {
  const findings = scan(EXTERNAL_DOCS);
  assert.equal(findings.length, 0, report(findings));
});

test('repo hygiene: no work-log wording (numbered sessions and issues, the assignment, dates in prose and comments)', () => {
  const findings = scan(WORK_LOG);
  for (const f of files) {
    const lines = isMarkdownProse(f.rel) ? proseLines(f.lines).filter(({ line }) => ISO_DATE.test(line))
      : isSource(f.rel) ? f.lines.map((line, i) => ({ line, n: i + 1 })).filter(({ line }) => DATE_IN_COMMENT.test(line))
        : [];
    for (const { line, n } of lines) findings.push({ where: `${f.rel}:${n}`, what: `ISO date: ${line.trim().slice(0, 140)}` });
  }
  assert.equal(findings.length, 0, report(findings));
});

test('repo hygiene: every docs/<file>.md §<Heading> reference names a heading of that file', () => {
  const docsDir = path.join(root, 'docs');
  const headings = new Map<string, Set<string>>();
  for (const name of readdirSync(docsDir)) if (name.endsWith('.md')) headings.set(name, headingsOf(name));
  assert.ok(headings.size > 0, 'docs/ has no .md files');
  const findings: Finding[] = [];
  let resolved = 0;
  for (const f of files) {
    f.lines.forEach((line, i) => {
      const where = `${f.rel}:${i + 1}`;
      const { refs, sections } = parseDocRefs(line);
      for (const ref of refs) {
        const known = headings.get(ref.file);
        if (known === undefined) { findings.push({ where, what: `docs/${ref.file} does not exist` }); continue; }
        for (const h of ref.headings) {
          if (known.has(h)) resolved++;
          else findings.push({ where, what: `docs/${ref.file} has no heading "${h}"` });
        }
      }
      const stray = (line.match(/§/g) ?? []).length - sections;
      if (stray > 0) findings.push({ where, what: `§ outside a docs/<file>.md §<Heading> reference: ${line.trim().slice(0, 140)}` });
    });
  }
  assert.equal(findings.length, 0, report(findings));
  assert.ok(resolved > 0, 'no docs reference found at all: the scan is broken');
});
