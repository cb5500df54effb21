/**
 * The dashboard's pages as HTML strings. No inline script or style (the policy forbids them):
 * behaviour comes from `app.js`, looks from `app.css`. Every value is escaped.
 *
 * @module
 */
import { UNIT_STATES } from '../../machines/index.js';
import { unitChartSvg } from './chart.js';
import { escapeHtml as e } from './html-escape.js';
import type { WorkerSummary } from '../cli/commands/worker.js';
import type { BudgetView } from './actions.js';
import { budgetText } from './actions.js';
import type { ReviewEntry, RunRow, UnitDetail, UnitQuery, UnitRow, WorkerRow } from './views.js';

/** What every page needs: the prefix, the CSRF token, the clock's now. */
export interface PageContext {
  readonly prefix: string;
  readonly csrf: string;
  readonly now: number;
  readonly mode: 'embedded' | 'standalone';
}

/** The panel every confirmed action (bulk, worker) opens: the server's preview, then Enter or Esc. */
const ACT_CONFIRM = `<form id="act-confirm" class="confirm act-confirm" hidden><p id="act-confirm-text"></p>
<button type="submit" id="act-yes">Confirm (Enter)</button> <button type="button" id="act-no">Cancel (Esc)</button></form>`;

const dollars = (cents: number): string => `$${(cents / 100).toFixed(2)}`;
const time = (ms: number | null): string =>
  ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

/** The page frame: head with the CSRF meta, nav, the live feed slot. */
export function layout(ctx: PageContext, title: string, body: string, live: string | null): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)} · hitstate dashboard</title>
<meta name="hitstate-csrf" content="${e(ctx.csrf)}">
<link rel="stylesheet" href="${e(ctx.prefix)}/app.css">
<script src="${e(ctx.prefix)}/app.js" defer></script>
</head><body data-prefix="${e(ctx.prefix)}"${live === null ? '' : ` data-live="${e(live)}"`}>
<header><a class="brand" href="${e(ctx.prefix)}/">hitstate</a> <a class="nav" href="${e(ctx.prefix)}/workers">Workers</a> <span class="mode">${ctx.mode === 'embedded' ? 'live runtime' : 'read-only store view'}</span> <span id="live-status" class="live-status">${live === null ? '' : 'connecting…'}</span></header>
<main>${body}</main>
${ACT_CONFIRM}
</body></html>`;
}

function countsText(counts: Readonly<Record<string, number>>): string {
  return UNIT_STATES.filter((s) => (counts[s] ?? 0) > 0)
    .map((s) => `<span class="pill s-${e(s)}" data-run-count="${e(s)}">${e(s)} ${counts[s]}</span>`)
    .join(' ');
}

/** The runs page. */
export function runsPage(ctx: PageContext, runs: readonly RunRow[]): string {
  const rows = runs
    .map(
      (
        r,
      ) => `<tr data-run="${e(r.runId)}"><td><a href="${e(ctx.prefix)}/runs/${encodeURIComponent(r.runId)}">${e(r.title)}</a><div class="sub">${e(r.runId)}</div></td>
<td>${e(r.environment)}</td><td class="run-status">${e(r.status)}</td><td class="counts" data-counts-of="${e(r.runId)}">${countsText(r.counts)}</td>
<td class="num">${dollars(r.money.totalCents)}</td><td class="num">${dollars(r.heldCents)}</td><td>${time(r.createdAt)}</td><td>${ago(r.lastActivityAt, ctx.now)} ago</td></tr>`,
    )
    .join('\n');
  const body = `<h1>Runs</h1>
<table class="grid runs"><thead><tr><th>Run</th><th>Environment</th><th>State</th><th>Units by state</th><th>Spent</th><th>Held</th><th>Started</th><th>Last activity</th></tr></thead>
<tbody>${rows || '<tr><td colspan="8">No runs in this store yet.</td></tr>'}</tbody></table>
<section class="feed"><h2>Live events</h2><ol id="feed" class="feed-list"></ol></section>`;
  return layout(ctx, 'Runs', body, '');
}

/** The query string of the unit table, with overrides. */
export function queryString(
  query: UnitQuery,
  over: Partial<Record<keyof UnitQuery, string | number | undefined>> = {},
): string {
  const all: Record<string, string | number | undefined> = {
    state: query.state,
    q: query.q,
    sort: query.sort,
    dir: query.dir,
    page: query.page,
    ...over,
  };
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(all)) if (v !== undefined && v !== '') params.set(k, String(v));
  const s = params.toString();
  return s === '' ? '' : `?${s}`;
}

/** The unit table (also served alone, as the fragment the page swaps in live). */
export function unitTable(
  ctx: PageContext,
  runId: string,
  query: UnitQuery,
  rows: readonly UnitRow[],
  total: number,
): string {
  const base = `${ctx.prefix}/runs/${encodeURIComponent(runId)}`;
  const header = (key: UnitQuery['sort'], label: string): string => {
    const dir = query.sort === key && query.dir === 'asc' ? 'desc' : 'asc';
    const mark = query.sort === key ? (query.dir === 'asc' ? ' ▲' : ' ▼') : '';
    return `<th><a href="${e(base + queryString(query, { sort: key, dir, page: 1 }))}">${e(label)}${mark}</a></th>`;
  };
  const body = rows
    .map(
      (
        r,
      ) => `<tr data-unit="${e(r.unitId)}" data-status="${e(r.status)}"><td><a href="${e(ctx.prefix)}/units/${encodeURIComponent(r.unitId)}">#${r.index}</a></td>
<td><span class="pill s-${e(r.status)}">${e(r.status)}</span></td><td>${e(r.workerId ?? '-')}</td><td class="mono">${e(r.hitId ?? '-')}</td><td>${ago(r.since, ctx.now)}</td><td class="preview">${e(r.preview)}</td></tr>`,
    )
    .join('\n');
  const pages = Math.max(1, Math.ceil(total / query.pageSize));
  const nav = `<nav class="pager">${query.page > 1 ? `<a rel="prev" href="${e(base + queryString(query, { page: query.page - 1 }))}">← previous</a>` : ''}
<span>page ${query.page} of ${pages} · ${total} unit${total === 1 ? '' : 's'}${query.state === undefined ? '' : ` in ${e(query.state)}`}</span>
${query.page < pages ? `<a rel="next" href="${e(base + queryString(query, { page: query.page + 1 }))}">next →</a>` : ''}</nav>`;
  return `<div id="unit-table" data-total="${total}"><table class="grid units"><thead><tr>${header('index', 'Unit')}${header('status', 'State')}${header('worker', 'Worker')}${header('hit', 'HIT')}${header('since', 'Time in state')}<th>Submission</th></tr></thead>
<tbody>${body || '<tr><td colspan="6">No unit matches.</td></tr>'}</tbody></table>${nav}</div>`;
}

function moneyPanel(run: RunRow, budget: BudgetView | null): string {
  const m = run.money;
  const budgetRows =
    budget === null
      ? ''
      : budget.budgetCents === null
        ? '<dt>Budget</dt><dd id="budget">no budget</dd>'
        : `<dt>Budget</dt><dd id="budget">${dollars(budget.budgetCents)}</dd><dt>Remaining</dt><dd id="budget-remaining"><strong>${dollars(budget.remainingCents!)}</strong></dd>`;
  return `<section class="money" id="money"><h2>Money</h2><dl>
<dt>Rewards paid</dt><dd>${dollars(m.approved.rewardCents + m.softRejected.rewardCents)} (${m.approved.count} approved, ${m.softRejected.count} soft-rejected)</dd>
<dt>Bonuses</dt><dd>${dollars(m.bonuses.cents)} (${m.bonuses.count})</dd>
<dt>MTurk fees</dt><dd>${dollars(m.feeCents)}</dd>
<dt>Spent</dt><dd><strong>${dollars(m.totalCents)}</strong></dd>
<dt>Held for open units</dt><dd>${dollars(run.heldCents)}</dd>
<dt>Rejected</dt><dd>${m.rejected.count}</dd>
<dt>Reward per unit</dt><dd>${run.reward === null ? '-' : `$${e(run.reward)}`}</dd>${budgetRows}</dl></section>`;
}

/** The bulk actions of the run page: every unit the current filter matches, previewed then confirmed. */
function bulkPanel(base: string, query: UnitQuery, unavailable: string | null): string {
  const disabled = unavailable === null ? '' : ' disabled';
  return `<section class="bulk"><h2>Bulk actions <small>on every unit this filter matches, all pages: the total and the remaining budget are shown before anything is sent</small></h2>
<form class="act-form bulk-form" data-endpoint="${e(base)}/bulk">
${query.state === undefined ? '' : `<input type="hidden" name="state" value="${e(query.state)}">`}${query.q === undefined ? '' : `<input type="hidden" name="q" value="${e(query.q)}">`}
<select name="kind" aria-label="Bulk action"${disabled}><option value="approve">Approve work awaiting review</option><option value="reject">Reject work awaiting review</option><option value="softReject">Soft-reject work awaiting review</option><option value="bonus">Bonus every submitted unit</option></select>
<input name="feedback" maxlength="1024" placeholder="Feedback (reject)" aria-label="Feedback"${disabled}>
<input name="amountUsd" inputmode="decimal" placeholder="Bonus USD each" aria-label="Bonus in USD"${disabled}>
<input name="reason" maxlength="1024" placeholder="Bonus reason" aria-label="Bonus reason"${disabled}>
<button type="submit"${disabled}>Preview…</button>
<p class="result" aria-live="polite">${unavailable === null ? '' : e(unavailable)}</p></form></section>`;
}

/** The run page: chart with live counts, money, unit table, feed. */
export function runPage(
  ctx: PageContext,
  run: RunRow,
  query: UnitQuery,
  rows: readonly UnitRow[],
  total: number,
  unavailable: string | null = null,
  budget: BudgetView | null = null,
): string {
  const base = `${ctx.prefix}/runs/${encodeURIComponent(run.runId)}`;
  const chart = unitChartSvg(
    run.counts,
    (status) => base + queryString(query, { state: query.state === status ? undefined : status, page: 1 }),
    query.state,
    run.flows,
  );
  const body = `<p class="crumbs"><a href="${e(ctx.prefix)}/">Runs</a> / ${e(run.runId)}</p>
<h1>${e(run.title)}</h1>
<p class="meta">${e(run.environment)} · <span class="run-status">${e(run.status)}</span> · ${run.units} units · started ${time(run.createdAt)} · <a href="${e(base)}/review">Review (<span id="awaiting">${run.counts.completed}</span> submitted)</a> · <a href="${e(base)}/workers">Workers</a></p>
<div class="top"><section class="chart-box"><h2>Units by state <small>click a state to filter · arrows: units moved in the last hour</small></h2>${chart}</section>${moneyPanel(run, budget)}</div>
<form class="search" method="get" action="${e(base)}">
${query.state === undefined ? '' : `<input type="hidden" name="state" value="${e(query.state)}">`}
<input type="search" name="q" value="${e(query.q ?? '')}" placeholder="Search unit, worker, HIT, submission" aria-label="Search units">
<input type="hidden" name="sort" value="${e(query.sort)}"><input type="hidden" name="dir" value="${e(query.dir)}">
<button type="submit">Search</button>${query.state === undefined && (query.q ?? '') === '' ? '' : ` <a href="${e(base)}">clear filters</a>`}</form>
${bulkPanel(base, query, unavailable)}
${unitTable(ctx, run.runId, query, rows, total)}
<section class="feed"><h2>Live events</h2><ol id="feed" class="feed-list"></ol></section>`;
  return layout(ctx, run.title, body, run.runId);
}

/** A JSON value as a nested, readable tree (`<details>` per object), every leaf escaped. */
export function jsonTree(value: unknown, depth = 0): string {
  if (value === null || typeof value !== 'object') {
    const cls = value === null ? 'null' : typeof value;
    return `<span class="j-${e(cls)}">${e(typeof value === 'string' ? JSON.stringify(value) : String(value))}</span>`;
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length === 0) return `<span class="j-empty">${Array.isArray(value) ? '[]' : '{}'}</span>`;
  const items = entries
    .map(([k, v]) => `<li><span class="j-key">${e(k)}</span>: ${jsonTree(v, depth + 1)}</li>`)
    .join('');
  return `<details class="json"${depth < 3 ? ' open' : ''}><summary>${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}</summary><ul>${items}</ul></details>`;
}

/** The submission through the run's review template, in a sandboxed frame (no script, its own policy). */
function templateFrame(ctx: PageContext, unitId: string, agentId: string): string {
  const src = `${ctx.prefix}/units/${encodeURIComponent(unitId)}/view?agent=${encodeURIComponent(agentId)}`;
  return `<iframe class="review-view" sandbox src="${e(src)}" title="The submission through the task's review template" loading="lazy"></iframe>`;
}

/** The unit page: status, HIT, agents with submissions, and the MTurk calls with times. */
export function unitPage(ctx: PageContext, detail: UnitDetail, templated = false): string {
  const { unit } = detail;
  const runBase = `${ctx.prefix}/runs/${encodeURIComponent(unit.runId)}`;
  const agents = detail.agents
    .map(
      ({ agent, submission }) => `<article class="agent" data-agent="${e(agent.id)}"><h3>Agent ${e(agent.id)}</h3>
<dl><dt>Worker</dt><dd>${e(agent.workerId)}</dd><dt>Status</dt><dd>${e(agent.status)}</dd><dt>Assignment</dt><dd class="mono">${e(agent.assignmentId)}</dd>
<dt>HIT</dt><dd class="mono">${e(agent.hitId)}</dd><dt>Accepted</dt><dd>${time(agent.createdAt)}</dd><dt>Submitted</dt><dd>${time(agent.submittedAt)}</dd>
<dt>Review</dt><dd>${agent.review === null ? '-' : `${e(agent.review.decision)} at ${time(agent.review.reviewedAt)}${agent.review.feedback === null ? '' : `: ${e(agent.review.feedback)}`}`}</dd></dl>
<h4>Submission</h4>${submission === undefined ? '<p class="none">nothing submitted</p>' : `${templated ? templateFrame(ctx, unit.id, agent.id) : ''}<div class="submission">${jsonTree(submission)}</div>`}</article>`,
    )
    .join('\n');
  // One timeline: the MTurk calls from the audit trail and the changes this process saw.
  const timeline = [
    ...detail.calls.map((c) => ({
      at: c.at,
      row: `<tr class="call"><td>${time(c.at)}</td><td>MTurk call</td><td class="op">${e(c.operation)}</td><td>${e(c.outcome)}${c.attempts !== null && c.attempts > 1 ? ` after ${c.attempts} attempts` : ''}${c.durationMs === null ? '' : `, ${c.durationMs} ms`}</td><td class="mono">${e(c.token ?? '')}</td></tr>`,
    })),
    ...detail.events.map((ev) => ({
      at: ev.at,
      row: `<tr class="event ev-${e(ev.kind)}"><td>${time(ev.at)}</td><td>${e(ev.kind)}</td><td colspan="3">${e(ev.text)}</td></tr>`,
    })),
  ].sort((a, b) => a.at - b.at);
  const calls = timeline.map((t) => t.row).join('\n');
  const body = `<p class="crumbs"><a href="${e(ctx.prefix)}/">Runs</a> / <a href="${e(runBase)}">${e(unit.runId)}</a> / unit #${unit.index}</p>
<h1>Unit #${unit.index} <span class="pill s-${e(detail.status)}" id="unit-status">${e(detail.status)}</span></h1>
<dl class="meta"><dt>Unit</dt><dd class="mono">${e(unit.id)}</dd><dt>HIT</dt><dd class="mono">${e(detail.hit?.id ?? '-')}${detail.hit?.status == null ? '' : ` (${e(detail.hit.status)})`}</dd>
<dt>Reward</dt><dd>$${e(unit.payAmountUsd)}</dd><dt>Created</dt><dd>${time(unit.createdAt)}</dd><dt>Last change</dt><dd>${time(unit.updatedAt)}</dd></dl>
<h2>History</h2>
<table class="grid history"><thead><tr><th>Time</th><th>What</th><th>Call or change</th><th>Outcome</th><th>Idempotency token</th></tr></thead><tbody>${calls || '<tr><td colspan="5">Nothing recorded for this unit yet.</td></tr>'}</tbody></table>
<h2>Agents</h2>${agents || '<p class="none">No worker has taken this unit yet.</p>'}`;
  return layout(ctx, `Unit #${unit.index}`, body, unit.runId);
}

/** The review page: one submission at a time, keyboard driven (the script does the rest). */
export function reviewPage(
  ctx: PageContext,
  run: RunRow,
  queue: readonly ReviewEntry[],
  unavailable: string | null,
  budget: BudgetView | null = null,
  templated = false,
): string {
  const base = `${ctx.prefix}/runs/${encodeURIComponent(run.runId)}`;
  const budgetLine = budget === null ? '' : budgetText(budget);
  const fee = (usd: string): string => dollars(Math.round(Number(usd) * 100 * 0.2));
  const items = queue
    .map(
      (
        { agent, unit, submission },
        i,
      ) => `<article class="review-item${i === 0 ? ' current' : ''}" data-agent="${e(agent.id)}" data-reward="${e(unit.payAmountUsd)}" data-fee="${e(fee(unit.payAmountUsd))}" data-worker="${e(agent.workerId)}">
<h2>Unit <a href="${e(ctx.prefix)}/units/${encodeURIComponent(unit.id)}">#${unit.index}</a> · worker ${e(agent.workerId)} <small>${i + 1} of ${queue.length}</small></h2>
${templated ? templateFrame(ctx, unit.id, agent.id) : ''}<div class="submission">${jsonTree(submission)}</div><p class="result" aria-live="polite"></p></article>`,
    )
    .join('\n');
  const disabled = unavailable === null ? '' : ' disabled';
  const body = `<p class="crumbs"><a href="${e(ctx.prefix)}/">Runs</a> / <a href="${e(base)}">${e(run.runId)}</a> / review</p>
<h1>Review: ${e(run.title)}</h1>
${budget === null ? '' : `<p class="budget" id="budget-line">Budget: ${e(budgetLine)}</p>`}
${unavailable === null ? '' : `<p class="refusal" id="review-unavailable">${e(unavailable)}</p>`}
<p class="keys">Keys: <kbd>a</kbd> approve · <kbd>r</kbd> reject with feedback · <kbd>s</kbd> soft-reject · <kbd>b</kbd> bonus · <kbd>j</kbd>/<kbd>n</kbd> next · <kbd>k</kbd> previous. Every money action asks you to confirm its amount; it shows as done only once MTurk confirmed it.</p>
<div class="actions" id="review-actions" data-endpoint="${e(base)}/review" data-budget="${e(budgetLine)}"${unavailable === null ? '' : ` data-unavailable="${e(unavailable)}"`}>
<button type="button" data-action="approve"${disabled}>Approve (a)</button> <button type="button" data-action="reject"${disabled}>Reject (r)</button>
<button type="button" data-action="softReject"${disabled}>Soft-reject (s)</button> <button type="button" data-action="bonus"${disabled}>Bonus (b)</button>
<button type="button" data-action="next">Next (j)</button> <button type="button" data-action="prev">Previous (k)</button></div>
<form id="confirm" class="confirm" hidden><p id="confirm-text"></p>
<label id="feedback-label" hidden>Feedback to the worker <input id="feedback" maxlength="1024"></label>
<label id="amount-label" hidden>Bonus (USD) <input id="amount" inputmode="decimal" value="0.10"></label>
<label id="reason-label" hidden>Reason <input id="reason" maxlength="1024" value="Thank you for careful work"></label>
<button type="submit" id="confirm-yes">Confirm (Enter)</button> <button type="button" id="confirm-no">Cancel (Esc)</button></form>
<section id="queue">${items || '<p class="none">Nothing awaits review.</p>'}</section>`;
  return layout(ctx, `Review ${run.title}`, body, run.runId);
}

const percent = (rate: number | null): string => (rate === null ? '-' : `${Math.round(rate * 100)}%`);
const duration = (seconds: number): string =>
  seconds < 3600
    ? `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`
    : `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;

/** The workers page: of one run, or of every run of the store. */
export function workersPage(
  ctx: PageContext,
  rows: readonly WorkerRow[],
  run: RunRow | null,
  qualifications: ReadonlyMap<string, readonly string[]> = new Map(),
): string {
  const worker = (id: string): string => `${ctx.prefix}/workers/${encodeURIComponent(id)}`;
  const body = rows
    .map(
      (w) =>
        `<tr data-worker="${e(w.workerId)}"><td class="mono"><a href="${e(worker(w.workerId))}">${e(w.workerId)}</a></td>${run === null ? `<td class="num">${w.runs}</td>` : ''}<td class="num">${w.units}</td><td class="num">${w.submitted}</td><td class="num">${w.approved}</td><td class="num">${w.rejected}</td><td class="num approval">${percent(w.approvalRate)}</td><td class="num">${duration(w.secondsWorked)}</td><td class="num">${dollars(w.bonusCents)}${w.bonuses > 0 ? ` (${w.bonuses})` : ''}</td><td class="blocked">${w.blockedBy.length === 0 ? '' : `<span class="pill s-rejected">blocked</span>`}</td><td class="quals">${e((qualifications.get(w.workerId) ?? []).join(', '))}</td><td>${ago(w.lastSeenAt, ctx.now)} ago</td></tr>`,
    )
    .join('\n');
  const crumbs =
    run === null
      ? `<p class="crumbs"><a href="${e(ctx.prefix)}/">Runs</a> / workers</p><h1>Workers of this store</h1>`
      : `<p class="crumbs"><a href="${e(ctx.prefix)}/">Runs</a> / <a href="${e(ctx.prefix)}/runs/${encodeURIComponent(run.runId)}">${e(run.runId)}</a> / workers</p><h1>Workers of ${e(run.title)}</h1><p class="meta"><a href="${e(ctx.prefix)}/workers">every run of the store</a></p>`;
  const html = `${crumbs}
<p class="meta">${rows.length} worker${rows.length === 1 ? '' : 's'} · the approval rate counts every review in this store</p>
<table class="grid workers"><thead><tr><th>Worker</th>${run === null ? '<th>Runs</th>' : ''}<th>Units</th><th>Submitted</th><th>Approved</th><th>Rejected</th><th>Approval rate</th><th>Time spent</th><th>Bonuses</th><th>Blocked</th><th>Qualifications</th><th>Last seen</th></tr></thead>
<tbody>${body || `<tr><td colspan="${run === null ? 12 : 11}">No worker has taken a unit yet.</td></tr>`}</tbody></table>`;
  return layout(ctx, run === null ? 'Workers' : `Workers of ${run.title}`, html, null);
}

/** One worker: per run, reviews, time, bonuses, blocks, qualifications, and the actions. */
export function workerPage(
  ctx: PageContext,
  s: WorkerSummary,
  units: readonly {
    readonly unitId: string;
    readonly runId: string;
    readonly index: number;
    readonly status: string;
  }[],
  unavailable: string | null,
  qualificationNames: ReadonlyMap<string, string> = new Map(),
): string {
  const endpoint = `${ctx.prefix}/workers/${encodeURIComponent(s.workerId)}`;
  const disabled = unavailable === null ? '' : ' disabled';
  const runs = s.runs
    .map(
      (r) =>
        `<tr><td><a href="${e(ctx.prefix)}/runs/${encodeURIComponent(r.runId)}">${e(r.runId)}</a></td><td class="num">${r.units}</td><td class="num">${r.submitted}</td><td class="num">${r.approved}</td><td class="num">${r.rejected}</td><td class="num">${duration(r.secondsWorked)}</td><td class="num">$${e(r.bonusUsd)}</td></tr>`,
    )
    .join('\n');
  const unitList = units
    .map(
      (u) =>
        `<li><a href="${e(ctx.prefix)}/units/${encodeURIComponent(u.unitId)}">${e(u.runId)} #${u.index}</a> <span class="pill s-${e(u.status)}">${e(u.status)}</span></li>`,
    )
    .join('');
  const blocks =
    s.blocks.length === 0
      ? '<p class="none" id="blocks">Not blocked by this store’s requesters.</p>'
      : `<ul id="blocks">${s.blocks.map((b) => `<li>blocked by ${e(b.requester)} since ${time(b.blockedAt)}: ${e(b.reason)}</li>`).join('')}</ul>`;
  const quals =
    s.qualifications.length === 0
      ? '<p class="none" id="qualifications">No qualification granted or revoked by this store.</p>'
      : `<table class="grid" id="qualifications"><thead><tr><th>Time</th><th>Change</th><th>Qualification</th><th>Outcome</th></tr></thead><tbody>${s.qualifications
          .map(
            (q) =>
              `<tr><td>${time(q.at)}</td><td>${q.operation === 'AssociateQualificationWithWorker' ? 'granted' : 'revoked'}</td><td>${qualificationNames.has(q.qualificationTypeId) ? `${e(qualificationNames.get(q.qualificationTypeId))} ` : ''}<span class="mono">${e(q.qualificationTypeId)}</span></td><td>${e(q.outcome)}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  const form = (action: string, fields: string, label: string): string =>
    `<form class="act-form worker-action" data-endpoint="${e(endpoint)}" data-action="${e(action)}"><input type="hidden" name="action" value="${e(action)}">${fields}<button type="submit"${disabled}>${e(label)}</button><p class="result" aria-live="polite"></p></form>`;
  const html = `<p class="crumbs"><a href="${e(ctx.prefix)}/">Runs</a> / <a href="${e(ctx.prefix)}/workers">workers</a> / ${e(s.workerId)}</p>
<h1>Worker <span class="mono">${e(s.workerId)}</span></h1>
<dl class="meta"><dt>First seen</dt><dd>${s.firstSeenAt === null ? 'never by this store' : time(s.firstSeenAt)}</dd><dt>Approval rate</dt><dd id="approval-rate">${percent(s.approvalRate)}</dd></dl>
<h2>Runs</h2><table class="grid"><thead><tr><th>Run</th><th>Units</th><th>Submitted</th><th>Approved</th><th>Rejected</th><th>Time spent</th><th>Bonuses</th></tr></thead><tbody>${runs || '<tr><td colspan="7">No unit in this store.</td></tr>'}</tbody></table>
<h2>Units</h2><ul class="unit-list">${unitList || '<li>none</li>'}</ul>
<h2>Blocks</h2>${blocks}
<h2>Qualifications</h2>${quals}
<h2>Actions <small>each is confirmed first, and shown done only once MTurk confirmed it</small></h2>
${unavailable === null ? '' : `<p class="refusal" id="worker-unavailable">${e(unavailable)}</p>`}
<div class="worker-actions">
${form('block', `<input name="reason" maxlength="1024" placeholder="Reason (required)" aria-label="Block reason"${disabled}>`, 'Block…')}
${form('unblock', '', 'Unblock…')}
${form('qualify', `<input name="qualification" maxlength="200" placeholder="Qualification name" aria-label="Qualification to grant"${disabled}><input name="value" inputmode="numeric" value="1" aria-label="Value"${disabled}>`, 'Grant qualification…')}
${form('revoke', `<input name="qualification" maxlength="200" placeholder="Qualification name" aria-label="Qualification to revoke"${disabled}>`, 'Revoke qualification…')}
</div>`;
  return layout(ctx, `Worker ${s.workerId}`, html, null);
}

/** A submission through the run's review template, as the sandboxed frame loads it. */
export function templateView(rendered: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Submission</title></head><body>${rendered}</body></html>`;
}

/** A refusal or error page (401, 403, 404, 500) with what to do. */
export function messagePage(ctx: PageContext, title: string, message: string): string {
  return layout(ctx, title, `<h1>${e(title)}</h1><p class="refusal">${e(message)}</p>`, null);
}
