/**
 * A run's export as an analysis table: one row per submission (the unit's input, worker,
 * assignment and HIT ids, accept and submit times, duration, the answer's fields, review and
 * bonus), plus one row per unit that has no submission, with its final state. Nested JSON becomes
 * dotted columns (`answer.scores.0`). Written as CSV (RFC 4180) or JSON Lines.
 *
 * @module
 */
import type { ExportedAgent, ExportedUnit, JsonValue, RunExport } from '../store/index.js';

/** One cell: JSON scalars only. */
export type Cell = string | number | boolean | null;
export type Row = Readonly<Record<string, Cell>>;

/** The table: its columns in order and its rows. */
export interface ExportTable {
  readonly columns: readonly string[];
  readonly rows: readonly Row[];
}

/**
 * Flattens a JSON value into `prefix.key` columns: objects by key, arrays by index; an empty
 * object or array is kept as its JSON text so the column still says it was there.
 */
export function flatten(value: JsonValue | null | undefined, prefix: string, into: Record<string, Cell>): void {
  if (value === null || value === undefined || typeof value !== 'object') {
    into[prefix] = value ?? null;
    return;
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length === 0) {
    into[prefix] = JSON.stringify(value);
    return;
  }
  for (const [key, v] of entries) flatten(v as JsonValue, `${prefix}.${key}`, into);
}

const iso = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(ms).toISOString());

/** Confirmed bonus cents per agent (an intent names its agent, else its assignment). */
function bonusesOf(data: RunExport): Map<string, { cents: number; reasons: string[] }> {
  const byAgent = new Map<string, { cents: number; reasons: string[] }>();
  const agentOfAssignment = new Map(data.agents.map((a) => [a.assignmentId, a.id]));
  for (const intent of data.outbox) {
    if (intent.kind !== 'bonus' || intent.state !== 'confirmed' || intent.amountUsd === null) continue;
    const agentId =
      intent.agentId ?? (intent.assignmentId === null ? undefined : agentOfAssignment.get(intent.assignmentId));
    if (agentId === undefined) continue;
    const entry = byAgent.get(agentId) ?? { cents: 0, reasons: [] };
    entry.cents += Math.round(Number(intent.amountUsd) * 100);
    const reason = (intent.args as { reason?: unknown }).reason;
    if (typeof reason === 'string') entry.reasons.push(reason);
    byAgent.set(agentId, entry);
  }
  return byAgent;
}

/** The analysis table of a run export. */
export function exportTable(data: RunExport): ExportTable {
  const inputColumns = new Set<string>();
  const answerColumns = new Set<string>();
  const bonuses = bonusesOf(data);
  const units = [...data.units].sort((a, b) => a.index - b.index);
  const agentsOf = new Map<string, ExportedAgent[]>();
  for (const agent of data.agents) {
    if (agent.submission === null) continue;
    const list = agentsOf.get(agent.unitId) ?? [];
    list.push(agent);
    agentsOf.set(agent.unitId, list);
  }
  const rows: Record<string, Cell>[] = [];
  const unitPart = (unit: ExportedUnit): Record<string, Cell> => {
    const input: Record<string, Cell> = {};
    flatten(unit.input, 'input', input);
    if (unit.input === null) delete input.input;
    for (const key of Object.keys(input)) inputColumns.add(key);
    return { run_id: data.run.id, unit_id: unit.id, unit_index: unit.index, unit_status: unit.status, ...input };
  };
  for (const unit of units) {
    const submitted = (agentsOf.get(unit.id) ?? []).sort((a, b) => (a.submittedAt ?? 0) - (b.submittedAt ?? 0));
    if (submitted.length === 0) {
      rows.push(unitPart(unit));
      continue;
    }
    for (const agent of submitted) {
      const answer: Record<string, Cell> = {};
      flatten(agent.submission, 'answer', answer);
      for (const key of Object.keys(answer)) answerColumns.add(key);
      const bonus = bonuses.get(agent.id);
      rows.push({
        ...unitPart(unit),
        worker_id: agent.workerId,
        assignment_id: agent.assignmentId,
        hit_id: agent.hitId,
        agent_id: agent.id,
        agent_status: agent.status,
        accepted_at: iso(agent.createdAt),
        submitted_at: iso(agent.submittedAt),
        duration_sec: agent.submittedAt === null ? null : Math.round((agent.submittedAt - agent.createdAt) / 1000),
        ...answer,
        review: agent.review?.decision ?? null,
        review_feedback: agent.review?.feedback ?? null,
        reviewed_at: iso(agent.review?.reviewedAt),
        bonus_usd: bonus === undefined ? null : (bonus.cents / 100).toFixed(2),
        bonus_reason: bonus === undefined ? null : bonus.reasons.join(' | '),
      });
    }
  }
  const columns = [
    'run_id',
    'unit_id',
    'unit_index',
    'unit_status',
    ...inputColumns,
    'worker_id',
    'assignment_id',
    'hit_id',
    'agent_id',
    'agent_status',
    'accepted_at',
    'submitted_at',
    'duration_sec',
    ...answerColumns,
    'review',
    'review_feedback',
    'reviewed_at',
    'bonus_usd',
    'bonus_reason',
  ];
  return { columns, rows: rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c] ?? null]))) };
}

/**
 * A text cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage
 * return first) gets a leading `'`: worker answers are untrusted, and a cell like
 * `=HYPERLINK(...)` would otherwise execute when the file is opened (CSV injection, OWASP).
 * Numbers are written as numbers and are never changed.
 */
export function guardFormula(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** One CSV field per RFC 4180: quoted when it holds a quote, comma, CR or LF; quotes doubled. */
function csvField(cell: Cell): string {
  if (cell === null) return '';
  const text = typeof cell === 'string' ? guardFormula(cell) : String(cell);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The table as CSV: a header row, CRLF line ends (RFC 4180), UTF-8, with an optional BOM for spreadsheets. */
export function toCsv(table: ExportTable, options: { bom?: boolean } = {}): string {
  const lines = [table.columns.map(csvField), ...table.rows.map((r) => table.columns.map((c) => csvField(r[c]!)))];
  return `${options.bom === true ? '\uFEFF' : ''}${lines.map((l) => l.join(',')).join('\r\n')}\r\n`;
}

/** The table as JSON Lines: one object per row with every column, values as in the store (no formula guard). */
export function toJsonl(table: ExportTable): string {
  return table.rows.map((r) => JSON.stringify(r)).join('\n') + (table.rows.length > 0 ? '\n' : '');
}
