// `hitstate export --format csv|jsonl|json` (finding 5 of issue 19) on a real store holding
// tricky data: emoji, `]]>`, quotes, commas, newlines, nested JSON, formula-looking text, a
// review with feedback, a confirmed bonus, and units without a submission.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { main } from '../../src/cli/main.js';
import { openStore } from '../../src/store/index.js';
import { captureIO, childEnv, runCli, tempDir } from './helpers.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
}

const Export = suite<Ctx>('cli/export formats');
const ENV = { kind: 'sandbox' as const };
const T0 = Date.UTC(2026, 2, 1, 9, 0, 0);

const TRICKY = 'He said "hi", then\nleft 😀 ]]> <b>&amp;';

Export.before.each(async (ctx) => {
  ctx.dir = tempDir();
  const clock = new VirtualClock(T0);
  const store = await openStore({ dir: join(ctx.dir.path, '.hitstate'), environment: ENV, clock });
  store.requesters.put({ name: 'lab', credentialSource: { kind: 'profile', profile: 'lab' } });
  store.runs.create({
    runId: 'r1',
    requesterName: 'lab',
    config: {
      title: 'Tricky',
      units: [
        { text: TRICKY, meta: { lang: 'en', tags: ['a', 'b'] } },
        { text: '=1+1', meta: { lang: 'fr', tags: [] } },
        { text: 'never done', meta: { lang: 'de', tags: ['c'] } },
      ],
    },
    status: 'done',
  });
  for (let i = 0; i < 3; i++)
    store.units.create({
      unitId: `r1.u${i}`,
      runId: 'r1',
      index: i,
      payAmountUsd: '0.10',
      status: i === 2 ? 'expired' : 'completed',
    });
  for (let i = 0; i < 2; i++) {
    store.hits.add({
      hitId: `HIT${i}`,
      runId: 'r1',
      link: 'https://x',
      assignmentDurationSec: 600,
      expiresAt: T0 + 3_600_000,
    });
    store.agents.create({
      agentId: `a${i}`,
      unitId: `r1.u${i}`,
      workerId: `W${i}`,
      assignmentId: `AS${i}`,
      hitId: `HIT${i}`,
    });
  }
  store.agents.recordSubmission(
    'a0',
    { label: 'pos, neg', note: TRICKY, scores: { x: 1, y: [2, 3] }, ok: true },
    T0 + 90_000,
  );
  store.agents.recordSubmission(
    'a1',
    { label: '@SUM(A1)', note: '-2', scores: { x: -5, y: [] }, ok: false },
    T0 + 120_000,
  );
  store.agents.setReview('a0', { decision: 'approved', feedback: 'Great, "really"' });
  store.agents.setReview('a1', { decision: 'rejected', feedback: 'copied\nanswer' });
  await store.outbox.recordIntent({
    kind: 'bonus',
    runId: 'r1',
    token: 'tok-bonus-a0',
    agentId: 'a0',
    workerId: 'W0',
    assignmentId: 'AS0',
    amountUsd: '0.25',
    args: { reason: 'thorough' },
  });
  store.outbox.markSent('tok-bonus-a0');
  store.outbox.markConfirmed('tok-bonus-a0');
  await store.close();
});

Export.after.each((ctx) => ctx.dir.remove());

/** An RFC 4180 parser: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

Export('when exported as CSV then each submission is one row a spreadsheet reads back exactly', async (ctx) => {
  const r = await runCli(['export', 'r1', '--env', 'sandbox', '--format', 'csv', '--out', 'out.csv', '--bom'], {
    cwd: ctx.dir.path,
    env: childEnv(),
  });
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*out\.csv\n {2}3 rows/);
  const bytes = readFileSync(join(ctx.dir.path, 'out.csv'));
  assert.equal([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 byte-order mark');
  const text = bytes.toString('utf8').slice(1);
  assert.ok(text.endsWith('\r\n'));
  const [header, ...rows] = parseCsv(text);
  assert.equal(header, [
    'run_id',
    'unit_id',
    'unit_index',
    'unit_status',
    'input.text',
    'input.meta.lang',
    'input.meta.tags.0',
    'input.meta.tags.1',
    'input.meta.tags',
    'worker_id',
    'assignment_id',
    'hit_id',
    'agent_id',
    'agent_status',
    'accepted_at',
    'submitted_at',
    'duration_sec',
    'answer.label',
    'answer.note',
    'answer.scores.x',
    'answer.scores.y.0',
    'answer.scores.y.1',
    'answer.ok',
    'answer.scores.y',
    'review',
    'review_feedback',
    'reviewed_at',
    'bonus_usd',
    'bonus_reason',
  ]);
  const byUnit = Object.fromEntries(
    rows.map((row) => [row[1], Object.fromEntries(header!.map((h, i) => [h, row[i]]))]),
  );
  const first = byUnit['r1.u0']!;
  assert.is(first['input.text'], TRICKY, 'quotes, commas, newlines, emoji and ]]> survive');
  assert.is(first['input.meta.tags.1'], 'b');
  assert.is(first.worker_id, 'W0');
  assert.is(first.assignment_id, 'AS0');
  assert.is(first.hit_id, 'HIT0');
  assert.is(first.accepted_at, new Date(T0).toISOString());
  assert.is(first.submitted_at, new Date(T0 + 90_000).toISOString());
  assert.is(first.duration_sec, '90');
  assert.is(first['answer.label'], 'pos, neg');
  assert.is(first['answer.note'], TRICKY);
  assert.is(first['answer.scores.y.1'], '3');
  assert.is(first['answer.ok'], 'true');
  assert.is(first.review, 'approved');
  assert.is(first.review_feedback, 'Great, "really"');
  assert.is(first.bonus_usd, '0.25');
  assert.is(first.bonus_reason, 'thorough');
  const second = byUnit['r1.u1']!;
  assert.is(second['input.text'], "'=1+1", 'formula-looking input is neutralised');
  assert.is(second['input.meta.tags'], '[]', 'an empty list is kept as []');
  assert.is(second['answer.label'], "'@SUM(A1)");
  assert.is(second['answer.note'], "'-2", 'text starting with - is text, guarded');
  assert.is(second['answer.scores.x'], '-5', 'numbers are never changed');
  assert.is(second.review_feedback, 'copied\nanswer');
  assert.is(second.bonus_usd, '');
  const unsubmitted = byUnit['r1.u2']!;
  assert.is(unsubmitted.unit_status, 'expired', 'a unit without a submission is listed with its final state');
  assert.is(unsubmitted['input.text'], 'never done');
  assert.is(unsubmitted.worker_id, '');
});

Export('when exported as JSON Lines or JSON then rows keep their types and units carry their input', async (ctx) => {
  const io = captureIO({ cwd: ctx.dir.path });
  assert.is(await main(['export', 'r1', '--format', 'jsonl', '--out', '-'], io), 0, io.stderr());
  const rows = io
    .stdout()
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.is(rows.length, 3);
  assert.is(rows[0]!['answer.scores.x'], 1);
  assert.is(rows[0]!['answer.note'], TRICKY);
  assert.is(rows[1]!['answer.label'], '@SUM(A1)', 'JSON Lines keeps values exactly');
  assert.is(rows[0]!.duration_sec, 90);

  const json = captureIO({ cwd: ctx.dir.path });
  assert.is(await main(['export', 'r1', '--json'], json), 0, json.stderr());
  const doc = JSON.parse(json.stdout()) as { units: { id: string; input: unknown }[] };
  assert.equal(doc.units.find((u) => u.id === 'r1.u0')!.input, {
    text: TRICKY,
    meta: { lang: 'en', tags: ['a', 'b'] },
  });

  const file = captureIO({ cwd: ctx.dir.path });
  assert.is(await main(['export', 'r1', '--format', 'jsonl'], file), 0, file.stderr());
  assert.match(file.stdout(), /exports[\\/]r1\.jsonl/);
});

Export('when the input is bad then export names the field and the fix', async (ctx) => {
  mkdirSync(join(ctx.dir.path, 'a-folder'));
  const cases: [string[], RegExp, string][] = [
    [
      ['export', 'r1', '--format', 'csv', '--out', 'missing/dir/out.csv'],
      /the folder .*missing[\\/]dir does not exist\. Pass --out with a file path in an existing, writable folder/,
      'HST_ERR_CLI_OUTPUT_PATH',
    ],
    [['export', 'r1', '--format', 'csv', '--out', 'a-folder'], /a-folder: it is a folder/, 'HST_ERR_CLI_OUTPUT_PATH'],
    [['export', 'r1', '--format', 'xlsx'], /--format must be one of json, csv, jsonl, got "xlsx"/, 'HST_ERR_CLI_USAGE'],
    [['export', 'r1', '--format', 'jsonl', '--bom'], /--bom applies to --format csv only/, 'HST_ERR_CLI_USAGE'],
    [
      ['export', 'nope', '--format', 'csv'],
      /has no run "nope"; list the runs with `hitstate status`|has a run "nope"; list the runs/,
      'HST_ERR_RUN_NOT_FOUND',
    ],
  ];
  for (const [args, message, code] of cases) {
    const io = captureIO({ cwd: ctx.dir.path });
    const exit = await main(args, io);
    assert.is.not(exit, 0, args.join(' '));
    assert.match(io.stderr(), message, args.join(' '));
    assert.match(io.stderr(), code);
  }
});

Export.run();
