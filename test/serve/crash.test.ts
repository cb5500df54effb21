// `kill -9` of a real `hitstate serve` process (the CLI, in a child process) while calls are in
// flight loses nothing that was acknowledged: every HIT whose CreateHIT answered exists after the
// restart, with its money held, and the ledger balances. Also: a second server on the same
// database is refused with a clear error, and the first server's death releases the lock.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateHITCommand, GetAccountBalanceCommand, GetHITCommand, MTurkClient } from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { addRequester, openDatabase } from '../../src/simulator/serve/index.js';
import { checkLedger } from '../../src/simulator/serve/ledger.js';
import type { IssuedKeys } from '../../src/simulator/serve/requesters.js';
import { hitInput } from './helpers.js';

const BIN = fileURLToPath(new URL('../../src/cli/hitstate.mjs', import.meta.url));

interface Running {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `hitstate serve` on port 0 and waits for the line naming its address. */
function startChild(dbFile: string): Promise<Running> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--db', dbFile, '--public-url', 'https://crowd.test', '--port', '0'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(err);
      if (m) resolve({ child, url: m[1]!, stderr: () => err, exited });
    });
    void exited.then((code) => reject(new Error(`hitstate serve exited (${code}) before listening:\n${err}`)));
  });
}

const Crash = suite<{ dir: string; dbFile: string; keys: IssuedKeys }>('serve kill -9');

Crash.before((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'hitstate-serve-crash-'));
  ctx.dbFile = join(ctx.dir, 'crowd.db');
  const db = openDatabase(ctx.dbFile);
  ctx.keys = addRequester(db, 'lab', 100_000);
  db.close();
});
Crash.after((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

const clientOf = (url: string, k: IssuedKeys) =>
  new MTurkClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey },
    maxAttempts: 1,
  });

Crash('a second serve on the same database is refused, naming the first', async ({ dbFile }) => {
  const first = await startChild(dbFile);
  try {
    const second = spawn(
      process.execPath,
      [BIN, 'serve', '--db', dbFile, '--public-url', 'https://crowd.test', '--port', '0'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let err = '';
    second.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => second.on('exit', resolve));
    assert.is(code, 1, err);
    assert.match(err, /Another hitstate serve is using .*crowd\.db \(pid \d+/);
    assert.match(err, /One server per database/);
  } finally {
    first.child.kill('SIGKILL');
    await first.exited;
  }
});

Crash('kill -9 with calls in flight: every acknowledged call is there after the restart', async ({ dbFile, keys }) => {
  const acked: string[] = [];
  for (let round = 0; round < 3; round++) {
    const s = await startChild(dbFile);
    const client = clientOf(s.url, keys);
    let killed = false;
    const calls = Array.from({ length: 40 }, (_, i) =>
      client
        .send(new CreateHITCommand(hitInput({ Reward: '0.25', Title: `round ${round} call ${i}` })))
        .then((out) => {
          if (killed) return;
          acked.push(out.HIT!.HITId!);
          // Kill as soon as some calls were acknowledged, while the others are still in flight.
          if (acked.length >= (round + 1) * 12 && !killed) {
            killed = true;
            s.child.kill('SIGKILL');
          }
        })
        .catch(() => undefined),
    );
    await Promise.all(calls);
    if (!killed) {
      killed = true;
      s.child.kill('SIGKILL');
    }
    await s.exited;
  }
  const s = await startChild(dbFile);
  try {
    const client = clientOf(s.url, keys);
    for (const hitId of acked) {
      const out = await client.send(new GetHITCommand({ HITId: hitId }));
      assert.is(out.HIT?.HITId, hitId);
    }
    const balance = await client.send(new GetAccountBalanceCommand({}));
    // Each HIT holds $0.25 + $0.05 fee; HITs created but not acknowledged may exist too.
    assert.ok(
      Number(balance.OnHoldBalance) >= acked.length * 0.3 - 1e-9,
      `${balance.OnHoldBalance} for ${acked.length}`,
    );
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
  }
  const db = openDatabase(dbFile);
  const report = checkLedger(db);
  db.close();
  assert.equal(report.problems, []);
  assert.ok(acked.length >= 36, `acknowledged ${acked.length}`);
});

Crash.run();
