// The worker site of `hitstate serve` over real HTTP: invitation sign-up (external participant id,
// granted qualification), cookie flags, sign-in rate limit, CSRF and foreign-Origin refusals, the
// HIT list (escaped requester text, unqualified workers told why), accept, the task with its submit
// capability, another worker unable to view, return or submit the assignment, submission, approval
// by the requester through the SDK, the dashboard's earnings, sign-out everywhere, security
// headers, and HTMLQuestion served only from the sandboxed content origin.
import { ApproveAssignmentCommand, CreateHITCommand, CreateQualificationTypeCommand } from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../../src/simulator/serve/db.js';
import { makePayoutBatch } from '../../src/simulator/serve/ledger.js';
import { createInvites } from '../../src/simulator/serve/worker-accounts.js';
import { Browser, externalQuestion, hitInput, startServe, type ServeWorld } from './helpers.js';

const PUBLIC = 'https://crowd.example.org';

const Site = suite<{ w: ServeWorld; invites: string[]; qualId: string }>('serve worker site');

Site.before(async (ctx) => {
  ctx.w = await startServe({ lab: 100 }, { publicUrl: PUBLIC });
  const q = await ctx.w.client('lab').send(
    new CreateQualificationTypeCommand({
      Name: 'Trained',
      Description: 'Passed training',
      QualificationTypeStatus: 'Active',
    }),
  );
  ctx.qualId = q.QualificationType!.QualificationTypeId!;
  const db = openDatabase(ctx.w.dbFile);
  ctx.invites = createInvites(db, { count: 3, qualification: { qualificationTypeId: ctx.qualId, value: 1 } });
  db.close();
});
Site.after(async ({ w }) => {
  await w.close();
});

Site('sign-up, the HIT list, accept, submit, approval, earnings; nobody else can touch the assignment', async (ctx) => {
  const { w, invites } = ctx;
  const alice = new Browser(w.server.url);
  const signed = await alice.signUp(invites[0]!, 'alice', '&PROLIFIC_PID=5f1e2d3c');
  assert.is(signed.status, 303, signed.text.slice(0, 500));
  const cookie = alice.lastSetCookie.find((c) => c.startsWith('hs_session='))!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /Secure/);
  assert.match(cookie, /SameSite=Lax/);
  const db = openDatabase(w.dbFile);
  const acct = db.prepare("SELECT worker_id, external_id FROM worker_accounts WHERE username = 'alice'").get() as {
    worker_id: string;
    external_id: string;
  };
  db.close();
  assert.match(acct.worker_id, /^A[A-Z0-9]{13}$/);
  assert.is(acct.external_id, '5f1e2d3c');
  const reused = await new Browser(w.server.url).signUp(invites[0]!, 'mallory');
  assert.is(reused.status, 400);
  assert.match(reused.text, /already been used/);

  const hit = await w.client('lab').send(
    new CreateHITCommand(
      hitInput({
        Title: 'Label <img src=x onerror=alert(1)> cats',
        Reward: '0.40',
        Question: externalQuestion('https://tasks.example.com/task?x=1'),
        QualificationRequirements: [{ QualificationTypeId: ctx.qualId, Comparator: 'Exists' }],
      }),
    ),
  );
  const groupId = hit.HIT!.HITTypeId!;
  const list = await alice.go('/work');
  assert.is(list.status, 200);
  assert.ok(list.text.includes('Label &lt;img src=x onerror=alert(1)&gt; cats'));
  assert.not.ok(list.text.includes('<img src=x'));
  assert.match(list.text, /You qualify/);
  for (const h of ['content-security-policy', 'x-content-type-options', 'referrer-policy'])
    assert.ok(list.headers.get(h), `${h} on every page`);
  assert.match(list.headers.get('content-security-policy')!, /frame-ancestors 'none'/);

  // Bob signs up with an invitation that grants no qualification: he is told why, never an error page.
  const db2 = openDatabase(w.dbFile);
  const [plain] = createInvites(db2, { count: 1 });
  db2.close();
  const bob = new Browser(w.server.url);
  assert.is((await bob.signUp(plain!, 'bob')).status, 303);
  const bobList = await bob.go('/work');
  assert.match(bobList.text, /Not available to you/);
  const bobPreview = await bob.go(`/preview?group=${groupId}`);
  assert.is(bobPreview.status, 200);
  assert.match(bobPreview.text, /You cannot accept this HIT/);

  const preview = await alice.go(`/preview?group=${groupId}`);
  const csrf = alice.csrfOf(preview.text);
  assert.is((await alice.go('/accept', { form: { group: groupId } })).status, 403, 'no CSRF token');
  assert.is(
    (await alice.go('/accept', { form: { csrf, group: groupId }, origin: 'https://evil.example' })).status,
    403,
  );
  const accepted = await alice.go('/accept', { form: { csrf, group: groupId } });
  assert.is(accepted.status, 303, accepted.text.slice(0, 300));
  const assignmentId = new URL(accepted.location!, PUBLIC).searchParams.get('assignment')!;
  const task = await alice.go(`/task?assignment=${assignmentId}`);
  const src = /<iframe title="Task" src="([^"]+)"/.exec(task.text)![1]!.replace(/&amp;/g, '&');
  const frame = new URL(src);
  assert.is(frame.origin, 'https://tasks.example.com');
  assert.is(frame.searchParams.get('assignmentId'), assignmentId);
  const turkSubmitTo = frame.searchParams.get('turkSubmitTo')!;
  assert.match(turkSubmitTo, /^https:\/\/crowd\.example\.org\/submit\/[A-Za-z0-9_-]{43}$/);

  // Another worker: cannot view, return or submit alice's assignment; nothing changes.
  const carol = new Browser(w.server.url);
  assert.is((await carol.signUp(invites[1]!, 'carol')).status, 303);
  assert.is((await carol.go(`/task?assignment=${assignmentId}`)).status, 404);
  const carolCsrf = carol.csrfOf((await carol.go('/work')).text);
  assert.is((await carol.go('/return', { form: { csrf: carolCsrf, assignment: assignmentId } })).status, 404);
  const forged = await fetch(`${w.server.url}/submit/${'A'.repeat(43)}/mturk/externalSubmit`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ assignmentId, answer: 'stolen' }).toString(),
  });
  assert.is(forged.status, 403);
  const noCookie = await fetch(`${w.server.url}/return`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
    body: new URLSearchParams({ assignment: assignmentId }).toString(),
  });
  assert.is(noCookie.status, 403);
  assert.is(w.server.engine.state.assignments.get(assignmentId)!.status, 'Accepted', 'nothing changed');

  // The task's form posts to turkSubmitTo + /mturk/externalSubmit (from its own origin, no cookie).
  const submitted = await fetch(`${w.server.url}${new URL(turkSubmitTo).pathname}/mturk/externalSubmit`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://tasks.example.com' },
    body: new URLSearchParams({ assignmentId, label: 'cat' }).toString(),
  });
  assert.is(submitted.status, 200);
  assert.is(w.server.engine.state.assignments.get(assignmentId)!.status, 'Submitted');
  const again = await fetch(`${w.server.url}${new URL(turkSubmitTo).pathname}/mturk/externalSubmit`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ assignmentId, label: 'dog' }).toString(),
  });
  assert.is(again.status, 409);

  await w
    .client('lab')
    .send(new ApproveAssignmentCommand({ AssignmentId: assignmentId, RequesterFeedback: 'Great <b>work</b>' }));
  const dash = await alice.go('/dashboard');
  assert.match(dash.text, /Approved<\/th><td>\$0\.40/);
  assert.match(dash.text, /Owed to you<\/th><td><strong>\$0\.40/);
  assert.ok(dash.text.includes('Great &lt;b&gt;work&lt;/b&gt;'));
  assert.match(dash.text, /Trained: 1/);

  const ledgerDb = openDatabase(w.dbFile);
  const batch = makePayoutBatch(ledgerDb, 0);
  ledgerDb.close();
  const line = batch!.lines.find((l) => l.account === 'alice');
  assert.equal(line, { workerId: acct.worker_id, account: 'alice', externalId: '5f1e2d3c', amountCents: 40, items: 1 });

  // Sign out ends every session of the worker.
  const other = new Browser(w.server.url);
  other.cookies = new Map(alice.cookies);
  const out = await alice.go('/signout', { form: { csrf: alice.csrfOf(dash.text) } });
  assert.is(out.status, 303);
  const after = await other.go('/dashboard');
  assert.is(after.status, 303);
  assert.match(after.location!, /^\/signin/);
});

Site('sign-in: wrong password refused, then rate-limited per account; CSRF needed', async ({ w, invites }) => {
  const dave = new Browser(w.server.url);
  assert.is((await dave.signUp(invites[2]!, 'dave')).status, 303);
  const b = new Browser(w.server.url);
  const page = await b.go('/signin');
  const csrf = b.csrfOf(page.text);
  assert.is((await b.go('/signin', { form: { username: 'dave', password: 'correct horse battery' } })).status, 403);
  for (let i = 0; i < 5; i++) {
    const r = await b.go('/signin', { form: { csrf, username: 'dave', password: `wrong ${i}` } });
    assert.is(r.status, 401);
    assert.match(r.text, /username or password is wrong/);
  }
  const limited = await b.go('/signin', { form: { csrf, username: 'dave', password: 'correct horse battery' } });
  assert.is(limited.status, 429);
  assert.ok(limited.headers.get('retry-after'));
  const unknown = await b.go('/signin', { form: { csrf, username: 'nobody', password: 'whatever whatever' } });
  assert.is(unknown.status, 401);
});

Site('HTMLQuestion: only from the content origin, sandboxed without same-origin', async ({ w, invites }) => {
  const html = `<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA[<!DOCTYPE html><html><body><form method="post" action="https://www.mturk.com/mturk/externalSubmit"><input name="a"><script>fetch('/_sim/state')</script></form></body></html>]]></HTMLContent><FrameHeight>400</FrameHeight></HTMLQuestion>`;
  const hit = await w.client('lab').send(new CreateHITCommand(hitInput({ Title: 'HTML task', Question: html })));
  const db = openDatabase(w.dbFile);
  const [code] = createInvites(db, { count: 1 });
  db.close();
  const erin = new Browser(w.server.url);
  assert.is((await erin.signUp(code!, 'erin')).status, 303);
  assert.ok(invites.length === 3);
  const preview = await erin.go(`/preview?group=${hit.HIT!.HITTypeId}`);
  const iframe = /<iframe title="Task" src="([^"]+)" height="400" sandbox="([^"]+)"/.exec(preview.text);
  assert.ok(iframe, preview.text.slice(0, 2000));
  assert.is(iframe![2], 'allow-scripts allow-forms');
  const src = new URL(iframe![1]!.replace(/&amp;/g, '&'));
  assert.is(src.origin, new URL(w.server.contentListenUrl).origin);
  assert.is.not(src.origin, new URL(w.server.url).origin);
  const content = await fetch(src);
  assert.match(content.headers.get('content-security-policy')!, /^sandbox allow-scripts allow-forms/);
  const body = await content.text();
  assert.not.ok(body.includes('www.mturk.com'));
  const onSite = await fetch(`${w.server.url}/question/${hit.HIT!.HITId}`);
  assert.is(onSite.status, 404, 'requester HTML is never served from the site origin');
});

Site('an oversized sign-in form gets 413, an HTML page; the site keeps serving', async ({ w }) => {
  const b = new Browser(w.server.url);
  const page = await b.go('/signin');
  const r = await b.go('/signin', {
    form: { csrf: b.csrfOf(page.text), username: 'x', password: 'y'.repeat(2 * 1024 * 1024) },
  });
  assert.is(r.status, 413);
  assert.match(r.headers.get('content-type')!, /text\/html/);
  assert.is((await b.go('/signin')).status, 200);
});

Site('open sign-up (operator setting): an account without an invitation; off by default', async ({ w }) => {
  const closed = await new Browser(w.server.url).signUp('', 'nobody-invited');
  assert.is(closed.status, 400);
  assert.match(closed.text, /invitation code does not exist|needs an invitation/);
  const open = await startServe({ lab: 1 }, { publicUrl: PUBLIC, openSignUp: true });
  try {
    const b = new Browser(open.server.url);
    const page = await b.go('/signup');
    assert.match(page.text, /Invitation code \(if you have one\)/);
    const r = await b.go('/signup', {
      form: { csrf: b.csrfOf(page.text), invite: '', username: 'walkin', password: 'correct horse battery' },
    });
    assert.is(r.status, 303);
    assert.is((await b.go('/dashboard')).status, 200);
  } finally {
    await open.close();
  }
});

Site.run();
