/**
 * Per-task review templates, as Mephisto's review app allows: the task gives a small HTML file
 * with `{{path}}` placeholders, and the dashboard shows each submission through it next to the
 * JSON tree. The template is the task owner's (trusted); the values are the workers' (not): each
 * placeholder becomes escaped text, and the rendered page is served apart, in an iframe with
 * `sandbox` (no scripts, an opaque origin) and its own policy (`default-src 'none'`, inline style
 * and data: images only), so even markup a template places badly cannot run or reach the dashboard.
 *
 * Placeholders: `{{submission.FIELD}}` (dotted paths and array indexes, e.g.
 * `{{submission.labels.0}}`), `{{worker}}`, `{{unit.index}}`, `{{unit.id}}`, `{{assignment}}`,
 * `{{hit}}`, `{{run}}`. A string prints as itself, anything else as JSON, a missing value as
 * nothing. `{{{` and other syntaxes are not supported: there is no raw output.
 *
 * @module
 */
import { HitstateError } from '../errors.js';
import type { AgentRecord, UnitRecord } from '../store/types.js';

/** A template's size at most. */
export const REVIEW_TEMPLATE_MAX = 64 * 1024;

/** The policy of a rendered template: no script at all, inline style and data: images. */
export const REVIEW_VIEW_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox";

/**
 * Review templates by run id (`'*'`: every run without its own), or a function of the run id.
 * Values are the templates' HTML text.
 */
export type ReviewTemplates =
  | Readonly<Record<string, string>>
  | ((runId: string, config: Readonly<Record<string, unknown>>) => string | undefined);

/**
 * Checks the option.
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` naming the entry and the fix.
 */
export function checkReviewTemplates(templates: unknown): ReviewTemplates | undefined {
  if (templates === undefined) return undefined;
  if (typeof templates === 'function') return templates as ReviewTemplates;
  if (typeof templates !== 'object' || templates === null || Array.isArray(templates))
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      'dashboard option reviewTemplates must map run ids (or "*") to template HTML text, or be a function of the run id',
      { field: 'reviewTemplates' },
    );
  for (const [runId, text] of Object.entries(templates)) checkTemplate(text, `reviewTemplates.${runId}`);
  return templates as ReviewTemplates;
}

function checkTemplate(text: unknown, field: string): string {
  if (typeof text !== 'string' || text.trim() === '' || text.length > REVIEW_TEMPLATE_MAX)
    throw new HitstateError(
      'HST_ERR_CONFIG_INVALID',
      `${field} must be the template's HTML text, 1 to ${REVIEW_TEMPLATE_MAX} characters (read the file first)`,
      { field },
    );
  return text;
}

/** The template of a run, or undefined. */
export function templateOf(
  templates: ReviewTemplates | undefined,
  runId: string,
  config: Readonly<Record<string, unknown>>,
): string | undefined {
  if (templates === undefined) return undefined;
  const found = typeof templates === 'function' ? templates(runId, config) : (templates[runId] ?? templates['*']);
  return found === undefined ? undefined : checkTemplate(found, `reviewTemplates.${runId}`);
}

function lookup(root: unknown, path: readonly string[]): unknown {
  let at = root;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return undefined;
    if (!Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

/**
 * Escapes a value for any place a template may put it: text, a quoted attribute, and an unquoted
 * one too (whitespace, `=` and backquote become references, so a value never ends the attribute
 * and never starts another).
 */
export function escapeTemplateValue(value: string): string {
  return value.replace(/[&<>"'`=\s]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The placeholder syntax: `{{ a.b.0 }}`. */
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}/g;

/** Renders a template over one agent's submission; every value is escaped. */
export function renderReviewTemplate(
  template: string,
  values: { readonly submission: unknown; readonly agent: AgentRecord; readonly unit: UnitRecord },
): string {
  const scope = {
    submission: values.submission,
    worker: values.agent.workerId,
    assignment: values.agent.assignmentId,
    hit: values.agent.hitId,
    run: values.unit.runId,
    unit: { id: values.unit.id, index: values.unit.index },
  };
  return template.replace(PLACEHOLDER, (_, path: string) => {
    const v = lookup(scope, path.split('.'));
    if (v === undefined || v === null) return '';
    return escapeTemplateValue(typeof v === 'string' ? v : JSON.stringify(v));
  });
}
