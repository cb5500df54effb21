// Crash safety of the PostgreSQL backend with real processes and a real server: a child committing
// in a loop is SIGKILLed, and the server itself is stopped the hard way (`pg_ctl -m immediate`, as a
// power cut); after either, every acknowledged commit is there and no partial one. Two child
// processes race for one run; exactly one wins and the other is told who.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openPostgresBackend } from '../../src/store/postgres/index.js';
import { nodeArgs } from '../support/child-command.js';
import { withPostgresServer } from '../support/postgres.js';

const CHILD = fileURLToPath(new URL('../fixtures/store/postgres-child.ts', import.meta.url));
const SANDBOX = { kind: 'sandbox' } as const;

/** A child process whose stdout lines the test reads as they come. */
function startChild(args: string[]): {
  child: ChildProcess;
  lines: string[];
  waitFor(p: (l: string) => boolean): Promise<string>;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, nodeArgs(CHILD, args), { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { p: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  let buffer = '';
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  child.stdout?.on('data', (d) => {
    buffer += d;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of [...waiters]) if (w.p(line)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    lines,
    exited,
    waitFor: (p) =>
      new Promise<string>((resolve, reject) => {
        const found = lines.find(p);
        if (found !== undefined) return resolve(found);
        waiters.push({ p, resolve });
        exited.then((code) => reject(new Error(`child exited (${code}) first:\n${lines.join('\n')}\n${stderr}`)));
      }),
  };
}

const acked = (lines: string[]) =>
  Math.max(0, ...lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4))));

await withPostgresServer('the PostgreSQL crash tests', (server) => {
  const Crash = suite('postgres crash');

  /** Every acknowledged commit is there, and the last one is whole: all 10 records and its audit line. */
  async function checkAfterCrash(schema: string, lastAck: number): Promise<number> {
    const backend = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema });
    try {
      const units = (await backend.load()).runs.get('r1')?.get('units');
      assert.ok(units, 'run r1 has its records');
      const versions = new Set([...(units?.values() ?? [])].map((json) => (JSON.parse(json) as { i: number }).i));
      assert.is(units?.size, 10, 'all 10 records');
      assert.is(versions.size, 1, `one commit's records, not a mix of two: ${[...versions]}`);
      const last = [...versions][0] ?? 0;
      assert.ok(last >= lastAck, `commit ${lastAck} was acknowledged, the store has up to ${last}`);
      assert.ok(last <= lastAck + 1, 'at most the one commit in flight is there unacknowledged');
      const audit: number[] = [];
      for await (const line of backend.auditLines('r1')) audit.push((JSON.parse(line) as { i: number }).i);
      assert.equal(
        audit,
        Array.from({ length: last }, (_, i) => i + 1),
        'one audit line per commit, in order',
      );
      return last;
    } finally {
      await backend.close();
    }
  }

  Crash(
    'when the committing process is SIGKILLed then every acknowledged commit is there and none is partial',
    async () => {
      for (let round = 0; round < 3; round++) {
        const schema = `crash_${randomBytes(5).toString('hex')}`;
        const writer = startChild(['commit', server.url, schema]);
        // Kill it at a different point each round, while commits are in flight.
        const target = 20 + round * 17;
        await writer.waitFor((l) => l.startsWith('ack ') && Number(l.slice(4)) >= target);
        writer.child.kill('SIGKILL');
        await writer.exited;
        await checkAfterCrash(schema, acked(writer.lines));
      }
    },
  );

  Crash(
    'when the server is stopped dead mid-commit then after its restart no acknowledged commit is lost',
    async () => {
      for (let round = 0; round < 2; round++) {
        const schema = `power_${randomBytes(5).toString('hex')}`;
        const writer = startChild(['commit', server.url, schema]);
        await writer.waitFor((l) => l.startsWith('ack ') && Number(l.slice(4)) >= 25 + round * 10);
        await server.crashAndRestart();
        await writer.waitFor((l) => l.startsWith('failed '));
        await writer.exited;
        assert.match(
          writer.lines.at(-1) ?? '',
          /failed HST_ERR_STORE_PG_UNREACHABLE/,
          'the writer is told the server went away',
        );
        await checkAfterCrash(schema, acked(writer.lines));
      }
    },
  );

  Crash('when two processes race for one run then exactly one takes it and the other is told who', async () => {
    const schema = `race_${randomBytes(5).toString('hex')}`;
    // Migrate first, so the race is about the run and not the schema.
    await (await openPostgresBackend({ url: server.url, environment: SANDBOX, schema })).close();
    for (let round = 0; round < 3; round++) {
      const runId = `run-${round}`;
      const racers = [0, 1].map(() => startChild(['race', server.url, schema, runId]));
      await Promise.all(racers.map((r) => r.waitFor((l) => l === 'ready')));
      for (const r of racers) r.child.stdin?.write('go\n');
      const results = await Promise.all(
        racers.map(
          async (r) =>
            JSON.parse(await r.waitFor((l) => l.startsWith('{'))) as {
              ok: boolean;
              owner?: string;
              heldBy?: { owner: string; pid: number };
            },
        ),
      );
      const winners = results.filter((r) => r.ok);
      assert.is(winners.length, 1, JSON.stringify(results));
      const loser = results.find((r) => !r.ok);
      assert.is(loser?.heldBy?.owner, winners[0]?.owner, 'the loser is told who won');
      const winnerPid = racers[results.indexOf(winners[0] as (typeof results)[number])]?.child.pid;
      assert.is(loser?.heldBy?.pid, winnerPid);
      const reader = await openPostgresBackend({ url: server.url, environment: SANDBOX, schema });
      assert.is((await reader.runHolder(runId))?.owner, winners[0]?.owner, 'the live winner holds the run');
      // The racers end without closing: a crashed owner on this host holds nothing, and its run is taken over.
      for (const r of racers) r.child.stdin?.end();
      await Promise.all(racers.map((r) => r.exited));
      assert.is(await reader.runHolder(runId), null, 'a holder whose process is gone holds nothing');
      const taken = await reader.acquireRun(runId, 60_000);
      assert.is(taken.ok && taken.tookOverFrom?.owner, winners[0]?.owner, 'taken over from the dead winner');
      await reader.close();
    }
  });

  Crash.run();
});
