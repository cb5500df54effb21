import {
  CreateHITCommand,
  CreateQualificationTypeCommand,
  CreateWorkerBlockCommand,
  GetAssignmentCommand,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { XMLParser } from 'fast-xml-parser';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Simulator } from '../../src/simulator/index.js';
import { clientFor, externalQuestion, hitInput, startSim } from './helpers.js';

const Pages = suite<{ sim: Simulator; mturk: MTurkClient }>('simulator worker pages', {} as never);

Pages.before.each(async (ctx) => {
  ctx.sim = await startSim();
  ctx.mturk = clientFor(ctx.sim);
});
Pages.after.each(async (ctx) => {
  ctx.mturk.destroy();
  await ctx.sim.close();
});

const NS = 'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas';

async function page(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; html: string; location: string | null }> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, html: await res.text(), location: res.headers.get('location') };
}

const form = (fields: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

function iframeSrc(html: string): URL {
  const m = /<iframe[^>]*src="([^"]+)"/.exec(html);
  assert.ok(m, 'the page has an iframe');
  return new URL(m![1]!.replace(/&amp;/g, '&'));
}

Pages(
  'when a worker previews, accepts and submits through the pages then the task frame gets the MTurk parameters and the answer is stored',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(
      new CreateHITCommand(hitInput({ Question: externalQuestion('http://127.0.0.1:9/task?lang=en&mode=a b') })),
    );
    const group = HIT!.HITTypeId!;
    const preview = await page(`${sim.url}/mturk/preview?groupId=${group}&workerId=AWORKERONE`);
    assert.is(preview.status, 200);
    const previewFrame = iframeSrc(preview.html);
    assert.is(previewFrame.origin + previewFrame.pathname, 'http://127.0.0.1:9/task');
    assert.is(previewFrame.searchParams.get('lang'), 'en');
    assert.is(previewFrame.searchParams.get('mode'), 'a b');
    assert.is(previewFrame.searchParams.get('assignmentId'), 'ASSIGNMENT_ID_NOT_AVAILABLE');
    assert.is(previewFrame.searchParams.get('hitId'), HIT!.HITId);
    assert.match(preview.html, /<form method="post" action="\/mturk\/accept">/);

    const accepted = await page(`${sim.url}/mturk/accept`, form({ hitId: HIT!.HITId!, workerId: 'AWORKERONE' }));
    assert.is(accepted.status, 303);
    assert.match(accepted.location!, /^\/mturk\/task\?assignmentId=[A-Z0-9]{30}&workerId=AWORKERONE$/);
    const task = await page(`${sim.url}${accepted.location}`);
    const frame = iframeSrc(task.html);
    const assignmentId = frame.searchParams.get('assignmentId')!;
    assert.match(assignmentId, /^[A-Z0-9]{30}$/);
    assert.equal(
      [frame.searchParams.get('hitId'), frame.searchParams.get('workerId'), frame.searchParams.get('turkSubmitTo')],
      [HIT!.HITId, 'AWORKERONE', sim.url],
    );
    assert.match(task.html, /action="\/mturk\/return"/);

    const json = JSON.stringify({ label: 'cat', note: '<b>"quoted" & done</b>' });
    const submitted = await page(
      `${frame.searchParams.get('turkSubmitTo')}/mturk/externalSubmit`,
      form({
        assignmentId,
        hitId: 'IGNORED',
        workerId: 'AWORKERONE',
        turkSubmitTo: sim.url,
        hitstate_submission: json,
        comment: 'fine',
      }),
    );
    assert.is(submitted.status, 200);
    assert.match(submitted.html, /HIT submitted/);
    const { Assignment } = await mturk.send(new GetAssignmentCommand({ AssignmentId: assignmentId }));
    assert.is(Assignment!.AssignmentStatus, 'Submitted');
    assert.match(
      Assignment!.Answer!,
      new RegExp(
        `^<\\?xml version="1.0" encoding="ASCII"\\?><QuestionFormAnswers xmlns="${NS}/2005-10-01/QuestionFormAnswers.xsd">`,
      ),
    );
    const parsed = new XMLParser({ parseTagValue: false, isArray: (name) => name === 'Answer' }).parse(
      Assignment!.Answer!,
    );
    const answers = parsed.QuestionFormAnswers.Answer as { QuestionIdentifier: string; FreeText: string }[];
    assert.equal(
      answers.map((a) => a.QuestionIdentifier),
      ['hitstate_submission', 'comment'],
    );
    assert.equal(JSON.parse(answers[0]!.FreeText), JSON.parse(json));
    const again = await page(`${sim.url}/mturk/externalSubmit`, form({ assignmentId, x: '1' }));
    assert.is(again.status, 409);
    assert.match(again.html, /it is Submitted/);
  },
);

Pages(
  'when a submission is malformed or from preview then it gets a clear 4xx page and nothing is stored',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput()));
    const missing = await page(`${sim.url}/mturk/externalSubmit`, form({ answer: 'x' }));
    assert.is(missing.status, 400);
    assert.match(missing.html, /must contain an assignmentId/);
    const preview = await page(
      `${sim.url}/mturk/externalSubmit`,
      form({ assignmentId: 'ASSIGNMENT_ID_NOT_AVAILABLE', answer: 'x' }),
    );
    assert.is(preview.status, 400);
    assert.match(preview.html, /preview mode/);
    const unknown = await page(
      `${sim.url}/mturk/externalSubmit`,
      form({ assignmentId: '3UNKNOWNUNKNOWNUNKNOWNUNKNOWN1' }),
    );
    assert.is(unknown.status, 404);
    const json = await page(`${sim.url}/mturk/externalSubmit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    assert.is(json.status, 400);
    const a = await sim.workers.accept('AWORKERONE', { hitId: HIT!.HITId! });
    const multipart = new FormData();
    multipart.append('assignmentId', a.assignmentId);
    multipart.append('choice', 'one');
    multipart.append('choice', 'two');
    const res = await fetch(`${sim.url}//mturk/externalSubmit`, { method: 'POST', body: multipart });
    assert.is(res.status, 200);
    const answer = sim.inspect().accounts.AKIDREQUESTERONE!.hits[0]!.assignments[0]!.answer!;
    assert.is((answer.match(/<QuestionIdentifier>choice<\/QuestionIdentifier>/g) ?? []).length, 2);
    assert.not.match(answer, /assignmentId/);
  },
);

Pages('when HIT text holds markup then every page escapes it', async ({ sim, mturk }) => {
  const evil = '<script>alert("x")</script> & \'quotes\'';
  const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ Title: evil, Description: evil, Reward: '0.10' })));
  const index = await page(`${sim.url}/mturk?workerId=AWORKERONE`);
  const preview = await page(`${sim.url}/mturk/preview?groupId=${HIT!.HITTypeId}&workerId=AWORKERONE`);
  for (const html of [index.html, preview.html]) {
    assert.not.match(html, /<script>alert/);
    assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; &#39;quotes&#39;/);
  }
  const badWorker = await page(`${sim.url}/mturk?workerId=${encodeURIComponent('<img src=x>')}`);
  assert.is(badWorker.status, 400);
  assert.not.match(badWorker.html, /<img src=x>/);
});

Pages(
  'when a worker returns from the task page then the slot is free again and they land on the preview',
  async ({ sim, mturk }) => {
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput()));
    const accepted = await page(`${sim.url}/mturk/accept`, form({ groupId: HIT!.HITTypeId!, workerId: 'AWORKERONE' }));
    const assignmentId = /assignmentId=([A-Z0-9]+)/.exec(accepted.location!)![1]!;
    const returned = await page(`${sim.url}/mturk/return`, form({ assignmentId }));
    assert.is(returned.status, 303);
    assert.is(returned.location, `/mturk/preview?groupId=${HIT!.HITTypeId}&workerId=AWORKERONE`);
    assert.is(sim.inspect().accounts.AKIDREQUESTERONE!.hits[0]!.status, 'Assignable');
    const after = await page(`${sim.url}/mturk/task?assignmentId=${assignmentId}`);
    assert.match(after.html, /This assignment is Returned/);
    const twice = await page(`${sim.url}/mturk/return`, form({ assignmentId }));
    assert.is(twice.status, 409);
  },
);

Pages(
  'when qualifications guard a HIT then unqualified workers cannot discover, preview or accept it as configured',
  async ({ sim, mturk }) => {
    const { QualificationType } = await mturk.send(
      new CreateQualificationTypeCommand({ Name: 'Expert', Description: 'd', QualificationTypeStatus: 'Active' }),
    );
    const q = QualificationType!.QualificationTypeId!;
    const hidden = (
      await mturk.send(
        new CreateHITCommand(
          hitInput({
            Title: 'Hidden group',
            QualificationRequirements: [
              { QualificationTypeId: q, Comparator: 'Exists', ActionsGuarded: 'DiscoverPreviewAndAccept' },
            ],
          }),
        ),
      )
    ).HIT!;
    const noPreview = (
      await mturk.send(
        new CreateHITCommand(
          hitInput({
            Title: 'No preview group',
            QualificationRequirements: [
              { QualificationTypeId: q, Comparator: 'Exists', ActionsGuarded: 'PreviewAndAccept' },
            ],
          }),
        ),
      )
    ).HIT!;
    const acceptOnly = (
      await mturk.send(
        new CreateHITCommand(
          hitInput({
            Title: 'Accept guarded group',
            QualificationRequirements: [{ QualificationTypeId: q, Comparator: 'Exists' }],
          }),
        ),
      )
    ).HIT!;
    const index = await page(`${sim.url}/mturk?workerId=AWORKERONE`);
    assert.not.match(index.html, /Hidden group/);
    assert.match(index.html, /No preview group/);
    assert.match(index.html, /Accept guarded group/);
    const p1 = await page(`${sim.url}/mturk/preview?groupId=${noPreview.HITTypeId}&workerId=AWORKERONE`);
    assert.match(p1.html, /You cannot preview this HIT/);
    assert.not.match(p1.html, /<iframe/);
    assert.not.match(p1.html, /action="\/mturk\/accept"/);
    const p2 = await page(`${sim.url}/mturk/preview?groupId=${acceptOnly.HITTypeId}&workerId=AWORKERONE`);
    assert.match(p2.html, /<iframe/);
    assert.not.match(p2.html, /action="\/mturk\/accept"/);
    assert.match(p2.html, /does not meet the qualification requirements/);
    const forced = await page(`${sim.url}/mturk/accept`, form({ hitId: hidden.HITId!, workerId: 'AWORKERONE' }));
    assert.is(forced.status, 403);
    await mturk.send(new CreateWorkerBlockCommand({ WorkerId: 'ABLOCKED', Reason: 'r' }));
    const blocked = await page(`${sim.url}/mturk/preview?groupId=${acceptOnly.HITTypeId}&workerId=ABLOCKED`);
    assert.match(blocked.html, /is blocked/);
  },
);

Pages(
  'when a HIT is an HTMLQuestion or QuestionForm then the simulator serves the task itself',
  async ({ sim, mturk }) => {
    const html =
      '<!DOCTYPE html><form action="https://www.mturk.com/mturk/externalSubmit" method="post"><input name="q"></form>';
    const htmlQuestion = `<HTMLQuestion xmlns="${NS}/2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA[${html}]]></HTMLContent><FrameHeight>0</FrameHeight></HTMLQuestion>`;
    const { HIT } = await mturk.send(new CreateHITCommand(hitInput({ Question: htmlQuestion })));
    const a = await sim.workers.accept('AWORKERONE', { hitId: HIT!.HITId! });
    const task = await page(`${sim.url}/mturk/task?assignmentId=${a.assignmentId}`);
    const frame = iframeSrc(task.html);
    assert.is(frame.pathname, `/mturk/question/${HIT!.HITId}`);
    const served = await page(frame.toString());
    assert.match(served.html, new RegExp(`action="${sim.url}/mturk/externalSubmit"`));
    const formQuestion = `<QuestionForm xmlns="${NS}/2017-11-06/QuestionForm.xsd"><Question><QuestionIdentifier>color</QuestionIdentifier><DisplayName>Favourite colour</DisplayName></Question></QuestionForm>`;
    const { HIT: formHit } = await mturk.send(new CreateHITCommand(hitInput({ Question: formQuestion })));
    const rendered = await page(`${sim.url}/mturk/question/${formHit!.HITId}?assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE`);
    assert.match(rendered.html, /Favourite colour/);
    assert.match(rendered.html, /<textarea name="color"/);
    assert.match(rendered.html, /disabled/);
  },
);

Pages('when a page or group does not exist then the answer is a 404 page', async ({ sim }) => {
  const missing = await page(`${sim.url}/mturk/nowhere`);
  assert.is(missing.status, 404);
  assert.match(missing.html, /There is no page GET \/mturk\/nowhere/);
  const group = await page(`${sim.url}/mturk/preview?groupId=3NOGROUPNOGROUPNOGROUPNOGROUP1`);
  assert.is(group.status, 404);
});

Pages.run();
