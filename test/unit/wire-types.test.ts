/**
 * The messages shared by the engine and the webviews are declared once: in the engine's types-only files, which
 * webview/ imports with `import type` (a webview bundle runs in a browser: no Node module, no engine code). Checked on
 * the sources: every engine file webview/ reaches imports only types, only from engine/, and declares no runtime
 * value; and no type name is declared both in engine/ and in webview/ or extension/panels/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const rel = (abs: string): string => path.relative(root, abs).split(path.sep).join('/');

/** The source without comments (strings are kept; good enough for import and declaration lines). */
function code(file: string): string {
  return readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

interface ImportDecl { text: string; from: string; typeOnly: boolean }

/** Import declarations and `export … from` re-exports of a file. */
function importsOf(file: string): ImportDecl[] {
  const out: ImportDecl[] = [];
  for (const m of code(file).matchAll(/^\s*(import|export)\s+(type\s+)?([^;'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    if (m[1] === 'export' && !m[3]) continue;
    out.push({ text: m[0].trim().replace(/\s+/g, ' '), from: m[4], typeOnly: m[2] !== undefined });
  }
  return out;
}

/** The .ts file a relative import names. */
function resolve(from: string, spec: string): string {
  const base = path.resolve(path.dirname(from), spec);
  for (const f of [`${base}.ts`, path.join(base, 'index.ts'), base]) if (existsSync(f) && f.endsWith('.ts')) return f;
  throw new Error(`${rel(from)}: cannot resolve ${spec}`);
}

const tsFiles = (dir: string): string[] => readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.ts')).map((f) => path.join(root, dir, f));
const engineDir = path.join(root, 'engine') + path.sep;

test('webview/ reaches engine/ only through type-only imports of types-only files', () => {
  const problems: string[] = [];
  const queue: string[] = [];
  for (const file of tsFiles('webview')) {
    for (const imp of importsOf(file)) {
      if (!imp.from.startsWith('.')) continue;
      const target = resolve(file, imp.from);
      if (!target.startsWith(engineDir)) continue;
      if (!imp.typeOnly) problems.push(`${rel(file)}: not a type-only import: ${imp.text}`);
      queue.push(target);
    }
  }
  assert.ok(queue.length >= 1, 'webview/ imports no engine types: the wire types are declared twice again?');
  const seen = new Set<string>();
  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = code(file);
    const values = [...text.matchAll(/^\s*export\s+(?:declare\s+)?(const|let|var|function|class|enum|default)\b\s*(\w*)/gm)].map((m) => `${m[1]} ${m[2]}`);
    if (values.length) problems.push(`${rel(file)}: declares runtime values (${values.join(', ')}); webview/ may import only types-only files`);
    for (const imp of importsOf(file)) {
      if (!imp.from.startsWith('.')) { problems.push(`${rel(file)}: imports a module: ${imp.text}`); continue; }
      const target = resolve(file, imp.from);
      if (!target.startsWith(engineDir)) problems.push(`${rel(file)}: imports outside engine/: ${imp.text}`);
      else if (!imp.typeOnly) problems.push(`${rel(file)}: not a type-only import: ${imp.text}`);
      queue.push(target);
    }
  }
  assert.deepEqual(problems, []);
  // The wire types themselves live in these files.
  for (const f of ['engine/ensemble/report-types.ts', 'engine/analysis/inspect-types.ts', 'engine/analysis/analysis-protocol.ts']) {
    assert.ok(seen.has(path.join(root, f)), `${f} is not imported by webview/`);
  }
});

test('no type is declared both in engine/ and in webview/ or extension/panels/', () => {
  const declared = (files: string[]): Map<string, string> => {
    const out = new Map<string, string>();
    for (const file of files) {
      for (const m of code(file).matchAll(/^\s*export\s+(?:interface|type)\s+(\w+)/gm)) out.set(m[1], rel(file));
    }
    return out;
  };
  const engineFiles = readdirSync(path.join(root, 'engine'), { recursive: true }).map(String).filter((f) => f.endsWith('.ts')).map((f) => path.join(root, 'engine', f));
  const engine = declared(engineFiles);
  const hostAndWeb = declared([...tsFiles('webview'), ...tsFiles(path.join('extension', 'panels'))]);
  assert.ok(engine.size > 50 && hostAndWeb.size > 10, `${engine.size} engine types, ${hostAndWeb.size} webview/panel types`);
  const twice = [...hostAndWeb].filter(([name]) => engine.has(name)).map(([name, where]) => `${name}: ${where} and ${engine.get(name)}`);
  assert.deepEqual(twice, [], 'declare it once in a types-only engine file and import it');
});
