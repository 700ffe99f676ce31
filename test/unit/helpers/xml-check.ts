/**
 * A strict well-formedness check of the XML the chart code writes: one root element, balanced tags, quoted
 * attributes without '<', only the five named entities and numeric ones, no raw '<' or '&' in text, no comments,
 * processing instructions or CDATA (the charts write none). Returns the problems found (none: well-formed).
 */
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/;
const NAME = /^[A-Za-z_][\w.:-]*/;

function badAmpersands(text: string): number {
  let n = 0;
  for (let i = text.indexOf('&'); i >= 0; i = text.indexOf('&', i + 1)) if (!ENTITY.test(text.slice(i))) n++;
  return n;
}

export function xmlProblems(xml: string): string[] {
  const problems: string[] = [];
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const bad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.exec(xml);
  if (bad) problems.push(`a character XML cannot hold (U+${bad[0].charCodeAt(0).toString(16).padStart(4, '0')}) at offset ${bad.index}`);
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (badAmpersands(text)) problems.push(`raw '&' in text near offset ${i}`);
    if (text.includes('>')) problems.push(`raw '>' in text near offset ${i}`);
    if (stack.length === 0 && text.trim()) problems.push(`text outside the root element at offset ${i}`);
    if (lt < 0) break;
    const gt = xml.indexOf('>', lt);
    if (gt < 0) { problems.push(`unclosed tag at offset ${lt}`); break; }
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> at offset ${lt} closes <${open ?? 'nothing'}>`);
      continue;
    }
    if (/^[!?]/.test(tag)) { problems.push(`unexpected <${tag.slice(0, 10)} at offset ${lt}`); continue; }
    const selfClosing = tag.endsWith('/');
    const body = selfClosing ? tag.slice(0, -1) : tag;
    const name = NAME.exec(body)?.[0];
    if (!name) { problems.push(`bad tag name at offset ${lt}`); continue; }
    let rest = body.slice(name.length);
    const seen = new Set<string>();
    while (rest.trim()) {
      const m = /^\s+([A-Za-z_][\w.:-]*)="([^"<]*)"/.exec(rest);
      if (!m) { problems.push(`bad attribute in <${name}> at offset ${lt}: ${rest.slice(0, 40)}`); break; }
      if (seen.has(m[1])) problems.push(`duplicate attribute ${m[1]} in <${name}> at offset ${lt}`);
      seen.add(m[1]);
      if (badAmpersands(m[2])) problems.push(`raw '&' in attribute ${m[1]} at offset ${lt}`);
      rest = rest.slice(m[0].length);
    }
    if (stack.length === 0) roots++;
    if (!selfClosing) stack.push(name);
  }
  if (stack.length) problems.push(`unclosed elements: ${stack.join(' > ')}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return problems;
}
