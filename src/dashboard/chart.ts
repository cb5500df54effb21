/**
 * The unit state chart as SVG, drawn from the unit machine's definition (the same
 * `machineStates`/`machineTransitions` that `hitstate viz` draws as Mermaid): one node per unit
 * status (a top-level state, its sub-states listed small inside), one arrow per pair of statuses
 * some transition links, a count on each node and, on each arrow, the units that took it in the
 * last hour; the page updates both live.
 *
 * The layout is layered by hand (a state's column is its distance from the initial state), which
 * for eight states reads better than a general layout library and costs no dependency.
 *
 * @module
 */
import { MACHINES, machineStates, machineTransitions } from '../../machines/index.js';
import { escapeHtml } from './html-escape.js';

/** A node of the chart: a unit status and its sub-states. */
export interface ChartNode {
  readonly status: string;
  readonly description: string | null;
  readonly substates: readonly string[];
  readonly column: number;
  readonly row: number;
  readonly final: boolean;
}

/** The chart's nodes and edges (status to status), from the unit machine. */
export interface ChartModel {
  readonly nodes: readonly ChartNode[];
  readonly edges: readonly { readonly from: string; readonly to: string; readonly events: readonly string[] }[];
}

let model: ChartModel | undefined;

/** The unit machine as status-to-status nodes and edges (computed once). */
export function unitChartModel(): ChartModel {
  if (model !== undefined) return model;
  const machine = MACHINES.unit;
  const prefix = `${machine.id}.`;
  const top = (id: string): string => id.slice(prefix.length).split('.')[0]!;
  const states = machineStates(machine);
  const tops = states.filter((s) => s.parent === null);
  const edgeMap = new Map<string, Set<string>>();
  for (const t of machineTransitions(machine)) {
    if (!t.changesState) continue;
    const from = top(t.source);
    const to = top(t.target);
    if (from === to) continue;
    const key = `${from}>${to}`;
    if (!edgeMap.has(key)) edgeMap.set(key, new Set());
    edgeMap.get(key)!.add(t.event);
  }
  const edges = [...edgeMap].map(([key, events]) => {
    const [from, to] = key.split('>') as [string, string];
    return { from, to, events: [...events] };
  });
  // Column = breadth-first distance from the initial state; rows in definition order.
  const initial = (machine.config.initial as string | undefined) ?? tops[0]!.key;
  const column = new Map<string, number>([[initial, 0]]);
  const queue = [initial];
  while (queue.length > 0) {
    const at = queue.shift()!;
    for (const e of edges)
      if (e.from === at && !column.has(e.to)) {
        column.set(e.to, column.get(at)! + 1);
        queue.push(e.to);
      }
  }
  const rows = new Map<number, number>();
  const nodes = tops.map((s) => {
    const col = column.get(s.key) ?? 0;
    const row = rows.get(col) ?? 0;
    rows.set(col, row + 1);
    return {
      status: s.key,
      description: s.description,
      substates: states.filter((c) => c.parent === s.id).map((c) => c.key),
      column: col,
      row,
      final: s.type === 'final' || !edges.some((e) => e.from === s.key),
    };
  });
  model = { nodes, edges };
  return model;
}

const W = 140;
const H = 64;
const GAP_X = 48;
const GAP_Y = 34;

/**
 * The chart as an inline SVG element. Each node is a link that filters the unit table to its
 * status (`href` from `linkOf`); its count is a `<text data-count="STATUS">` the page updates.
 */
export function unitChartSvg(
  counts: Readonly<Record<string, number>>,
  linkOf: (status: string) => string,
  selected?: string,
  flows: Readonly<Record<string, number>> = {},
): string {
  const { nodes, edges } = unitChartModel();
  const pos = new Map(nodes.map((n) => [n.status, { x: 10 + n.column * (W + GAP_X), y: 10 + n.row * (H + GAP_Y) }]));
  const width = Math.max(...nodes.map((n) => pos.get(n.status)!.x)) + W + 10;
  const height = Math.max(...nodes.map((n) => pos.get(n.status)!.y)) + H + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Unit state chart with live counts">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#667"/></marker></defs>',
  ];
  for (const e of edges) {
    const a = pos.get(e.from)!;
    const b = pos.get(e.to)!;
    const back = b.x < a.x || (b.x === a.x && b.y < a.y);
    const x1 = a.x + (b.x > a.x ? W : b.x < a.x ? 0 : W / 2);
    const y1 = a.y + (b.x === a.x ? (b.y > a.y ? H : 0) : H / 2);
    const x2 = b.x + (b.x > a.x ? 0 : b.x < a.x ? W : W / 2);
    const y2 = b.y + (b.x === a.x ? (b.y > a.y ? 0 : H) : H / 2);
    const bend = back ? 40 : 0;
    const mx = (x1 + x2) / 2;
    const my = (y1 + y2) / 2 + bend;
    const key = `${e.from}>${e.to}`;
    const flow = flows[key] ?? 0;
    // The curve's midpoint carries the number of units that took this edge in the last hour.
    const lx = 0.25 * x1 + 0.5 * mx + 0.25 * x2;
    const ly = 0.25 * y1 + 0.5 * my + 0.25 * y2;
    parts.push(
      `<path class="edge${back ? ' back' : ''}" d="M${x1},${y1} Q${mx},${my} ${x2},${y2}" fill="none" stroke="#889" stroke-width="1.4" marker-end="url(#arrow)"><title>${escapeHtml(`${e.from} → ${e.to}: ${e.events.join(', ')}`)}</title></path>`,
      `<text x="${lx.toFixed(1)}" y="${(ly - 3).toFixed(1)}" text-anchor="middle" class="flow" data-flow="${escapeHtml(key)}">${flow > 0 ? flow : ''}</text>`,
    );
  }
  for (const n of nodes) {
    const { x, y } = pos.get(n.status)!;
    const count = counts[n.status] ?? 0;
    const cls = `node${n.final ? ' final' : ''}${selected === n.status ? ' selected' : ''}`;
    parts.push(
      `<a href="${escapeHtml(linkOf(n.status))}" class="state-link" data-state="${escapeHtml(n.status)}">`,
      `<g class="${cls}"><title>${escapeHtml(`${n.status}: ${n.description ?? ''}`)}</title>`,
      `<rect x="${x}" y="${y}" width="${W}" height="${H}" rx="10" ry="10"/>`,
      `<text x="${x + 10}" y="${y + 22}" class="state-name">${escapeHtml(n.status)}</text>`,
      `<text x="${x + W - 10}" y="${y + 24}" text-anchor="end" class="state-count" data-count="${escapeHtml(n.status)}">${count}</text>`,
      `<text x="${x + 10}" y="${y + 44}" class="substates">${escapeHtml(n.substates.join(' · ').slice(0, 34))}</text>`,
      '</g></a>',
    );
  }
  parts.push('</svg>');
  return parts.join('');
}
