// `hitstate demo` end to end in a child process, then its printed summary checked against the
// store it left behind, read back with the store's own API and with `status --json` and `export`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AssignmentState } from '../../machines/index.js';
import { moneyOfRun } from '../../src/runtime/money/spent.js';
import { openStore } from '../../src/store/index.js';
import { childEnv, runCli, tempDir } from './helpers.js';

const Demo = suite<{ dir: ReturnType<typeof tempDir> }>('cli/demo');

Demo.before.each((ctx) => {
  ctx.dir = tempDir();
});

Demo.after.each((ctx) => {
  ctx.dir.remove();
});

/** The section of the summary after `heading`, up to the next line indented by two spaces only. */
function section(text: string, heading: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.includes(heading));
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (!/^ {4}\S/.test(line)) break;
    out.push(line.trim());
  }
  return out;
}

Demo('when the demo runs then it exits 0 and its summary matches the store, the export and status', async ({ dir }) => {
  const result = await runCli(['demo', '--units', '12', '--seed', '5'], {
    cwd: dir.path,
    env: childEnv({ HITSTATE_STORE_DIR: 'demo-store' }),
  });
  assert.is(result.code, 0, `${result.stdout}\n${result.stderr}`);
  assert.is(result.stderr, '');
  const out = result.stdout;
  const endpoint = /MTurk +(http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
  const runId = /Summary of run (demo-[\d-]+)/.exec(out)![1]!;
  assert.match(
    out,
    /tried to accept a HIT; MTurk refused: the HIT requires Worker_PercentAssignmentsApproved GreaterThanOrEqualTo 95/,
  );
  assert.match(out, /returned the HIT of u\d+/);
  assert.match(out, /rejected u\d+/);
  assert.match(out, /soft-rejected u\d+/);
  assert.match(out, /paid a \$0\.25 bonus/);
  assert.match(out, /done {6}\[#{20}\] 12\/12/);

  const printedUnits = Object.fromEntries(
    section(out, 'Units by final state').map((l) => [l.split(/\s+/)[0]!.replace('-', '_'), Number(l.split(/\s+/)[1])]),
  );
  const printedTotal = /^ {4}total +\$([\d.,]+)$/m.exec(out)![1]!.replace(',', '');
  const exportPath = /Export +(\S+)/.exec(out)![1]!;
  const storeDirPrinted = /Store +(\S+)/.exec(out)![1]!;
  assert.ok(storeDirPrinted.startsWith(join(dir.path, 'demo-store')), 'HITSTATE_STORE_DIR was honoured');

  const store = await openStore({ dir: join(dir.path, 'demo-store'), environment: { kind: 'custom', endpoint } });
  try {
    assert.is(store.dir, storeDirPrinted);
    const run = store.runs.require(runId);
    assert.is(run.status, 'done');
    const counts: Partial<Record<AssignmentState, number>> = { ...store.units.statusCounts(runId) };
    assert.equal(printedUnits, counts);
    assert.equal(counts, { accepted: 8, soft_rejected: 1, rejected: 1, expired: 2 });
    const money = moneyOfRun(store, runId);
    assert.is((money.totalCents / 100).toFixed(2), printedTotal);
    assert.is(money.approved.count, 8);
    assert.is(money.bonuses.cents, 25);
    const exported = JSON.parse(readFileSync(exportPath, 'utf8')) as {
      format: string;
      run: { id: string };
      agents: { submission: unknown }[];
      units: unknown[];
    };
    assert.is(exported.format, 'hitstate-run-export');
    assert.is(exported.run.id, runId);
    assert.is(exported.units.length, 12);
    assert.is(exported.agents.filter((a) => a.submission !== null).length, 10);
    const submissions = store.agents
      .ofRun(runId)
      .filter((a) => a.submittedAt !== null)
      .map((a) => store.agents.submission(a.id));
    assert.ok(
      submissions.every((s) => ['positive', 'neutral', 'negative'].includes((s as { sentiment: string }).sentiment)),
    );
  } finally {
    await store.close();
  }

  const status = await runCli(['status', runId, '--json', '--store', 'demo-store'], { cwd: dir.path, env: childEnv() });
  assert.is(status.code, 0, status.stderr);
  const parsed = JSON.parse(status.stdout) as {
    runId: string;
    status: string;
    counts: Record<string, number>;
    money: { totalCents: number };
  };
  assert.is(parsed.runId, runId);
  assert.is(parsed.status, 'done');
  assert.is(parsed.counts.accepted, 8);
  assert.is((parsed.money.totalCents / 100).toFixed(2), printedTotal);

  const all = await runCli(['status', '--json', '--store', 'demo-store'], { cwd: dir.path, env: childEnv() });
  const environments = JSON.parse(all.stdout) as { environment: string; runs: { runId: string }[] }[];
  assert.equal(
    environments.map((e) => [e.environment, e.runs.map((r) => r.runId)]),
    [[endpoint, [runId]]],
  );

  const exported = await runCli(['export', runId, '--json', '--store', 'demo-store'], {
    cwd: dir.path,
    env: childEnv(),
  });
  assert.is(exported.code, 0, exported.stderr);
  assert.is((JSON.parse(exported.stdout) as { run: { id: string } }).run.id, runId);
  const toFile = await runCli(['export', runId, '--out', 'run.json', '--store', 'demo-store'], {
    cwd: dir.path,
    env: childEnv(),
  });
  assert.is(toFile.code, 0, toFile.stderr);
  assert.ok(existsSync(join(dir.path, 'run.json')));
  assert.match(toFile.stdout, /12 units, \d+ agents \(10 with a submission\)/);
});

Demo('when the demo is given a bad option then it exits 2 before starting anything', async ({ dir }) => {
  const result = await runCli(['demo', '--units', '0'], { cwd: dir.path, env: childEnv() });
  assert.is(result.code, 2);
  assert.match(result.stderr, /--units must be a whole number from 1 to 500/);
  assert.not.ok(existsSync(join(dir.path, '.hitstate')));
});

Demo.run();
