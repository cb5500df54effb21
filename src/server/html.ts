/**
 * HTML the task server renders: escaping (everything worker-supplied passes through it), the
 * wrapper script tag injection, and the built-in preview and error pages.
 *
 * @module
 */
import type { PreviewInfo } from './backend.js';

/** A string already known to be safe HTML; {@link html} inserts it without escaping. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * Escapes text for HTML element content and quoted attribute values.
 *
 * @example
 * ```ts
 * escapeHtml('<script>') // '&lt;script&gt;'
 * ```
 */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

/**
 * A template tag that escapes every interpolated value unless it is {@link SafeHtml} (or an
 * array of values, each handled the same way). Use it in `taskPage` / `previewPage` functions.
 *
 * @example
 * ```ts
 * taskPage: ({ registration }) => html`<p>Hello ${registration.workerId}</p>`.value
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  const piece = (v: unknown): string =>
    v instanceof SafeHtml ? v.value : Array.isArray(v) ? v.map(piece).join('') : escapeHtml(v);
  return new SafeHtml(strings.reduce((out, s, i) => out + s + (i < values.length ? piece(values[i]) : ''), ''));
}

const HEAD_OPEN = /<head(?:\s[^>]*)?>/i;
const HTML_OPEN = /<html(?:\s[^>]*)?>/i;

/**
 * Puts `headHtml` first in the page's `<head>` (so the wrapper defines `window.hitstate` before
 * any task script runs). A page without `<html>` is treated as a body fragment and wrapped in a
 * complete document titled `title`.
 */
export function injectIntoHead(page: string, headHtml: string, title: string): string {
  const head = HEAD_OPEN.exec(page);
  if (head) return page.slice(0, head.index + head[0].length) + headHtml + page.slice(head.index + head[0].length);
  const root = HTML_OPEN.exec(page);
  if (root) {
    const at = root.index + root[0].length;
    return `${page.slice(0, at)}<head>${headHtml}</head>${page.slice(at)}`;
  }
  return documentShell(title, new SafeHtml(headHtml), new SafeHtml(page)).value;
}

const BASE_STYLE = new SafeHtml(
  '<style>body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:44rem;padding:1.5rem;color:#1b1b1b}' +
    'h1{font-size:1.4rem}.hitstate-note{padding:.75rem 1rem;border-radius:.4rem;background:#eef3fb}' +
    '.hitstate-error{background:#fbeeee}code{font-size:.9em}</style>',
);

function documentShell(title: string, head: SafeHtml, body: SafeHtml): SafeHtml {
  return html`<!doctype html><html lang="en"><head>${head}<meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title></head><body>${body}</body></html>`;
}

/** The built-in preview page: the HIT's title and description, and a note to accept the HIT. */
export function defaultPreviewPage(info: PreviewInfo): string {
  return documentShell(
    info.title,
    BASE_STYLE,
    html`<h1>${info.title}</h1><p>${info.description}</p><p class="hitstate-note">This is a preview. Accept the HIT to start working on it.</p>`,
  ).value;
}

/** The page shown when the task page itself cannot be served (bad ids, no unit left...). */
export function errorPage(status: number, code: string, message: string): string {
  return documentShell(
    'This task cannot be shown',
    BASE_STYLE,
    html`<h1>This task cannot be shown</h1><p class="hitstate-note hitstate-error">${message}</p><p>Error <code>${code}</code> (HTTP ${status}). ${adviceFor(status, code)}</p>`,
  ).value;
}

/**
 * What the worker should do. Only "no unit left" tells them to return the HIT: any other refusal
 * may reach a worker who holds the assignment (MTurk unreachable, a limit, a page opened with
 * other ids), and returning would give up their work.
 */
function adviceFor(status: number, code: string): string {
  if (code === 'HST_ERR_NO_UNIT_AVAILABLE')
    return 'There is no work left for this HIT: please return it on Mechanical Turk.';
  if (status === 429 || status >= 500) return 'Keep the HIT and reload this page in a minute.';
  return 'If you accepted this HIT on Mechanical Turk, open the task again from the HIT’s page there; if it still cannot be shown, contact the requester.';
}
