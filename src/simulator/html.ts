/**
 * HTML building blocks of the worker pages. Every interpolated value goes through
 * {@link escapeHtml}; attribute values are always double-quoted.
 *
 * @module
 */

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#232f3e;color:#fff;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}
main{padding:1rem;max-width:1200px;margin:auto}
.card{background:#fff;border:1px solid #dde;border-radius:6px;padding:1rem;margin-bottom:1rem}
.muted{color:#667}.error{border-color:#d33;background:#fff5f5}
button{font-size:1rem;padding:.4rem 1.2rem;border-radius:4px;border:1px solid #888;background:#fff;cursor:pointer}
button.primary{background:#ff9900;border-color:#e88b00;color:#111;font-weight:600}
iframe{width:100%;border:1px solid #ccd;background:#fff}
table{border-collapse:collapse}td,th{padding:.25rem .6rem;text-align:left;border-bottom:1px solid #eee}
form.inline{display:inline}
`;

/** A complete page. `body` must already be escaped HTML. */
export function page(title: string, body: string, workerId?: string): string {
  const who = workerId ? `<span class="muted">worker ${escapeHtml(workerId)}</span>` : '';
  const home = `/mturk${workerId ? `?workerId=${encodeURIComponent(workerId)}` : ''}`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - hitstate MTurk simulator</title><style>${STYLE}</style></head>
<body><header><a href="${escapeHtml(home)}">hitstate MTurk simulator</a>${who}</header>
<main>${body}</main></body></html>
`;
}

/** A hidden form input. */
export function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;
}
