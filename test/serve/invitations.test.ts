// Requester-made invitations: a requester invites its own crowd through the signed
// `HitstateServe.*` operations (and `hitstate serve invite --endpoint --profile`), scoped to it:
// only its own qualification types can be granted, and it lists only its own invitations. A
// worker signing up with such a link gets the grant. Unsigned or malformed calls are refused.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQualificationTypeCommand } from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EXIT } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { callServeApi } from '../../src/simulator/serve/invitations-api.js';
import { captureIO } from '../cli/helpers.js';
import { Browser, startServe, type ServeWorld } from './helpers.js';

const Invites = suite<{ w: ServeWorld }>('serve requester-made invitations', {} as { w: ServeWorld });
Invites.before(async (ctx) => {
  ctx.w = await startServe({ lab: 10, other: 10 });
});
Invites.after(async ({ w }) => {
  await w.close();
});

const as = (w: ServeWorld, name: string) => ({
  accessKeyId: w.keys[name]!.accessKeyId,
  secretAccessKey: w.keys[name]!.secretAccessKey,
});
const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (err: Error) => err,
  );
  assert.ok(e, 'refused');
  return e!;
};

Invites('a requester invites its own crowd; the sign-up grants its qualification', async ({ w }) => {
  const q = await w.client('lab').send(
    new CreateQualificationTypeCommand({
      Name: 'Panel',
      Description: 'Our panel',
      QualificationTypeStatus: 'Active',
    }),
  );
  const typeId = q.QualificationType!.QualificationTypeId!;
  const made = await callServeApi(w.server.url, as(w, 'lab'), 'CreateWorkerInvitations', {
    Count: 2,
    QualificationTypeId: typeId,
    IntegerValue: 5,
    ExpiresInDays: 7,
  });
  const invitations = made.Invitations as { InvitationCode: string; SignUpUrl: string; ExpiresAt: number }[];
  assert.is(invitations.length, 2);
  assert.match(invitations[0]!.SignUpUrl, /^https:\/\/crowd\.example\.org\/signup\?invite=[A-Z0-9]{16}$/);
  assert.ok(invitations[0]!.ExpiresAt > Date.now() / 1000 + 6 * 86_400);

  // Another requester can neither grant lab's type nor see lab's invitations.
  const foreign = await refusal(
    callServeApi(w.server.url, as(w, 'other'), 'CreateWorkerInvitations', { Count: 1, QualificationTypeId: typeId }),
  );
  assert.is(foreign.name, 'ValidationException');
  assert.match(foreign.message, /does not exist/);
  assert.equal((await callServeApi(w.server.url, as(w, 'other'), 'ListWorkerInvitations', {})).Invitations, []);

  const worker = new Browser(w.server.url);
  const code = invitations[0]!.InvitationCode;
  assert.is((await worker.signUp(code, 'panelist')).status, 303);
  const listed = (await callServeApi(w.server.url, as(w, 'lab'), 'ListWorkerInvitations', {})).Invitations as {
    InvitationCode: string;
    WorkerId: string | null;
  }[];
  assert.is(listed.length, 2);
  const used = listed.find((i) => i.InvitationCode === code)!;
  assert.match(String(used.WorkerId), /^A[A-Z0-9]{13}$/);
  const grant = w.server.engine.state.grant(typeId, used.WorkerId!);
  assert.is(grant?.status, 'Granted');
  assert.is(grant?.integerValue, 5);
});

Invites('bad input: counts, values, unsigned calls, unknown operations', async ({ w }) => {
  for (const [input, field] of [
    [{ Count: 0 }, 'Count'],
    [{ Count: 5000 }, 'Count'],
    [{ Count: 1, ExpiresInDays: -1 }, 'ExpiresInDays'],
    [{ Count: 1, IntegerValue: 3 }, 'IntegerValue'],
  ] as const) {
    const e = await refusal(callServeApi(w.server.url, as(w, 'lab'), 'CreateWorkerInvitations', input));
    assert.is(e.name, 'ValidationException');
    assert.ok(e.message.startsWith(`${field}:`), e.message);
  }
  const unsigned = await fetch(w.server.url, {
    method: 'POST',
    headers: { 'x-amz-target': 'HitstateServe.CreateWorkerInvitations', 'content-type': 'application/x-amz-json-1.1' },
    body: '{"Count":5}',
  });
  assert.is(unsigned.status, 403);
  assert.is(((await unsigned.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  const unknown = await refusal(
    callServeApi(w.server.url, as(w, 'lab'), 'DeleteEverything' as 'ListWorkerInvitations', {}),
  );
  assert.is(unknown.name, 'UnknownOperationException');
});

Invites('hitstate serve invite --endpoint --profile: a requester from the command line', async ({ w }) => {
  const dir = mkdtempSync(join(tmpdir(), 'hitstate-profile-'));
  const saved = { creds: process.env.AWS_SHARED_CREDENTIALS_FILE, config: process.env.AWS_CONFIG_FILE };
  try {
    writeFileSync(
      join(dir, 'credentials'),
      `[labp]\naws_access_key_id = ${w.keys.lab!.accessKeyId}\naws_secret_access_key = ${w.keys.lab!.secretAccessKey}\n`,
    );
    writeFileSync(join(dir, 'config'), '');
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
    process.env.AWS_CONFIG_FILE = join(dir, 'config');
    const io = captureIO({ cwd: dir });
    const code = await main(
      ['serve', 'invite', '--endpoint', w.server.url, '--profile', 'labp', '--count', '3', '--expires', '2'],
      io,
    );
    assert.is(code, EXIT.ok, io.stderr());
    assert.is(io.stdout().trim().split('\n').length, 3);
    assert.match(io.stdout(), /^https:\/\/crowd\.example\.org\/signup\?invite=/);
  } finally {
    if (saved.creds === undefined) delete process.env.AWS_SHARED_CREDENTIALS_FILE;
    else process.env.AWS_SHARED_CREDENTIALS_FILE = saved.creds;
    if (saved.config === undefined) delete process.env.AWS_CONFIG_FILE;
    else process.env.AWS_CONFIG_FILE = saved.config;
    rmSync(dir, { recursive: true, force: true });
  }
});

Invites.run();
