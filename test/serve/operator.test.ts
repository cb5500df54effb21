// The operator's side of `hitstate serve`: the CLI actions on the database (requesters, funding,
// payouts and mark-paid, ledger check, backup), schema migrations from an older database, and the
// server's own routes (/healthz, the control API off or behind a token, unknown routes, oversized
// bodies, SQL- and HTML-looking text stored as sent).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CreateHITCommand, GetHITCommand } from '@aws-sdk/client-mturk';
import Database from 'better-sqlite3';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EXIT } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { MIGRATIONS, migrate, openDatabase, SCHEMA_VERSION, schemaVersion } from '../../src/simulator/serve/db.js';
import { createServe } from '../../src/simulator/serve/index.js';
import { captureIO } from '../cli/helpers.js';
import { hitInput, startServe, type ServeWorld } from './helpers.js';

const Operator = suite<{ w: ServeWorld }>('serve operator');

Operator.before(async (ctx) => {
  ctx.w = await startServe({ lab: 50 }, { controlApiToken: 'operator-token-0123456789' });
});
Operator.after(async ({ w }) => {
  await w.close();
});

const cli = async (w: ServeWorld, ...args: string[]) => {
  const io = captureIO({ cwd: w.dir });
  const code = await main(['serve', ...args, '--db', w.dbFile], io);
  return { code, out: io.stdout(), err: io.stderr() };
};

Operator(
  'requester add prints keys once; list never shows a secret; fund is applied by the running server',
  async ({ w }) => {
    const added = await cli(w, 'requester', 'add', 'second-lab', '--balance', '12.50');
    assert.is(added.code, EXIT.ok, added.err);
    const secret = /Secret access key: (\S+)/.exec(added.out)?.[1];
    assert.ok(secret && secret.length === 40, added.out);
    const dup = await cli(w, 'requester', 'add', 'second-lab');
    assert.is(dup.code, EXIT.failure);
    assert.match(dup.err, /already exists.*\[HST_ERR_SERVE_REQUESTER\]/s);
    const bad = await cli(w, 'requester', 'fund', 'lab', '12.345');
    assert.match(bad.err, /USD: "12.345" is not an amount of dollars/);
    const nobody = await cli(w, 'requester', 'fund', "x'; DROP TABLE requesters; --", '5');
    assert.match(nobody.err, /No requester named/);
    const fund = await cli(w, 'requester', 'fund', 'lab', '20');
    assert.is(fund.code, EXIT.ok, fund.err);
    assert.match(fund.out, /Applied by the running server/);
    const list = await cli(w, 'requester', 'list');
    assert.match(list.out, /lab\s+AKIA[A-Z2-7]{16}\s+balance \$70\.00/);
    assert.match(list.out, /second-lab\s+AKIA[A-Z2-7]{16}\s+balance \$12\.50/);
    assert.not.ok(list.out.includes(secret!));
    assert.is(statSync(w.dbFile).mode & 0o777, 0o600);
  },
);

Operator('payouts: a batch of what workers are owed, CSV, mark-paid idempotent, ledger check', async ({ w }) => {
  const client = w.client('lab');
  const hit = await client.send(
    new CreateHITCommand(hitInput({ Reward: '1.00', MaxAssignments: 2, AutoApprovalDelayInSeconds: 60 })),
  );
  w.work('APAIDWORKER001', hit.HIT!.HITId!);
  await w.clock.advance(61_000);
  w.server.engine.processDue();
  w.server.flush();
  const p = await cli(w, 'payouts', '--since', '2020-01-01', '--csv', 'payouts.csv');
  assert.is(p.code, EXIT.ok, p.err);
  const batch = /mark-paid (B\d{8}-\d{6})/.exec(p.out)?.[1];
  assert.ok(batch, p.out);
  assert.match(p.out, /APAIDWORKER001\s+-\s+-\s+\$\s+1\.00\s+1 item/);
  const csv = readFileSync(join(w.dir, 'payouts.csv'), 'utf8');
  assert.match(csv, new RegExp(`^${batch},APAIDWORKER001,,,1\\.00,1$`, 'm'));
  const again = await cli(w, 'payouts');
  assert.not.match(again.out, /mark-paid/, 'no new credits: no new batch');
  const paid = await cli(w, 'payouts', 'mark-paid', batch!);
  assert.match(paid.out, /Marked paid/);
  const twice = await cli(w, 'payouts', 'mark-paid', batch!);
  assert.match(twice.out, /already marked paid/);
  const unknown = await cli(w, 'payouts', 'mark-paid', 'B00000000-000000');
  assert.match(unknown.err, /\[HST_ERR_SERVE_PAYOUT\]/);
  const since = await cli(w, 'payouts', '--since', 'yesterday');
  assert.match(since.err, /--since: "yesterday" is not a date/);
  const check = await cli(w, 'ledger', 'check');
  assert.is(check.code, EXIT.ok, check.out + check.err);
  assert.match(check.out, /Paid out \$1\.00\.\nThe ledger is consistent\./);
});

Operator('backup: an online copy that opens with the same records; never overwrites', async ({ w }) => {
  const b = await cli(w, 'backup', 'copy.db');
  assert.is(b.code, EXIT.ok, b.err);
  const copy = new Database(join(w.dir, 'copy.db'), { readonly: true });
  const live = new Database(w.dbFile, { readonly: true });
  const count = (d: Database.Database) => (d.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
  assert.is(count(copy), count(live));
  copy.close();
  live.close();
  const again = await cli(w, 'backup', 'copy.db');
  assert.match(again.err, /already exists/);
});

Operator('/healthz, control API behind its token, unknown routes, oversized bodies', async ({ w }) => {
  const health = await fetch(`${w.server.url}/healthz`);
  assert.equal(await health.json(), { status: 'ok', schemaVersion: SCHEMA_VERSION });
  const noToken = await fetch(`${w.server.url}/_sim/state`);
  assert.is(noToken.status, 401);
  const wrong = await fetch(`${w.server.url}/_sim/state`, { headers: { authorization: 'Bearer nope-nope-nope-nope' } });
  assert.is(wrong.status, 401);
  const good = await fetch(`${w.server.url}/_sim/stats`, {
    headers: { authorization: 'Bearer operator-token-0123456789' },
  });
  assert.is(good.status, 200);
  const page = await fetch(`${w.server.url}/mturk/preview?hitId=x`);
  assert.is(page.status, 404, "sim's unauthenticated worker pages are never served");
  assert.match(await page.text(), /Not found/);
  const big = await fetch(`${w.server.url}/`, {
    method: 'POST',
    headers: { 'x-amz-target': 'MTurkRequesterServiceV20170117.GetAccountBalance' },
    body: 'x'.repeat(2 * 1024 * 1024),
  });
  assert.is(big.status, 413);
  assert.is(((await big.json()) as { __type: string }).__type, 'RequestError');
  const again = await fetch(`${w.server.url}/healthz`);
  assert.is(again.status, 200, 'still serving');
});

Operator('the control API is off without --control-api', async () => {
  const w2 = await startServe({ solo: 1 });
  try {
    const r = await fetch(`${w2.server.url}/_sim/state`, { headers: { authorization: 'Bearer anything-anything' } });
    assert.is(r.status, 404);
    assert.match(await r.text(), /control API is off/);
  } finally {
    await w2.close();
  }
});

Operator('SQL- and HTML-looking text is stored and returned exactly as sent', async ({ w }) => {
  const title = `Robert'); DROP TABLE records;-- <script>alert(1)</script> & "quotes"`;
  const out = await w.client('lab').send(new CreateHITCommand(hitInput({ Title: title, Description: "1' OR '1'='1" })));
  await w.restart();
  const got = await w.client('lab').send(new GetHITCommand({ HITId: out.HIT!.HITId! }));
  assert.is(got.HIT?.Title, title);
  assert.is(got.HIT?.Description, "1' OR '1'='1");
});

Operator('migrations: a database at schema 1 upgrades in place; a newer one is refused', async ({ w }) => {
  const file = join(w.dir, 'old.db');
  const old = new Database(file);
  migrate(old, file, 1);
  assert.is(schemaVersion(old), 1);
  old.prepare("INSERT INTO meta (key, value) VALUES ('seq', '41')").run();
  old.close();
  const db = openDatabase(file);
  assert.is(schemaVersion(db), SCHEMA_VERSION);
  assert.is((db.prepare("SELECT value FROM meta WHERE key = 'seq'").get() as { value: string }).value, '41');
  assert.ok(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'ledger_entry'").get());
  db.prepare('UPDATE schema_version SET version = ?').run(MIGRATIONS.length + 1);
  db.close();
  try {
    openDatabase(file);
    assert.unreachable('a newer schema must be refused');
  } catch (err) {
    assert.match(
      (err as Error).message,
      new RegExp(
        `schema version ${MIGRATIONS.length + 1}; this hitstate knows up to ${MIGRATIONS.length}\\. Upgrade hitstate`,
      ),
    );
  }
  assert.ok(existsSync(file));
});

Operator('a record that cannot be read: a clear error, the file untouched, the lock released', async ({ w }) => {
  const file = join(w.dir, 'broken.db');
  const db = openDatabase(file);
  db.prepare("INSERT INTO records (kind, id, data) VALUES ('hit', 'X', '{not json')").run();
  db.close();
  const start = () => createServe({ db: file, publicUrl: 'https://crowd.example.org', log: () => {} });
  for (let i = 0; i < 2; i++) {
    try {
      await start();
      assert.unreachable('a broken record must be refused');
    } catch (err) {
      assert.is((err as { code?: string }).code, 'HST_ERR_SERVE_DB', 'the second try is not refused as locked');
      assert.match((err as Error).message, /cannot be read .* Restore a backup/);
    }
  }
});

Operator.run();
