// The campaign's counts: runs, kills (by phase), faults injected, bad inputs tried, and every
// broken promise, each named with its campaign, seed and invariant.
import type { MachineInfo } from '../support/machine.js';
import type { BadInputReport } from './bad-input.js';
import { INVARIANTS, type Invariant } from './invariants.js';
import { PHASES, type KillRunReport, type Phase } from './kill.js';
import type { ScenarioReport } from './scenario.js';

/** The kill and fault campaigns of one store backend. */
export interface BackendRuns {
  readonly kill: { readonly units: number; readonly runs: readonly KillRunReport[] };
  readonly faults: {
    readonly units: number;
    readonly faultRate: number;
    readonly throttle: { readonly ratePerSecond: number; readonly burst: number };
    readonly runs: readonly ScenarioReport[];
  };
}

/** The campaigns on PostgreSQL (a subset of the seeds), or why they did not run. */
export type PostgresChaos =
  | (BackendRuns & { readonly wallSeconds: number })
  | { readonly skipped: string; readonly wallSeconds: number };

/** `kill`, `faults` and `badInput` ran on the lowdb backend; `postgres` holds the PostgreSQL runs. */
export interface ChaosResults extends BackendRuns {
  readonly machine: MachineInfo;
  readonly wallSeconds: number;
  readonly loadAverage: Readonly<Record<string, number>>;
  readonly badInput: BadInputReport;
  /** Absent in results written before PostgreSQL was part of the campaign. */
  readonly postgres?: PostgresChaos;
}

/** One broken promise, precisely. */
export interface Finding {
  readonly campaign: 'kill' | 'faults' | 'bad input';
  readonly seed: number;
  /** An invariant, or `unfinished` for a run that could not reach its end. */
  readonly invariant: Invariant | 'unfinished' | 'review failed';
  readonly detail: string;
  /** Kill runs: where the kills landed. */
  readonly context?: string;
}

export interface ChaosSummary {
  readonly runs: number;
  readonly kills: number;
  readonly killsByPhase: Readonly<Record<Phase | 'other', number>>;
  readonly restarts: number;
  readonly faultsInjected: number;
  readonly serviceFaults: number;
  readonly droppedConnections: number;
  readonly throttled: number;
  readonly badInputs: number;
  readonly unexpectedAnswers: number;
  /** Broken invariants (runs that could not finish are counted apart). */
  readonly violations: number;
  readonly unfinishedRuns: number;
  readonly byInvariant: Readonly<Record<string, number>>;
  readonly findings: readonly Finding[];
}

/** Maps a problem line of the crash harness's final checks to the invariant it breaks. */
export function invariantOfProblem(problem: string): Finding['invariant'] {
  if (/did not finish|gave up|not reached/.test(problem)) return 'unfinished';
  if (/¢ spent/.test(problem)) return 'money-equal';
  if (/bonus/.test(problem)) return 'bonus-once';
  if (/has \d+ HITs|units have HITs/.test(problem)) return 'hit-once';
  if (/is still (Assignable|Unassignable)/.test(problem)) return 'nothing-live';
  if (/intent .* is still/.test(problem)) return 'money-settled';
  if (/^the run ended/.test(problem)) return 'run-done';
  if (/^unit .* ended/.test(problem)) return 'units-terminal';
  if (/not approved/.test(problem)) return 'review failed';
  return 'submission-once';
}

function fromScenario(campaign: Finding['campaign'], run: ScenarioReport): Finding[] {
  return [
    ...run.violations.map((v) => ({ campaign, seed: run.seed, invariant: v.invariant, detail: v.detail })),
    ...run.problems.map((p) => ({
      campaign,
      seed: run.seed,
      invariant: /^(approve|bonus) /.test(p) ? ('review failed' as const) : ('unfinished' as const),
      detail: p.split('\n')[0]!,
    })),
  ];
}

/** The summary of one backend's kill and fault runs (no bad input). */
export function summarizeBackend(r: BackendRuns): ChaosSummary {
  return summarize({
    ...r,
    machine: undefined as never,
    wallSeconds: 0,
    loadAverage: {},
    badInput: { outcomes: [], runs: [] },
  });
}

export function summarize(r: ChaosResults): ChaosSummary {
  const killsByPhase = Object.fromEntries([...PHASES, 'other'].map((p) => [p, 0])) as Record<Phase | 'other', number>;
  for (const run of r.kill.runs) for (const k of run.kills) killsByPhase[k.phase]++;
  const findings: Finding[] = [];
  for (const run of r.kill.runs) {
    const context = run.kills
      .map((k) => `${k.operation} (${k.phase}, ${k.mode === 'drop' ? 'before' : 'after'} it took effect)`)
      .join(', ');
    for (const p of run.problems)
      findings.push({
        campaign: 'kill',
        seed: run.seed,
        invariant: invariantOfProblem(p),
        detail: p,
        context: `${run.scenario === undefined ? '' : `scenario ${run.scenario}: `}${context || 'no kill landed'}`,
      });
  }
  for (const run of r.faults.runs) findings.push(...fromScenario('faults', run));
  for (const run of r.badInput.runs) findings.push(...fromScenario('bad input', run));
  const byInvariant = Object.fromEntries(
    [...INVARIANTS, 'review failed', 'unfinished'].map((i) => [i, findings.filter((f) => f.invariant === i).length]),
  );
  const serviceFaults = r.faults.runs.reduce((a, x) => a + x.faults, 0);
  const droppedConnections = r.faults.runs.reduce((a, x) => a + x.dropped, 0);
  return {
    runs: r.kill.runs.length + r.faults.runs.length + r.badInput.runs.length,
    kills: r.kill.runs.reduce((a, x) => a + x.kills.length, 0),
    killsByPhase,
    restarts: r.kill.runs.reduce((a, x) => a + x.restarts, 0),
    faultsInjected: serviceFaults + droppedConnections,
    serviceFaults,
    droppedConnections,
    throttled: r.faults.runs.reduce((a, x) => a + x.throttled, 0),
    badInputs: r.badInput.outcomes.length,
    unexpectedAnswers: r.badInput.outcomes.filter((o) => !o.ok).length,
    violations: findings.filter((f) => f.invariant !== 'unfinished').length,
    unfinishedRuns: new Set(findings.filter((f) => f.invariant === 'unfinished').map((f) => `${f.campaign}:${f.seed}`))
      .size,
    byInvariant,
    findings,
  };
}
