/**
 * Untrusted text in the Markdown of hovers, tooltips and result documents: a file name is shown as itself, never as
 * a link, code, emphasis, HTML or a theme icon; code spans and blocks cannot be closed from inside; command URIs
 * cannot end a link destination.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { commandUri, escapeMarkdown, markdownCode, markdownCodeBlock } from '../../extension/views/markdown-text';

/** CommonMark's backslash escapes undone: what a renderer shows for escaped text. */
const unescape = (md: string): string => md.replace(/\\([!-/:-@[-`{-~])/g, '$1');

/** Characters that start Markdown syntax inside a line, or HTML. */
const SPECIAL = '\\`*_{}[]()<>#+!|&$~:@^=';

/** True when every special character of `md` is escaped by a backslash (that is not itself escaped). */
function allEscaped(md: string): boolean {
  for (let i = 0; i < md.length; i++) {
    if (md[i] === '\\') {
      i++; // the escaped character
      continue;
    }
    if (SPECIAL.includes(md[i])) return false;
  }
  return true;
}

test('a file name built as a command link reads as that name, with no link syntax left', () => {
  const name = 'a`[x](command:workbench.action.quit)`b.safetensors';
  const md = escapeMarkdown(name);
  assert.equal(md, 'a\\`\\[x\\]\\(command\\:workbench.action.quit\\)\\`b.safetensors');
  assert.ok(!md.includes('](command:'), md);
  assert.ok(allEscaped(md));
  assert.equal(unescape(md), name);
  for (const s of ['[x](command:workbench.action.quit).safetensors', '<img src=x onerror=alert(1)>.safetensors', '$(alert) &lt;.safetensors', '**bold**_it_~~s~~|t|']) {
    assert.ok(allEscaped(escapeMarkdown(s)), s);
    assert.equal(unescape(escapeMarkdown(s)), s);
  }
});

test('line breaks and control characters cannot start a new block; list markers at the start are escaped', () => {
  const md = escapeMarkdown('x\n[a]: command:workbench.action.quit\r\n# h\u2028y');
  assert.ok(!/[\n\r\u2028]/.test(md), md);
  assert.equal(escapeMarkdown('- item'), '\\- item');
  assert.equal(escapeMarkdown('12. item'), '12\\. item');
  assert.equal(escapeMarkdown('step-000500.safetensors'), 'step-000500.safetensors', 'names stay readable');
});

test('escapeMarkdown: any text is fully escaped and shown as itself (control characters as spaces)', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
    const md = escapeMarkdown(s);
    const shown = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' '); // eslint-disable-line no-control-regex
    return allEscaped(md) && unescape(md) === shown;
  }), { numRuns: 500 });
});

test('markdownCode: the fence is longer than any backtick run inside, so nothing closes the span early', () => {
  const t = 'a`b``c[x](command:workbench.action.quit)';
  const md = markdownCode(t);
  assert.ok(md.startsWith('```') && md.endsWith('```') && !md.startsWith('````'), md);
  assert.equal(md.slice(3, -3), t);
  assert.equal(markdownCode('`edge`'), '`` `edge` ``');
  assert.equal(markdownCode('plain'), '`plain`');
  assert.ok(!markdownCode('x\ny').includes('\n'));
  fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => {
    const md = markdownCode(s);
    const fence = /^`+/.exec(md)?.[0] ?? '';
    const inner = md.slice(fence.length, md.length - fence.length);
    return !(inner.match(/`+/g) ?? []).some((r) => r.length === fence.length);
  }), { numRuns: 300 });
});

test('markdownCodeBlock: a ``` inside the text does not end the block', () => {
  const md = markdownCodeBlock('line\n```\n[x](command:workbench.action.quit)');
  const fence = md.split('\n')[0].replace('text', '');
  assert.equal(fence, '````');
  assert.ok(md.endsWith('\n````'));
  assert.equal(markdownCodeBlock('plain'), '```text\nplain\n```');
});

test('commandUri: arguments percent-encoded, parentheses and quotes included', () => {
  const file = "/w/a) [b](command:workbench.action.quit) 'c'.safetensors";
  const uri = commandUri('hrmLens.evaluateCheckpoint', [{ checkpoint: file }]);
  assert.match(uri, /^command:hrmLens\.evaluateCheckpoint\?/);
  assert.ok(!/[()'\s[\]"]/.test(uri), uri);
  assert.deepEqual(JSON.parse(decodeURIComponent(uri.slice(uri.indexOf('?') + 1))), [{ checkpoint: file }]);
});
