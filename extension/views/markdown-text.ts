/**
 * Putting untrusted text (file and folder names, run.json fields, engine output) into Markdown that VS Code renders:
 * hovers, tree tooltips and the result documents. A file name such as `[x](command:…).safetensors` must read as that
 * name, never as a link, an image, HTML or a theme icon. No `vscode` import: unit-tested.
 */

/** Control characters (line breaks included) would start a new block (a link definition, a heading): shown as spaces. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Characters with a meaning in inline Markdown (CommonMark, GFM, VS Code's theme icons), or in HTML. */
const SPECIAL = /[\\`*_{}[\]()<>#+!|&$~:@^=]/g;

/**
 * `text` as literal inline Markdown: the characters of links and images `[ ] ( ) !`, code `` ` ``, emphasis and
 * strikethrough `* _ ~`, HTML, autolinks and entities `< > & :`, tables `|`, headings `#`, theme icons `$(…)` and the
 * backslash itself are backslash-escaped (CommonMark shows an escaped punctuation character as itself); a leading list
 * marker too; line breaks and other control characters become spaces. `.`, `-`, `/` and `,` are left as they are (they
 * mean nothing inside a line), so names stay readable in the source too.
 */
export function escapeMarkdown(text: string): string {
  return text.replace(CONTROL, ' ').replace(SPECIAL, '\\$&').replace(/^(\d+)([.)])/, '$1\\$2').replace(/^-/, '\\-');
}

/**
 * `text` as an inline code span: fenced by one backtick more than its longest backtick run (and padded with a space
 * when it starts or ends with a backtick), so no content ends the span; control characters as spaces.
 */
export function markdownCode(text: string): string {
  const t = text.replace(CONTROL, ' ');
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  const pad = t.startsWith('`') || t.endsWith('`') || (t.startsWith(' ') && t.endsWith(' ') && t.trim()) ? ' ' : '';
  return `${fence}${pad}${t}${pad}${fence}`;
}

/** A fenced code block of `text` (info string `lang`): the fence is longer than any backtick run in the text. */
export function markdownCodeBlock(text: string, lang = 'text'): string {
  const longest = Math.max(0, ...(text.match(/`{3,}/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${text}\n${fence}`;
}

/**
 * A `command:` URI with JSON arguments, percent-encoded so that nothing in it can end a Markdown link destination or
 * title (`(`, `)`, `'` and the other characters encodeURIComponent leaves alone are encoded too).
 */
export function commandUri(command: string, args: unknown): string {
  const encoded = encodeURIComponent(JSON.stringify(args)).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return `command:${command}?${encoded}`;
}
