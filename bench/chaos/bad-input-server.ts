// Malformed, forged and oversized input to the task server (and to MTurk's externalSubmit) while
// a run is live. Each case names what it sends and what must come back; the run then carries on
// and the campaign checks the invariants at its end, so a case that damaged anything shows there too.
import { randomBytes } from 'node:crypto';
import { signAgentToken } from '../../src/server/token.js';
import { SUBMISSION_FIELD } from '../../src/server/wrapper-source.js';
import { TEST_SECRET, type SimWorker, type World } from '../../test/support/sim-world.js';

/** One bad input and what came of it. */
export interface BadInputOutcome {
  readonly target: 'task server' | 'MTurk' | 'CLI';
  readonly name: string;
  readonly expected: string;
  readonly got: string;
  readonly ok: boolean;
}

interface RawAnswer {
  readonly status: number;
  readonly code: string | undefined;
}

async function raw(
  world: World,
  method: string,
  path: string,
  init: { body?: BodyInit; headers?: Record<string, string>; duplex?: 'half' } = {},
): Promise<RawAnswer> {
  const res = await fetch(`${world.origin}${world.tasks.prefix}${path}`, { method, ...init } as RequestInit);
  const text = await res.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    code = undefined;
  }
  return { status: res.status, code };
}

const json = (body: unknown, token?: string): { body: string; headers: Record<string, string> } => ({
  body: typeof body === 'string' ? body : JSON.stringify(body),
  headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
});

const describe = (a: RawAnswer): string => `${a.status}${a.code === undefined ? '' : ` ${a.code}`}`;

/** Nested arrays `depth` deep: `[[[...]]]`. */
const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

/**
 * Runs the task-server cases against a live run; `a` and `b` are two workers who accepted and
 * registered (their units stay theirs; `a` submits once, legitimately, during the cases). Returns
 * the outcomes; afterwards `b` still has to submit.
 */
export async function taskServerCases(
  world: World,
  runId: string,
  a: SimWorker,
  b: SimWorker,
): Promise<BadInputOutcome[]> {
  const out: BadInputOutcome[] = [];
  const { runtime } = world;
  const store = runtime.store;
  const check = (
    name: string,
    expected: string,
    got: RawAnswer,
    ok: (x: RawAnswer) => boolean,
    target: BadInputOutcome['target'] = 'task server',
  ): void => {
    out.push({ target, name, expected, got: describe(got), ok: ok(got) });
  };
  const is = (status: number, code?: string) => (x: RawAnswer) =>
    x.status === status && (code === undefined || x.code === code);
  /** The stored submission as JSON text, or why it cannot be read back. */
  const storedText = (agentId: string): string => {
    try {
      return JSON.stringify(store.agents.submission(agentId)) ?? 'none';
    } catch (err) {
      return `unreadable: ${(err as Error).message}`;
    }
  };
  const agentsBefore = store.agents.ofRun(runId).length;

  check(
    'register: body is not JSON',
    '400',
    await raw(world, 'POST', '/api/agents', json('{"hitId": "3ABC", oops')),
    is(400),
  );
  check(
    'register: a JSON array instead of an object',
    '400',
    await raw(world, 'POST', '/api/agents', json([a.hitId, a.assignmentId, a.workerId])),
    is(400),
  );
  check(
    'register: workerId missing',
    '400',
    await raw(world, 'POST', '/api/agents', json({ hitId: a.hitId, assignmentId: a.assignmentId })),
    is(400),
  );
  check(
    'register: hitId "../../etc/passwd"',
    '400',
    await raw(
      world,
      'POST',
      '/api/agents',
      json({ hitId: '../../etc/passwd', assignmentId: a.assignmentId, workerId: a.workerId }),
    ),
    is(400),
  );
  check(
    'register: 10,000-character workerId',
    '400',
    await raw(
      world,
      'POST',
      '/api/agents',
      json({ hitId: a.hitId, assignmentId: a.assignmentId, workerId: `A${'B'.repeat(9_999)}` }),
    ),
    is(400),
  );
  check(
    'register: well-formed HIT id of no run',
    '403 HST_ERR_SERVER_ASSIGNMENT_MISMATCH',
    await raw(
      world,
      'POST',
      '/api/agents',
      json({
        hitId: '3NOSUCHHIT0000000000000000000Z',
        assignmentId: '3NOSUCHASSIGNMENT00000000000Z',
        workerId: 'AFORGED0000001',
      }),
    ),
    is(403, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH'),
  );
  check(
    "register: worker A's assignment claimed by a forged worker id",
    '403 HST_ERR_SERVER_ASSIGNMENT_MISMATCH',
    await raw(
      world,
      'POST',
      '/api/agents',
      json({ hitId: a.hitId, assignmentId: a.assignmentId, workerId: 'AFORGED0000002' }),
    ),
    is(403, 'HST_ERR_SERVER_ASSIGNMENT_MISMATCH'),
  );
  let replays = 0;
  for (let i = 0; i < 25; i++) if ((await a.register()).status === 200) replays++;
  out.push({
    target: 'task server',
    name: 'register: the same arrival 25 times',
    expected: '200 each, one agent',
    got: `${replays} × 200, ${store.agents.ofRun(runId).filter((g) => g.assignmentId === a.assignmentId).length} agent`,
    ok: replays === 25 && store.agents.ofRun(runId).filter((g) => g.assignmentId === a.assignmentId).length === 1,
  });

  const submitPath = (w: SimWorker) => `/api/agents/${w.agentId}/submit`;
  const tokenA = a.registration!.token;
  check(
    'submit: no token',
    '401 HST_ERR_SERVER_TOKEN_INVALID',
    await raw(world, 'POST', submitPath(a), json({ data: { x: 1 } })),
    is(401, 'HST_ERR_SERVER_TOKEN_INVALID'),
  );
  check(
    'submit: random token',
    '401 HST_ERR_SERVER_TOKEN_INVALID',
    await raw(
      world,
      'POST',
      submitPath(a),
      json({ data: { x: 1 } }, `v1.${randomBytes(48).toString('base64url')}.${randomBytes(32).toString('base64url')}`),
    ),
    is(401, 'HST_ERR_SERVER_TOKEN_INVALID'),
  );
  const otherSecret = signAgentToken(
    {
      agentId: a.agentId!,
      workerId: a.workerId,
      assignmentId: a.assignmentId!,
      expiresAtSec: Math.floor(world.clock.now() / 1000) + 3600,
    },
    Buffer.from('another-secret-0123456789abcdef-0123456789'),
  );
  check(
    'submit: token signed with another secret',
    '401 HST_ERR_SERVER_TOKEN_INVALID',
    await raw(world, 'POST', submitPath(a), json({ data: { x: 1 } }, otherSecret)),
    is(401, 'HST_ERR_SERVER_TOKEN_INVALID'),
  );
  const expired = signAgentToken(
    {
      agentId: a.agentId!,
      workerId: a.workerId,
      assignmentId: a.assignmentId!,
      expiresAtSec: Math.floor(world.clock.now() / 1000) - 1,
    },
    Buffer.from(TEST_SECRET),
  );
  check(
    'submit: expired token',
    '401 HST_ERR_SERVER_TOKEN_INVALID',
    await raw(world, 'POST', submitPath(a), json({ data: { x: 1 } }, expired)),
    is(401, 'HST_ERR_SERVER_TOKEN_INVALID'),
  );
  check(
    "submit: worker A's token on worker B's agent",
    '401 HST_ERR_SERVER_TOKEN_INVALID',
    await raw(world, 'POST', submitPath(b), json({ data: { x: 1 } }, tokenA)),
    is(401, 'HST_ERR_SERVER_TOKEN_INVALID'),
  );
  check(
    'submit: 300 KB of data (limit 256 KiB)',
    '413',
    await raw(world, 'POST', submitPath(a), json({ data: { text: 'x'.repeat(300_000) } }, tokenA)),
    is(413),
  );
  const chunks = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < 40; i++)
        controller.enqueue(new TextEncoder().encode(i === 0 ? `{"data":"${'y'.repeat(10_000)}` : 'y'.repeat(10_000)));
      controller.enqueue(new TextEncoder().encode('"}'));
      controller.close();
    },
  });
  check(
    'submit: 400 KB chunked, no Content-Length',
    '413',
    await raw(world, 'POST', submitPath(a), {
      body: chunks,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenA}` },
      duplex: 'half',
    }),
    is(413),
  );
  check(
    'submit: Content-Type text/html',
    '400 or 415',
    await raw(world, 'POST', submitPath(a), {
      body: JSON.stringify({ data: { x: 1 } }),
      headers: { 'content-type': 'text/html', authorization: `Bearer ${tokenA}` },
    }),
    (x) => x.status === 400 || x.status === 415,
  );
  check(
    'submit: invalid UTF-8 bytes',
    '400',
    await raw(world, 'POST', submitPath(a), {
      body: new Uint8Array([0x7b, 0x22, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]),
      headers: { 'content-type': 'application/json', authorization: `Bearer ${tokenA}` },
    }),
    is(400),
  );
  check(
    'submit: data nested 100,000 arrays deep',
    '400 or 413 (never 500)',
    await raw(world, 'POST', submitPath(a), json(`{"data":${nested(100_000)}}`, tokenA)),
    (x) => x.status === 400 || x.status === 413,
  );
  if (storedText(a.agentId!) !== 'none')
    out.push({
      target: 'task server',
      name: 'refused submissions stored nothing',
      expected: 'no submission yet',
      got: 'a submission was stored',
      ok: false,
    });
  // JSON.parse makes "__proto__" an own key, as a worker's browser would send it.
  const pollutingText =
    '{"__proto__":{"polluted":true},"label":"positive","constructor":{"prototype":{"polluted":true}}}';
  const first = await raw(world, 'POST', submitPath(a), json(`{"data":${pollutingText}}`, tokenA));
  const pollutedNow = ({} as { polluted?: unknown }).polluted !== undefined;
  const keptA = storedText(a.agentId!);
  out.push({
    target: 'task server',
    name: 'submit: data with "__proto__" and "constructor.prototype" keys',
    expected: '200, stored exactly as sent, no prototype polluted',
    got: `${describe(first)}; stored ${keptA}${pollutedNow ? '; Object.prototype polluted' : ''}`,
    ok: first.status === 200 && !pollutedNow && keptA === pollutingText,
  });
  const second = await raw(world, 'POST', submitPath(a), json({ data: { label: 'negative' } }, tokenA));
  check(
    'submit: a second time, other data',
    '409 HST_ERR_SERVER_ALREADY_SUBMITTED, first kept',
    second,
    (x) => x.status === 409 && x.code === 'HST_ERR_SERVER_ALREADY_SUBMITTED' && storedText(a.agentId!) === keptA,
  );
  await a.submitToMTurk(JSON.parse(pollutingText));

  check(
    'heartbeat: well-formed agent id of nobody, with a valid token of another agent',
    '401',
    await raw(world, 'POST', `/api/agents/3NOSUCHAGENT-ANOBODY/heartbeat`, json({}, b.registration!.token)),
    is(401),
  );
  check(
    'status: 600-character agent id',
    '400 or 401',
    await raw(world, 'GET', `/api/agents/${'A'.repeat(600)}`, { headers: { authorization: `Bearer ${tokenA}` } }),
    (x) => x.status === 400 || x.status === 401,
  );
  check(
    'assets: path traversal /assets/../../package.json',
    '400 or 404',
    await raw(world, 'GET', '/assets/..%2f..%2fpackage.json'),
    (x) => x.status === 400 || x.status === 404,
  );
  check('PUT /api/agents', '405', await raw(world, 'PUT', '/api/agents', json({})), is(405));
  check('unknown route /api/admin', '404', await raw(world, 'GET', '/api/admin'), is(404));
  const agentsAfter = store.agents.ofRun(runId).length;
  const extra = agentsAfter - agentsBefore;
  out.push({
    target: 'task server',
    name: 'no agent created by any refused input',
    expected: '0 new agents',
    got: `${extra} new`,
    ok: extra === 0,
  });
  return out;
}

/** A HIT of the run that no unit holds and no worker has taken yet. */
function freeHitOf(world: World, runId: string): string {
  const taken = new Set(
    world
      .account()
      .hits.filter((h) => h.assignments.length > 0)
      .map((h) => h.hitId),
  );
  const hit = world.runtime.store.hits.ofRun(runId).find((h) => h.unitId === null && !taken.has(h.id));
  if (hit === undefined) throw new Error(`run ${runId} has no free HIT left for the case`);
  return hit.id;
}

/**
 * A worker submits on MTurk a form whose hitstate field is not JSON, without ever opening the
 * task page. Judged at the end of the run: the unit must finish and the answer be kept.
 */
export async function forgedMTurkAnswer(
  world: World,
  runId: string,
): Promise<{ name: string; expected: string; assignmentId: string }> {
  const worker = world.worker();
  await worker.accept({ hitId: freeHitOf(world, runId) });
  await world.sim.workers.submit(worker.assignmentId!, {
    [SUBMISSION_FIELD]: '{"label": "positive", truncated',
    comment: '<script>alert(1)</script>',
  });
  return {
    name: 'externalSubmit: the hitstate field is not JSON (task server bypassed)',
    expected: 'unit completed and reviewed, the raw answer stored',
    assignmentId: worker.assignmentId!,
  };
}

/**
 * Someone registers a well-formed but forged assignment id on a free HIT (MTurk hides accepted
 * assignments, so the task server cannot check it), then a real worker accepts that HIT on MTurk
 * and works through the wrapper. Judged at the end of the run: the real worker's unit must finish.
 */
export async function forgedArrival(
  world: World,
  runId: string,
): Promise<{ outcome: BadInputOutcome; assignmentId: string }> {
  const hitId = freeHitOf(world, runId);
  const forged = await raw(
    world,
    'POST',
    '/api/agents',
    json({ hitId, assignmentId: '3FORGEDASSIGNMENT0000000000Z', workerId: 'AFORGED0000003' }),
  );
  const worker = world.worker();
  await worker.accept({ hitId });
  const registered = await worker.register();
  const submitted =
    registered.status === 200
      ? await worker.submitToServer({ label: 'positive', comment: 'the real worker' })
      : undefined;
  await worker.submitToMTurk({ label: 'positive', comment: 'the real worker' });
  return {
    assignmentId: worker.assignmentId!,
    outcome: {
      target: 'task server',
      name: 'register: forged assignment id on a free HIT, then a real worker takes that HIT',
      expected: "the real worker's unit completes and is reviewed",
      got: `forged registration ${describe(forged)}; real worker's registration ${registered.status}${submitted === undefined ? '' : `, submit ${submitted.status}`}`,
      ok: true,
    },
  };
}
