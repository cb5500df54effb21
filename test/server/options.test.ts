import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError, type HitstateError } from '../../src/errors.js';
import { resolveTaskServerOptions, type TaskServerOptions } from '../../src/server/options.js';
import { createTaskServer } from '../../src/server/task-server.js';
import { labelTask } from '../../examples/label-task/index.js';
import { MemoryBackend } from './memory-backend.js';

const Options = suite('server options');
const SECRET = 's'.repeat(32);

function problems(options: unknown): HitstateError {
  try {
    resolveTaskServerOptions(options as TaskServerOptions);
  } catch (err) {
    if (isHitstateError(err, 'HST_ERR_CONFIG_INVALID')) return err;
    throw err;
  }
  throw new Error('expected HST_ERR_CONFIG_INVALID');
}

Options('when options are omitted then the documented defaults apply and the result is frozen', () => {
  const r = resolveTaskServerOptions({ taskPage: '<p>x</p>', secret: SECRET });
  assert.equal(
    {
      prefix: r.prefix,
      maxBodyBytes: r.maxBodyBytes,
      tokenTtlSec: r.tokenTtlSec,
      heartbeatIntervalSec: r.heartbeatIntervalSec,
      title: r.title,
      csp: r.contentSecurityPolicy,
    },
    {
      prefix: '/hitstate',
      maxBodyBytes: 262_144,
      tokenTtlSec: 86_400,
      heartbeatIntervalSec: 20,
      title: 'Task',
      csp: "base-uri 'self'; object-src 'none'",
    },
  );
  assert.ok(Object.isFrozen(r));
});

Options('when the prefix has a trailing slash or is the root then it is normalised', () => {
  assert.is(resolveTaskServerOptions({ taskPage: 'x', secret: SECRET, prefix: '/tasks/' }).prefix, '/tasks');
  assert.is(resolveTaskServerOptions({ taskPage: 'x', secret: SECRET, prefix: '/' }).prefix, '');
});

Options('when several options are invalid then one error lists every problem with its field', () => {
  const err = problems({
    taskPage: { file: '/nonexistent/task.html' },
    previewPage: 7,
    prefix: 'no-slash',
    secret: 'short',
    maxBodyBytes: -1,
    tokenTtlSec: 1.5,
    heartbeatIntervalSec: 0,
    assetsDir: '/nonexistent-dir',
    contentSecurityPolicy: 'a\r\nInjected: header',
  });
  assert.equal(
    err.details.problems?.map((p) => p.field),
    [
      'taskPage',
      'previewPage',
      'prefix',
      'secret',
      'assetsDir',
      'maxBodyBytes',
      'tokenTtlSec',
      'heartbeatIntervalSec',
      'contentSecurityPolicy',
    ],
  );
  assert.match(err.message, /secret must be at least 32 bytes/);
  assert.match(err.message, /taskPage file \/nonexistent\/task\.html does not exist/);
});

Options('when taskPage is missing then the error names it', () => {
  assert.equal(
    problems({ secret: SECRET }).details.problems?.map((p) => p.field),
    ['taskPage'],
  );
});

Options('when no secret is given then a random one is used and a process warning says so', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const a = resolveTaskServerOptions({ taskPage: 'x' });
    const b = resolveTaskServerOptions({ taskPage: 'x' });
    assert.is(a.secret.byteLength, 32);
    assert.is.not(Buffer.from(a.secret).toString('hex'), Buffer.from(b.secret).toString('hex'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.is(warnings.length, 2);
    assert.is((warnings[0] as Error & { code?: string }).code, 'HSTWRN_SERVER_SECRET_GENERATED');
  } finally {
    process.off('warning', onWarning);
  }
});

Options('when the label example is used then its files resolve and the server lists the asset route', () => {
  const server = createTaskServer(new MemoryBackend([]), { secret: SECRET, ...labelTask.serverOptions });
  assert.equal(
    server.routes.map((r) => `${r.method} ${r.path}`),
    [
      'GET /hitstate/task',
      'GET /hitstate/wrapper.js',
      'GET /hitstate/assets/*',
      'GET /hitstate/api/preview',
      'POST /hitstate/api/agents',
      'GET /hitstate/api/agents/:agentId',
      'POST /hitstate/api/agents/:agentId/submit',
      'POST /hitstate/api/agents/:agentId/heartbeat',
      'POST /hitstate/api/agents/:agentId/disconnect',
    ],
  );
  assert.is(server.taskPath, '/hitstate/task');
  assert.ok(server.matches('/hitstate/task?x=1'));
  assert.ok(server.matches('/hitstate'));
  assert.not.ok(server.matches('/hitstatex/task'));
  assert.not.ok(server.matches('/other'));
});

Options('when the clock is not a Clock then the error names it; a misspelt option is a type error', () => {
  assert.equal(problems({ taskPage: 'x', secret: SECRET, clock: 5 }).details.problems, [
    { field: 'clock', message: 'clock must be a Clock (now, setTimeout, clearTimeout), got number' },
  ]);
  // The type is the schema's: it declares only the known options, so TypeScript flags a typo.
  // @ts-expect-error `secrte` is not an option
  const misspelt: TaskServerOptions = { taskPage: 'x', secrte: SECRET };
  assert.ok(misspelt);
});

Options(
  'when an option is unknown then each is reported first, with the known ones (a typo must not be ignored)',
  () => {
    const err = problems({ taskPage: 'x', secrte: SECRET, serverLimits: { maxConnection: 5 }, tokenTtlSec: 1 });
    assert.equal(
      err.details.problems?.map((p) => p.field),
      ['secrte', 'tokenTtlSec', 'serverLimits.maxConnection'],
    );
    assert.match(err.message, /secrte is not a known option; use one of taskPage, previewPage, prefix, secret, /);
    assert.match(
      err.message,
      /serverLimits\.maxConnection is not a known option; use one of headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections, checkIntervalMs/,
    );
  },
);

Options('when options are frozen and their lists read-only then they are accepted as they are', () => {
  const options = Object.freeze({
    taskPage: 'x',
    secret: SECRET,
    submitOrigins: Object.freeze(['https://mturk.example.org/'] as const),
  }) satisfies TaskServerOptions;
  assert.equal(resolveTaskServerOptions(options).submitOrigins, ['https://mturk.example.org']);
});

Options.run();
