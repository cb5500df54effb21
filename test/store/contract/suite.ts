// The one test suite of the StoreBackend contract (src/store/backend.ts), run against every backend
// (the BullMQ adapter-conformance pattern): `contract/postgres.test.ts` runs it on PostgreSQL, and a
// lowdb file runs it on the journal backend. A backend passes when every test here passes; nothing
// in it knows which backend it talks to.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { VirtualClock } from '../../../src/clock.js';
import { HitstateError } from '../../../src/errors.js';
import type {
  CollectionName,
  Commit,
  LeaseResult,
  RecordChange,
  RunLease,
  ScopeImage,
  StoreBackend,
} from '../../../src/store/backend.js';
import type { StoreEnvironment } from '../../../src/store/environment.js';

/** One backend under test, on fresh storage of its own. */
export interface BackendUnderTest {
  /** Opened on the sandbox environment and {@link BackendUnderTest.clock}. */
  readonly backend: StoreBackend;
  /** The time every instance of this storage uses for leases and requests; tests move it. */
  readonly clock: VirtualClock;
  /**
   * Opens ANOTHER instance on the same storage (as a second process would), on the same clock and
   * the sandbox environment unless told otherwise. The instances opened before stay open.
   */
  reopen(options?: { readonly environment?: StoreEnvironment }): Promise<StoreBackend>;
  /** Closes every instance still open and removes the storage. */
  cleanup(): Promise<void>;
}

const LIVE: StoreEnvironment = { kind: 'live' };
const CUSTOM: StoreEnvironment = { kind: 'custom', endpoint: 'http://127.0.0.1:8787' };
const TTL = 30_000;

const put = (collection: CollectionName, runId: string | null, key: string, json: string): RecordChange => ({
  collection,
  runId,
  key,
  json,
});
const del = (collection: CollectionName, runId: string | null, key: string): RecordChange => ({
  collection,
  runId,
  key,
  json: null,
});
const commitOf = (changes: RecordChange[], audit: Commit['audit'] = []): Commit => ({ changes, audit });

/** A scope image as plain sorted data, empty collections dropped (a backend may or may not keep them). */
function plain(image: ScopeImage | undefined): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [collection, records] of [...(image ?? new Map())].sort(([a], [b]) => a.localeCompare(b))) {
    if (records.size === 0) continue;
    out[collection] = Object.fromEntries([...records].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
  return out;
}

async function lines(backend: StoreBackend, runId: string | null): Promise<string[]> {
  const out: string[] = [];
  for await (const line of backend.auditLines(runId)) out.push(line);
  return out;
}

function expectTaken(result: LeaseResult, what: string): { lease: RunLease } {
  if (!result.ok) assert.unreachable(`${what}: refused, held by ${JSON.stringify(result.heldBy)}`);
  return { lease: (result as Extract<LeaseResult, { ok: true }>).lease };
}

async function rejects(promise: Promise<unknown>, what: string): Promise<HitstateError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof HitstateError, `${what}: a HitstateError, got ${String(error)}`);
    return error as HitstateError;
  }
  assert.unreachable(`${what}: expected a rejection`);
  throw new Error('unreachable');
}

/**
 * Registers and runs the contract tests for one backend.
 *
 * @param makeBackend opens a backend on fresh, empty storage (called once per test).
 */
export function contractSuite(name: string, makeBackend: () => Promise<BackendUnderTest>): void {
  const Contract = suite(`store backend contract: ${name}`);
  let t: BackendUnderTest;
  Contract.before.each(async () => {
    t = await makeBackend();
  });
  Contract.after.each(async () => {
    await t.cleanup();
  });

  Contract('when nothing was committed then load finds an empty store and no run', async () => {
    const image = await t.backend.load();
    assert.equal(plain(image.store), {});
    assert.is(image.runs.size, 0);
    assert.ok(Array.isArray(image.notes));
    assert.equal(await lines(t.backend, null), []);
    assert.equal(await lines(t.backend, 'r1'), []);
  });

  Contract('when a commit resolves then its records and audit are durable across a reopen', async () => {
    await t.backend.commit(
      commitOf(
        [
          put('meta', null, 'store', '{"schema":1}'),
          put('workers', null, 'A1', '{"workerId":"A1"}'),
          put('units', 'r1', 'u1', '{"state":"launched"}'),
          put('snapshots', 'r1', 'run', '{"value":"running"}'),
        ],
        [{ runId: 'r1', json: '{"op":"createHIT"}' }],
      ),
    );
    const same = await t.backend.load();
    assert.equal(plain(same.store), { meta: { store: '{"schema":1}' }, workers: { A1: '{"workerId":"A1"}' } });
    await t.backend.close();
    const again = await t.reopen();
    const image = await again.load();
    assert.equal(plain(image.store), { meta: { store: '{"schema":1}' }, workers: { A1: '{"workerId":"A1"}' } });
    assert.equal([...image.runs.keys()], ['r1']);
    assert.equal(plain(image.runs.get('r1')), {
      snapshots: { run: '{"value":"running"}' },
      units: { u1: '{"state":"launched"}' },
    });
    assert.equal(await lines(again, 'r1'), ['{"op":"createHIT"}']);
  });

  Contract('when a record is written again then the last write wins, also within one commit', async () => {
    await t.backend.commit(commitOf([put('units', 'r1', 'u1', '{"v":1}')]));
    await t.backend.commit(commitOf([put('units', 'r1', 'u1', '{"v":2}'), put('units', 'r1', 'u2', '{"v":1}')]));
    await t.backend.commit(commitOf([put('units', 'r1', 'u2', '{"v":2}'), put('units', 'r1', 'u2', '{"v":3}')]));
    const image = await (await t.reopen()).load();
    assert.equal(plain(image.runs.get('r1')), { units: { u1: '{"v":2}', u2: '{"v":3}' } });
  });

  Contract(
    'when records are deleted then they are gone after a reopen, deleting a missing one is harmless',
    async () => {
      await t.backend.commit(
        commitOf([
          put('units', 'r1', 'u1', '{}'),
          put('units', 'r1', 'u2', '{}'),
          put('workers', null, 'A1', '{}'),
          put('workers', null, 'A2', '{}'),
        ]),
      );
      await t.backend.commit(
        commitOf([
          del('units', 'r1', 'u1'),
          del('workers', null, 'A1'),
          del('units', 'r1', 'never-written'),
          // Written then deleted in one commit: deleted.
          put('agents', 'r1', 'a1', '{}'),
          del('agents', 'r1', 'a1'),
          // Deleted then written in one commit: written.
          del('units', 'r1', 'u2'),
          put('units', 'r1', 'u2', '{"back":true}'),
        ]),
      );
      const image = await (await t.reopen()).load();
      assert.equal(plain(image.store), { workers: { A2: '{}' } });
      assert.equal(plain(image.runs.get('r1')), { units: { u2: '{"back":true}' } });
    },
  );

  Contract(
    'when JSON text is stored then it comes back byte for byte (emoji, ]]>, escapes, spacing, 1 MB)',
    async () => {
      const texts = {
        emoji: JSON.stringify({ answer: 'great 👍🏽 task, 日本語, ñ, \u{1F600}' }),
        cdata: JSON.stringify({ xml: '<a><![CDATA[x]]></a>]]>', quote: '"\'\\' }),
        escapes: '{"nul":"\\u0000","lone":"\\ud800","ls":"\u2028\u2029","tab":"\\t","slash":"\\/"}',
        spacing: '{ "a" :  1 ,\n  "b" : [ 1.50, 2e3 ] }',
        big: JSON.stringify({ blob: 'x'.repeat(1_000_000), tail: '✓' }),
        array: '[1,"two",{"three":[3]}]',
        scalar: '"just a string"',
      };
      await t.backend.commit(commitOf(Object.entries(texts).map(([k, json]) => put('submissions', 'r1', k, json))));
      await t.backend.commit(
        commitOf(
          [],
          [
            { runId: 'r1', json: texts.emoji },
            { runId: 'r1', json: texts.cdata },
          ],
        ),
      );
      const again = await t.reopen();
      const loaded = (await again.load()).runs.get('r1')?.get('submissions');
      for (const [k, json] of Object.entries(texts)) {
        const got = loaded?.get(k);
        assert.ok(got === json, `${k}: ${got?.length} characters back for ${json.length}`);
        assert.ok(Buffer.from(got ?? '').equals(Buffer.from(json)), `${k}: same UTF-8 bytes`);
      }
      assert.equal(await lines(again, 'r1'), [texts.emoji, texts.cdata]);
    },
  );

  Contract('when a commit holds an invalid change then it is refused whole and nothing of it is written', async () => {
    await t.backend.commit(commitOf([put('units', 'r1', 'u1', '{"v":1}')]));
    const bad = commitOf(
      [
        put('units', 'r1', 'u1', '{"v":2}'),
        put('units', 'r1', 'u2', '{}'),
        { collection: 'bogus' as CollectionName, runId: 'r1', key: 'x', json: '{}' },
      ],
      [{ runId: 'r1', json: '{"op":"half"}' }],
    );
    await rejects(t.backend.commit(bad), 'a commit naming an unknown collection');
    const badScope = commitOf([put('units', null, 'u3', '{}')]);
    await rejects(t.backend.commit(badScope), 'a run collection without a run id');
    const image = await (await t.reopen()).load();
    assert.equal(plain(image.runs.get('r1')), { units: { u1: '{"v":1}' } });
    assert.equal(await lines(t.backend, 'r1'), []);
  });

  Contract('when two runs and the store use the same keys then the scopes stay apart', async () => {
    await t.backend.commit(
      commitOf([
        put('units', 'r1', 'k', '"r1 unit"'),
        put('units', 'r2', 'k', '"r2 unit"'),
        put('agents', 'r1', 'k', '"r1 agent"'),
        put('workers', null, 'k', '"worker"'),
        put('runs', null, 'k', '"run record"'),
      ]),
    );
    await t.backend.commit(commitOf([del('units', 'r2', 'k')]));
    const image = await (await t.reopen()).load();
    assert.equal(plain(image.store), { runs: { k: '"run record"' }, workers: { k: '"worker"' } });
    assert.equal(plain(image.runs.get('r1')), { agents: { k: '"r1 agent"' }, units: { k: '"r1 unit"' } });
    assert.equal(plain(image.runs.get('r2')), {});
  });

  Contract('when environments share the storage then none sees another one’s records, audit or leases', async () => {
    const live = await t.reopen({ environment: LIVE });
    const custom = await t.reopen({ environment: CUSTOM });
    await t.backend.commit(commitOf([put('units', 'r1', 'u1', '"sandbox"')], [{ runId: 'r1', json: '"sandbox"' }]));
    await live.commit(commitOf([put('units', 'r1', 'u1', '"live"')], [{ runId: 'r1', json: '"live"' }]));
    await custom.commit(commitOf([put('workers', null, 'A1', '"custom"')]));
    assert.equal(plain((await t.backend.load()).runs.get('r1')), { units: { u1: '"sandbox"' } });
    assert.equal(plain((await live.load()).runs.get('r1')), { units: { u1: '"live"' } });
    assert.equal(plain((await live.load()).store), {});
    assert.equal((await custom.load()).runs.size, 0);
    assert.equal(plain((await custom.load()).store), { workers: { A1: '"custom"' } });
    assert.equal(await lines(live, 'r1'), ['"live"']);
    expectTaken(await t.backend.acquireRun('r1', TTL), 'sandbox takes r1');
    expectTaken(await live.acquireRun('r1', TTL), 'live takes its own r1');
    assert.is(await custom.runHolder('r1'), null);
    await live.postRequest({ id: 'q1', runId: 'r1', kind: 'review', body: '{}', postedAt: 1 });
    assert.equal(await t.backend.pendingRequests('r1'), []);
    assert.is(await t.backend.request('r1', 'q1'), null);
  });

  Contract('when load names runs then it reads the store scope and only those runs', async () => {
    await t.backend.commit(
      commitOf([
        put('runs', null, 'r1', '{}'),
        put('units', 'r1', 'u', '"1"'),
        put('units', 'r2', 'u', '"2"'),
        put('units', 'r3', 'u', '"3"'),
      ]),
    );
    const other = await t.reopen();
    const image = await other.load({ runs: ['r1', 'r3'] });
    assert.equal(plain(image.store), { runs: { r1: '{}' } });
    assert.equal([...image.runs.keys()].sort(), ['r1', 'r3']);
    assert.equal(plain(image.runs.get('r3')), { units: { u: '"3"' } });
    const all = await other.load();
    assert.equal([...all.runs.keys()].sort(), ['r1', 'r2', 'r3']);
    assert.is((await other.load({ runs: [] })).runs.size, 0);
  });

  Contract('when audit lines are committed then each scope reads them back in commit order', async () => {
    const expected: Record<string, string[]> = { r1: [], r2: [], store: [] };
    for (let c = 0; c < 5; c++) {
      const audit = [];
      for (let i = 0; i < 3; i++) {
        audit.push({ runId: 'r1', json: `{"c":${c},"i":${i}}` });
        expected.r1?.push(`{"c":${c},"i":${i}}`);
      }
      audit.push({ runId: null, json: `{"store":${c}}` });
      expected.store?.push(`{"store":${c}}`);
      if (c % 2 === 0) {
        audit.push({ runId: 'r2', json: `{"r2":${c}}` });
        expected.r2?.push(`{"r2":${c}}`);
      }
      await t.backend.commit(commitOf([], audit));
    }
    // A long trail comes back whole and in order too.
    const many = Array.from({ length: 2_500 }, (_, i) => ({ runId: 'r3', json: `{"n":${i}}` }));
    await t.backend.commit(commitOf([], many));
    const other = await t.reopen();
    assert.equal(await lines(other, 'r1'), expected.r1);
    assert.equal(await lines(other, 'r2'), expected.r2);
    assert.equal(await lines(other, null), expected.store);
    assert.equal(
      await lines(other, 'r3'),
      many.map((m) => m.json),
    );
  });

  Contract('when a run is taken then its holder is named to others, renewals extend it, release frees it', async () => {
    const other = await t.reopen();
    const first = await t.backend.acquireRun('r1', TTL);
    const { lease } = expectTaken(first, 'first take');
    assert.is(first.ok && first.tookOverFrom, null);
    assert.is(lease.runId, 'r1');
    assert.is(lease.holder.pid, process.pid);
    assert.type(lease.holder.hostname, 'string');
    assert.ok(lease.holder.expiresAt >= t.clock.now() + TTL - 1, 'expires a TTL from now');
    const seen = await other.runHolder('r1');
    assert.equal(seen?.owner, lease.holder.owner);
    const refused = await other.acquireRun('r1', TTL);
    assert.is(refused.ok, false);
    if (!refused.ok) {
      assert.is(refused.heldBy.owner, lease.holder.owner);
      assert.is(refused.heldBy.pid, process.pid);
      assert.is(refused.heldBy.expiresAt, lease.holder.expiresAt);
    }
    // Taking a run one already holds keeps it.
    expectTaken(await t.backend.acquireRun('r1', TTL), 'the holder takes it again');
    await t.clock.advance(TTL - 1_000);
    const before = lease.holder.expiresAt;
    assert.is(await lease.renew(), true);
    assert.ok(lease.holder.expiresAt > before, 'renewal moves the expiry');
    await t.clock.advance(TTL - 1_000);
    assert.is((await other.acquireRun('r1', TTL)).ok, false, 'a renewed lease still holds past the first expiry');
    await lease.release();
    assert.is(await other.runHolder('r1'), null);
    const next = await other.acquireRun('r1', TTL);
    expectTaken(next, 'taken after release');
    assert.is(next.ok && next.tookOverFrom, null, 'a released run is not a takeover');
    assert.is(await t.backend.runHolder('r2'), null, 'another run is free');
  });

  Contract('when runs are held then liveRuns lists each with its holder, and only while held', async () => {
    const other = await t.reopen();
    assert.equal([...(await other.liveRuns()).keys()], [], 'nobody holds a run yet');
    const one = expectTaken(await t.backend.acquireRun('r1', TTL), 'r1');
    expectTaken(await other.acquireRun('r2', TTL * 2), 'r2');
    const live = await other.liveRuns();
    assert.equal([...live.keys()].sort(), ['r1', 'r2']);
    assert.is(live.get('r1')?.owner, one.lease.holder.owner);
    assert.is(live.get('r1')?.expiresAt, one.lease.holder.expiresAt);
    await one.lease.release();
    assert.equal([...(await t.backend.liveRuns()).keys()], ['r2'], 'a released run is no longer listed');
    await t.clock.advance(TTL * 2 + 1);
    assert.equal([...(await t.backend.liveRuns()).keys()], [], 'an expired lease is not listed');
  });

  Contract('when a lease expires then another owner takes it over and the old one learns it lost it', async () => {
    const other = await t.reopen();
    const { lease } = expectTaken(await t.backend.acquireRun('r1', TTL), 'first take');
    const firstOwner = lease.holder.owner;
    await t.clock.advance(TTL + 1);
    assert.is(await other.runHolder('r1'), null, 'an expired lease has no live holder');
    const taken = await other.acquireRun('r1', TTL);
    expectTaken(taken, 'takeover');
    assert.is(taken.ok && taken.tookOverFrom?.owner, firstOwner);
    assert.is(await lease.renew(), false, 'the old holder cannot renew');
    const back = await t.backend.acquireRun('r1', TTL);
    assert.is(back.ok, false, 'the old holder is refused');
    // Releasing a lease that was taken over leaves the new holder alone.
    await lease.release();
    assert.is((await t.backend.runHolder('r1'))?.owner, taken.ok ? taken.lease.holder.owner : '');
  });

  Contract('when owners race for one run then exactly one wins, every time', async () => {
    const owners = [t.backend, await t.reopen(), await t.reopen(), await t.reopen()];
    for (let round = 0; round < 5; round++) {
      const runId = `race-${round}`;
      const results = await Promise.all(owners.map((b) => b.acquireRun(runId, TTL)));
      const winners = results.filter((r) => r.ok);
      assert.is(winners.length, 1, `round ${round}: one winner`);
      const winner = winners[0]?.ok ? winners[0].lease.holder.owner : '';
      for (const r of results) if (!r.ok) assert.is(r.heldBy.owner, winner, 'the losers are told who won');
    }
    // Racing a takeover of an expired lease: still one winner.
    await t.clock.advance(TTL + 1);
    const takeovers = await Promise.all(owners.map((b) => b.acquireRun('race-0', TTL)));
    assert.is(takeovers.filter((r) => r.ok).length, 1);
  });

  Contract('when a backend closes then its leases are released and it refuses further use', async () => {
    const other = await t.reopen();
    expectTaken(await t.backend.acquireRun('r1', TTL), 'take r1');
    expectTaken(await t.backend.acquireRun('r2', TTL), 'take r2');
    await t.backend.close();
    await t.backend.close();
    assert.is(await other.runHolder('r1'), null);
    const taken = await other.acquireRun('r2', TTL);
    expectTaken(taken, 'r2 is free at once');
    assert.is(taken.ok && taken.tookOverFrom, null);
    await rejects(t.backend.load(), 'load after close');
    await rejects(t.backend.commit(commitOf([put('units', 'r1', 'u', '{}')])), 'commit after close');
  });

  Contract('when a request is posted twice then it is one request, the first one', async () => {
    await t.backend.postRequest({ id: 'q1', runId: 'r1', kind: 'review', body: '{"approve":["a1"]}', postedAt: 10 });
    await t.backend.postRequest({ id: 'q1', runId: 'r1', kind: 'review', body: '{"approve":["a1"]}', postedAt: 20 });
    const pending = await t.backend.pendingRequests('r1');
    assert.is(pending.length, 1);
    assert.equal(pending[0], {
      id: 'q1',
      runId: 'r1',
      kind: 'review',
      body: '{"approve":["a1"]}',
      postedAt: 10,
      result: null,
      settledAt: null,
    });
    assert.equal(await t.backend.pendingRequests('r2'), []);
  });

  Contract('when requests are pending then they come oldest first, and settled ones leave the list', async () => {
    const post = (id: string, postedAt: number) =>
      t.backend.postRequest({ id, runId: 'r1', kind: 'arrival', body: `{"id":"${id}"}`, postedAt });
    await post('c', 300);
    await post('a', 100);
    await post('b', 200);
    await post('b2', 200);
    assert.equal(
      (await t.backend.pendingRequests('r1')).map((r) => r.id),
      ['a', 'b', 'b2', 'c'],
    );
    await t.backend.settleRequest('r1', 'b', '{"ok":true}');
    assert.equal(
      (await (await t.reopen()).pendingRequests('r1')).map((r) => r.id),
      ['a', 'b2', 'c'],
    );
  });

  Contract('when a request is settled then the first answer stays and another instance reads it', async () => {
    const poster = await t.reopen();
    await poster.postRequest({ id: 'q1', runId: 'r1', kind: 'review', body: '{}', postedAt: t.clock.now() });
    assert.is((await poster.request('r1', 'q1'))?.result, null);
    await t.clock.advance(5_000);
    await t.backend.settleRequest('r1', 'q1', '{"approved":1}');
    await t.clock.advance(5_000);
    await t.backend.settleRequest('r1', 'q1', '{"approved":2}');
    const answer = await poster.request('r1', 'q1');
    assert.is(answer?.result, '{"approved":1}');
    assert.type(answer?.settledAt, 'number');
    assert.ok((answer?.settledAt ?? 0) >= (answer?.postedAt ?? Infinity), 'settled after posted');
    assert.is(await poster.request('r1', 'no-such'), null);
    assert.is(await poster.request('r2', 'q1'), null, 'request ids belong to their run');
    await rejects(t.backend.settleRequest('r1', 'no-such', '{}'), 'settling a request never posted');
    await t.backend.close();
    assert.is((await (await t.reopen()).request('r1', 'q1'))?.result, '{"approved":1}', 'durable');
  });

  Contract.run();
}
