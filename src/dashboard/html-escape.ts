/**
 * Escaping for everything the dashboard prints: task data, submissions, worker ids and audit
 * details are untrusted, so every value goes through {@link escapeHtml} (text and attributes).
 *
 * @module
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML text and quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
