// The campaign's section of docs/benchmarks.md (between `<!-- chaos:start -->` and `<!-- chaos:end -->`).
import { describeMachine } from '../support/machine.js';
import { formatCount } from '../support/numbers.js';
import { PHASES } from './kill.js';
import { type ChaosResults, type ChaosSummary, type Finding, summarizeBackend } from './summary.js';

export const CHAOS_SECTION = 'chaos';

const verdict = (pass: boolean): string => (pass ? 'PASS' : '**MISS**');
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The rows of a findings table. */
function findingRows(findings: readonly Finding[]): string[] {
  return [
    '| Campaign | Seed | Invariant | What broke | Kills |',
    '|---|---|---|---|---|',
    ...findings.map(
      (x) => `| ${x.campaign} | ${x.seed} | ${x.invariant} | ${cell(x.detail)} | ${cell(x.context ?? '')} |`,
    ),
  ];
}

/** The PostgreSQL half of the campaign: the same runs on a subset of the seeds, the store in a real server. */
function postgresLines(r: ChaosResults): string[] {
  const lines = ['### PostgreSQL', ''];
  const pg = r.postgres;
  if (pg === undefined) return [...lines, 'Not run (these results predate the PostgreSQL campaign).'];
  if ('skipped' in pg)
    return [...lines, `**Skipped**: PostgreSQL could not be had on this machine (${cell(pg.skipped)}).`];
  const p = summarizeBackend(pg);
  const scenarioRuns = pg.kill.runs.filter((x) => x.scenario !== undefined);
  lines.push(
    `The kill and fault campaigns again with the store in PostgreSQL (\`--store postgres://…\`): a real server started by \`test/support/postgres.ts\` (\`initdb\`, \`pg_ctl\` on a loopback port), one schema per run so each starts empty. Seeds: kill ${pg.kill.runs.length - scenarioRuns.length} (1-${pg.kill.runs.length - scenarioRuns.length}), the named scenarios ${scenarioRuns.length} (one seed each), faults ${pg.faults.runs.length} (1-${pg.faults.runs.length}); the invariants are checked the same way. A kill also ends the process's database session, and with it the environment's writer lock (docs/postgres.md); the restarted process takes it. ${Math.round(pg.wallSeconds)} s, server start included.`,
    '',
    '| Figure | Count | Target | |',
    '|---|---|---|---|',
    `| runs | ${p.runs} (kill ${pg.kill.runs.length}, faults ${pg.faults.runs.length}) | | |`,
    `| kills (SIGKILL, then \`resume\`) | ${p.kills} in ${pg.kill.runs.length} runs, ${p.restarts} restarts (${PHASES.map((ph) => `${ph} ${p.killsByPhase[ph]}`).join(', ')}, other ${p.killsByPhase.other}) | | |`,
    `| faults injected | ${formatCount(p.faultsInjected)} (${formatCount(p.serviceFaults)} ServiceFaults, ${formatCount(p.droppedConnections)} dropped connections), ${formatCount(p.throttled)} calls throttled | | |`,
    `| invariant violations | ${p.violations} | 0 | ${verdict(p.violations === 0)} |`,
    `| runs that could not finish | ${p.unfinishedRuns} | 0 | ${verdict(p.unfinishedRuns === 0)} |`,
    '',
  );
  if (p.findings.length === 0) lines.push('No invariant was broken and every run finished on PostgreSQL.');
  else
    lines.push(
      'Every broken promise on PostgreSQL (`npm run chaos -- --backend postgres --only kill --seeds N` runs one seed again):',
      '',
      ...findingRows(p.findings),
    );
  return lines;
}

/** The PostgreSQL verdict in the campaign's main table. */
function postgresRow(r: ChaosResults): string[] {
  const pg = r.postgres;
  if (pg === undefined) return [];
  if ('skipped' in pg) return ['| on PostgreSQL | skipped: PostgreSQL could not be had | 0 | **MISS** |'];
  const p = summarizeBackend(pg);
  const ok = p.violations === 0 && p.unfinishedRuns === 0;
  return [
    `| on PostgreSQL: invariant violations, runs that could not finish | ${p.violations}, ${p.unfinishedRuns} (of ${p.runs} runs, ${p.kills} kills) | 0 | ${verdict(ok)} |`,
  ];
}

export function renderChaosSection(r: ChaosResults, s: ChaosSummary): string {
  const f = r.faults;
  const lines = [
    '## Reliability campaign (`npm run chaos`)',
    '',
    `Machine: ${describeMachine(r.machine)}. Whole campaign ${Math.round(r.wallSeconds)} s; 1-minute load average ${r.loadAverage.start} at the start, ${r.loadAverage.end} at the end. Figures are in \`bench/results-chaos.json\`; this section is rewritten by \`npm run chaos\`. The tables up to *PostgreSQL* are of the default store (lowdb files); *PostgreSQL* repeats the kill and fault campaigns with the store in a PostgreSQL server.`,
    '',
    "After every run the invariants are checked against the server's own state (the simulator's `inspect()`, which shows what MTurk's API hides) and the store the run left: every submitted assignment's data is in the store exactly once and equal to what MTurk got; no bonus paid twice; no HIT created twice for a unit; no HIT left live once the run is done; every unit in a terminal state; every money intent settled; the run `done`.",
    '',
    '| Figure | Count | Target | |',
    '|---|---|---|---|',
    `| runs | ${s.runs} (kill ${r.kill.runs.length}, faults ${f.runs.length}, bad input ${r.badInput.runs.length}) | | |`,
    `| kills (SIGKILL, then \`resume\`) | ${s.kills} in ${r.kill.runs.length} runs, ${s.restarts} restarts | | |`,
    `| faults injected | ${formatCount(s.faultsInjected)} (${formatCount(s.serviceFaults)} ServiceFaults with nothing done, ${formatCount(s.droppedConnections)} calls done and their connection dropped), ${formatCount(s.throttled)} calls throttled | | |`,
    `| bad inputs tried | ${s.badInputs} | | |`,
    `| bad inputs answered otherwise than documented | ${s.unexpectedAnswers} | 0 | ${verdict(s.unexpectedAnswers === 0)} |`,
    `| invariant violations | ${s.violations} | 0 | ${verdict(s.violations === 0)} |`,
    `| runs that could not finish | ${s.unfinishedRuns} | 0 | ${verdict(s.unfinishedRuns === 0)} |`,
    ...postgresRow(r),
    '',
    '### Kill',
    '',
    `${r.kill.runs.length} seeded runs of ${r.kill.units} units through the runtime engineer's crash harness (\`test/support/crash-harness.ts\`): the task run lives in a child process using the public API (\`createRuntime\`, \`launchRun\`, \`resume\`, a task server); the parent hosts the simulator, plays the workers (normal, return then another worker, submit missed by the task server, submit without ever opening the task page), approves, pays a bonus each, expires the run and waits for every HIT to be disposed. The child is killed with SIGKILL at planned MTurk calls (\`bench/chaos/kill.ts\`: one to three per run, aimed at the five phases in rotation, before or after the call takes effect; a seeded random call in every third run; every tenth run stays down 25 hours, past MTurk's memory of idempotency tokens) and restarted with \`resume\` each time. Besides, the named scenarios of issue 13 run three seeds each (\`KILL_SCENARIOS\`): a bulk \`review --all --approve\` killed right after its k-th ApproveAssignment and a bonus killed right after SendBonus reached MTurk, each restarted as a fresh process that loads the run through the review it repeats (as a re-run \`hitstate review\`), and a worker who stores data then returns the HIT, followed by an MTurk-only submission on the re-accepted HIT. Every run also checks that the money the store shows (\`hitstate status\`) equals what left the simulator's account, to the cent. A kill's phase is the phase its MTurk call belongs to.`,
    '',
    '| Phase | Operations | Kills |',
    '|---|---|---|',
    ...PHASES.map(
      (p) =>
        `| ${p} | ${[...new Set(r.kill.runs.flatMap((x) => x.kills.filter((k) => k.phase === p).map((k) => k.operation)))].join(', ') || '-'} | ${s.killsByPhase[p]} |`,
    ),
    `| other | | ${s.killsByPhase.other} |`,
    '',
    '### Faults',
    '',
    `${f.runs.length} seeded runs of ${f.units} units in the runtime's test world (\`test/support/sim-world.ts\`) on a server that injects faults into ${Math.round(f.faultRate * 100)}% of requester calls (half answered ServiceFault without doing anything, half carried out and their connection dropped before the answer) and throttles at ${f.throttle.ratePerSecond} request/s with a burst of ${f.throttle.burst}; the workers follow the same seeded plans, then approval, a bonus each, expiry and disposal (\`bench/chaos/scenario.ts\`).`,
    '',
    '### Bad input',
    '',
    `Live runs fed malformed, forged and oversized input (\`bench/chaos/bad-input-server.ts\`, \`bench/chaos/bad-input-cli.ts\`) while workers hold units; each run is then finished by its workers and checked. Cases whose verdict is how the run ends (a forged answer on MTurk, a forged arrival) have a run of their own.`,
    '',
    '| Target | Input | Expected | Got | |',
    '|---|---|---|---|---|',
    ...r.badInput.outcomes.map(
      (o) =>
        `| ${o.target} | ${cell(o.name)} | ${cell(o.expected)} | ${cell(o.got)} | ${o.ok ? 'ok' : '**unexpected**'} |`,
    ),
    '',
    ...postgresLines(r),
    '',
    '### Findings (lowdb)',
    '',
  ];
  if (s.findings.length === 0) lines.push('No invariant was broken and every run finished.');
  else {
    lines.push(
      'Every broken promise, with the seed that reproduces it (`npm run chaos -- --only kill --seeds N` or `-- --only faults --seeds N` runs one seed again; `-- --only bad-input` the bad-input runs):',
      '',
      ...findingRows(s.findings),
    );
  }
  return lines.join('\n');
}
