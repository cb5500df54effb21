import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { nodeArgs } from '../support/child-command.js';
import {
  collect,
  dumpStore,
  kill,
  open,
  rejection,
  removeDir,
  root,
  startChild,
  tempDir,
  filesUnder,
} from './helpers.js';

const Crash = suite('store commit and checkpoint killed at every step');
const dirs: string[] = [];
const newDir = (): string => {
  const dir = tempDir();
  dirs.push(dir);
  return dir;
};
Crash.after(() => {
  for (const dir of dirs) removeDir(dir);
});

interface Plan {
  readonly ops: string[];
  readonly a: unknown;
  readonly b: unknown;
  /** The last journal append of B's commit: the commit is durable once it is done. */
  readonly commit: number;
  /** Where the close (checkpoints, backups) starts. */
  readonly commitEnd: number;
}

/** Runs the writer to the end once: the operations of its commit and close, and both states. */
function plan(): Promise<Plan> {
  const dir = newDir();
  const child = spawn(
    process.execPath,
    nodeArgs(join(root, 'test', 'fixtures', 'store', 'crash-writer.ts'), [dir, 'count']),
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      const line = (tag: string) =>
        out
          .split('\n')
          .find((l) => l.startsWith(`${tag} `))
          ?.slice(tag.length + 1);
      const [ops, a, b, end] = [line('OPS'), line('DUMP-A'), line('DUMP-B'), line('COMMIT-END')];
      if (code !== 0 || ops === undefined || a === undefined || b === undefined || end === undefined)
        return reject(new Error(`crash-writer.ts count exited ${code}:\n${out}`));
      const list = JSON.parse(ops) as string[];
      const commitEnd = Number(end);
      const appends = list
        .map((op, i) => ({ op, i }))
        .filter(({ op, i }) => i < commitEnd && /^append .*journal\.jsonl$/.test(op));
      resolve({ ops: list, a: JSON.parse(a), b: JSON.parse(b), commit: appends.at(-1)?.i ?? -1, commitEnd });
    });
  });
}

const temps = (dir: string): string[] => Object.keys(filesUnder(dir)).filter((p) => /(^|[\\/])\.[^\\/]+\.tmp$/.test(p));

/** Runs `work` over `items`, `limit` at a time (each item is a child process). */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

async function crashAt(dir: string, step: number, torn: boolean): Promise<string> {
  const started = await startChild('crash-writer.ts', [dir, String(step), ...(torn ? ['torn'] : [])], 'CRASH-POINT');
  await kill(started.child);
  return started.output();
}

Crash(
  'when the writer is killed before each operation of a commit and of the checkpoints that fold it, or half-way through each write and append, then reopening finds the whole old state before the commit and the whole new state after it',
  async () => {
    const p = await plan();
    const journals = p.ops.slice(0, p.commitEnd).filter((op) => /^append .*journal\.jsonl$/.test(op));
    assert.ok(p.commit > 0, 'the commit appends to the journals');
    assert.equal(
      [...new Set(journals)].sort(),
      ['append sandbox/journal.jsonl', 'append sandbox/runs/r1/journal.jsonl', 'append sandbox/runs/r2/journal.jsonl'],
      'one entry in each of three journals (and the new run journal created)',
    );
    assert.not.ok(
      p.ops.slice(0, p.commitEnd).some((op) => /^(write|rename) .*\.json$/.test(op) || op.includes('-00')),
      `the commit rewrites no lowdb file: ${p.ops.slice(0, p.commitEnd).join(', ')}`,
    );
    assert.ok(
      p.ops.slice(p.commitEnd).some((op) => op.includes('units-000.json')),
      'the close folds the journals',
    );
    assert.not.equal(p.a, p.b);

    const points = p.ops.flatMap((op, step) => [
      { step, torn: false },
      ...(/^(write|append) /.test(op) ? [{ step, torn: true }] : []),
    ]);
    points.push({ step: p.ops.length, torn: false });
    const checked: string[] = [];
    await pool(points, 3, async ({ step, torn }) => {
      const dir = newDir();
      const label = `killed ${torn ? 'half-way through' : 'before'} operation ${step} (${p.ops[step] ?? 'after the last'})`;
      const output = await crashAt(dir, step, torn);
      assert.match(output, `CRASH-POINT ${step}`, label);
      const committed = step > p.commit;
      const expected = committed ? p.b : p.a;

      const before = filesUnder(dir);
      const look = await open(dir, { readOnly: true });
      assert.equal(await dumpStore(look), expected, `read-only, ${label}`);
      assert.is(look.openReport.heldBy, null, 'the dead writer holds nothing');
      await look.close();
      assert.equal(filesUnder(dir), before, `a read-only open changes nothing (${label})`);

      const store = await open(dir);
      assert.equal(await dumpStore(store), expected, label);
      assert.equal(temps(dir), [], `no temp file is left (${label})`);
      assert.equal(store.openReport.orphanRunDirectories, [], label);
      store.units.setStatus('u1', 'expired');
      store.audit.append({ operation: 'ExpireHIT', outcome: 'ok', runId: 'r1' });
      await store.close();
      const again = await open(dir);
      const dump = (await dumpStore(again)) as { runs: { audit: unknown[] }[] };
      assert.is(again.units.require('u1').status, 'expired', label);
      assert.is((await collect(again.audit.entries({ runId: 'r1' }))).at(-1)?.operation, 'ExpireHIT', label);
      assert.is(
        dump.runs[0]!.audit.length,
        (expected as { runs: { audit: unknown[] }[] }).runs[0]!.audit.length + 1,
        `no audit line lost or doubled by folding again (${label})`,
      );
      await again.close();
      checked.push(label);
    });
    assert.is(checked.length, points.length);
  },
);

Crash(
  'when a journal entry in the middle of a journal is damaged then opening refuses, names it, and changes nothing',
  async () => {
    const p = await plan();
    const dir = newDir();
    // Killed after the commit, before the close folded it: the entries are in the journals.
    await crashAt(dir, p.commitEnd, false);
    const journal = join(dir, 'sandbox', 'runs', 'r1', 'journal.jsonl');
    const lines = readFileSync(journal, 'utf8').split('\n');
    assert.ok(lines.length >= 3, 'two entries and the final newline');
    lines[0] = lines[0]!.replace('"scopes"', '"scopez"');
    writeFileSync(journal, lines.join('\n'));
    const before = filesUnder(dir);
    for (const readOnly of [true, false]) {
      const err = await rejection(open(dir, { readOnly }));
      assert.ok(isHitstateError(err, 'HST_ERR_STORE_CORRUPT'), String(err));
      assert.match((err as Error).message, journal);
      const after = filesUnder(dir);
      delete after[join('sandbox', 'store.json.lock')];
      delete before[join('sandbox', 'store.json.lock')];
      assert.equal(after, before, `nothing changed (readOnly: ${readOnly})`);
    }
  },
);

Crash('when an older hitstate left a torn audit line then opening seals it and later entries read fine', async () => {
  const dir = newDir();
  const store = await open(dir);
  store.requesters.put({ name: 'lab', credentialSource: { kind: 'defaultChain' } });
  store.runs.create({ runId: 'r1', requesterName: 'lab', config: {} });
  store.audit.append({ operation: 'CreateHITType', outcome: 'ok', runId: 'r1' });
  await store.close();
  appendFileSync(join(dir, 'sandbox', 'runs', 'r1', 'audit.jsonl'), '{"at":1,"operation":"Crea');
  const reopened = await open(dir);
  assert.equal(reopened.openReport.tornAuditLines, [
    { file: join(dir, 'sandbox', 'runs', 'r1', 'audit.jsonl'), bytes: 25 },
  ]);
  reopened.audit.append({ operation: 'GetHIT', outcome: 'ok', runId: 'r1' });
  assert.equal(
    (await collect(reopened.audit.entries({ runId: 'r1' }))).map((e) => e.operation),
    ['CreateHITType', 'GetHIT'],
  );
  await reopened.close();
});

Crash.run();
