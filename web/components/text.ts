/** Lesson text: a little Markdown (see src/playground/lessons.ts: paragraphs, `code`, **bold**, *emphasis*, lists). */
import { html, type TemplateResult } from 'lit';

/** Inline Markdown: `code`, **bold** and *emphasis*. */
export function renderInline(s: string): (string | TemplateResult)[] {
  const parts: (string | TemplateResult)[] = [];
  const re = /`([^`]+)`|\*\*([^*]+)\*\*|\*([^*]+)\*/g;
  let last = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    parts.push(s.slice(last, m.index));
    if (m[1] !== undefined) parts.push(html`<code>${m[1]}</code>`);
    else if (m[2] !== undefined) parts.push(html`<b>${m[2]}</b>`);
    else parts.push(html`<em>${m[3]}</em>`);
    last = re.lastIndex;
  }
  parts.push(s.slice(last));
  return parts;
}

/** A little Markdown: paragraphs, `code`, **bold**, *emphasis*, and "- " lists. */
export function renderText(text: string): TemplateResult[] {
  const inline = renderInline;
  return text.split(/\n\s*\n/).map((block) => {
    const lines = block.split('\n');
    if (lines.every((l) => /^\s*[-*] /.test(l))) {
      return html`<ul>${lines.map((l) => html`<li>${inline(l.replace(/^\s*[-*] /, ''))}</li>`)}</ul>`;
    }
    return html`<p>${inline(block)}</p>`;
  });
}
