// The worker site's own forms: a QuestionForm HIT rendered as a form on the site (free text and
// choices, every text escaped) whose answers reach the requester as QuestionFormAnswers through
// the real SDK; and qualification requests: a worker asks for a requester's qualification (with
// its test) from the HIT that needs it, and the requester lists, accepts and rejects them with
// the real SDK. CSRF and bad choices are refused and change nothing.
import {
  AcceptQualificationRequestCommand,
  CreateHITCommand,
  CreateQualificationTypeCommand,
  GetAssignmentCommand,
  ListQualificationRequestsCommand,
  RejectQualificationRequestCommand,
} from '@aws-sdk/client-mturk';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { openDatabase } from '../../src/simulator/serve/db.js';
import { createInvites } from '../../src/simulator/serve/worker-accounts.js';
import { Browser, hitInput, startServe, type ServeWorld } from './helpers.js';

const FORM_NS = 'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd';
const questionForm = (title: string) =>
  `<QuestionForm xmlns="${FORM_NS}">
<Question><QuestionIdentifier>why</QuestionIdentifier><DisplayName>${title}</DisplayName><IsRequired>true</IsRequired>
<QuestionContent><Text>Why?</Text></QuestionContent><AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question>
<Question><QuestionIdentifier>color</QuestionIdentifier><QuestionContent><Text>Pick a colour</Text></QuestionContent>
<AnswerSpecification><SelectionAnswer><StyleSuggestion>radiobutton</StyleSuggestion><Selections>
<Selection><SelectionIdentifier>red</SelectionIdentifier><Text>Red</Text></Selection>
<Selection><SelectionIdentifier>blue</SelectionIdentifier><Text>Blue &amp; more</Text></Selection>
</Selections></SelectionAnswer></AnswerSpecification></Question>
</QuestionForm>`;

interface Ctx {
  w: ServeWorld;
  invites: string[];
}
const Forms = suite<Ctx>('serve worker site forms', {} as Ctx);

Forms.before(async (ctx) => {
  ctx.w = await startServe({ lab: 100 });
  const db = openDatabase(ctx.w.dbFile);
  ctx.invites = createInvites(db, { count: 3 });
  db.close();
});
Forms.after(async ({ w }) => {
  await w.close();
});

Forms('QuestionForm: a form on the site; answers arrive as QuestionFormAnswers', async ({ w, invites }) => {
  const lab = w.client('lab');
  const created = await lab.send(
    new CreateHITCommand(
      hitInput({ Title: 'Survey', Question: questionForm('Tell us &lt;b&gt;why&lt;/b&gt;'), MaxAssignments: 2 }),
    ),
  );
  const fay = new Browser(w.server.url);
  assert.is((await fay.signUp(invites[0]!, 'fay')).status, 303);
  const preview = await fay.go(`/preview?group=${created.HIT!.HITTypeId}`);
  assert.is(preview.status, 200);
  assert.ok(preview.text.includes('Tell us &lt;b&gt;why&lt;/b&gt;'), 'question text escaped');
  assert.not.ok(preview.text.includes('<b>why</b>'));
  assert.match(preview.text, /<input type="radio" name="color" value="blue" id="q1-1" disabled> Blue &amp; more/);
  assert.not.ok(/<iframe/.test(preview.text), "no frame: the form is the site's own");
  const accepted = await fay.go('/accept', {
    form: { csrf: fay.csrfOf(preview.text), group: created.HIT!.HITTypeId! },
  });
  assert.is(accepted.status, 303);
  const task = await fay.go(accepted.location!);
  const action = /<form method="post" action="(\/submit\/[^"]+\/mturk\/externalSubmit)">/.exec(task.text)?.[1];
  assert.ok(action, task.text.slice(0, 1500));
  const assignmentId = /name="assignmentId" value="([^"]+)"/.exec(task.text)![1]!;
  // A choice that is not the question's: refused, nothing submitted.
  const bad = await fay.go(action!, { form: { assignmentId, why: 'x', color: 'green' } });
  assert.is(bad.status, 400);
  assert.is(w.server.engine.state.assignments.get(assignmentId)?.status, 'Accepted');
  const ok = await fay.go(action!, { form: { assignmentId, why: 'Because <it> is', color: 'blue' } });
  assert.is(ok.status, 200);
  const got = await lab.send(new GetAssignmentCommand({ AssignmentId: assignmentId }));
  assert.match(
    got.Assignment!.Answer!,
    /<Answer><QuestionIdentifier>why<\/QuestionIdentifier><FreeText>Because &lt;it&gt; is<\/FreeText><\/Answer><Answer><QuestionIdentifier>color<\/QuestionIdentifier><SelectionIdentifier>blue<\/SelectionIdentifier><\/Answer>/,
  );
});

Forms(
  'qualification requests: asked from the HIT, decided by the requester through the SDK',
  async ({ w, invites }) => {
    const lab = w.client('lab');
    const trained = await lab.send(
      new CreateQualificationTypeCommand({
        Name: 'Colour <trained>',
        Description: 'Knows colours',
        QualificationTypeStatus: 'Active',
        Test: questionForm('Why colours?'),
        TestDurationInSeconds: 600,
      }),
    );
    const trainedId = trained.QualificationType!.QualificationTypeId!;
    const other = await lab.send(
      new CreateQualificationTypeCommand({
        Name: 'Other',
        Description: 'Another',
        QualificationTypeStatus: 'Active',
        RetryDelayInSeconds: 60,
      }),
    );
    const otherId = other.QualificationType!.QualificationTypeId!;
    const hidden = await lab.send(
      new CreateQualificationTypeCommand({
        Name: 'Hidden',
        Description: 'No HIT asks',
        QualificationTypeStatus: 'Active',
      }),
    );
    const hit = await lab.send(
      new CreateHITCommand(
        hitInput({
          Title: 'Colour task',
          QualificationRequirements: [
            { QualificationTypeId: trainedId, Comparator: 'Exists' },
            { QualificationTypeId: otherId, Comparator: 'DoesNotExist' },
          ],
        }),
      ),
    );
    const gus = new Browser(w.server.url);
    assert.is((await gus.signUp(invites[1]!, 'gus')).status, 303);
    const preview = await gus.go(`/preview?group=${hit.HIT!.HITTypeId}`);
    assert.match(preview.text, /You cannot accept this HIT/);
    assert.ok(preview.text.includes(`/qualification?type=${trainedId}`), 'a link to ask for it');
    assert.ok(preview.text.includes('Colour &lt;trained&gt;'));

    assert.is((await gus.go(`/qualification?type=${hidden.QualificationType!.QualificationTypeId}`)).status, 404);
    const page = await gus.go(`/qualification?type=${trainedId}`);
    assert.is(page.status, 200);
    assert.match(page.text, /<h2>Test<\/h2>/);
    assert.match(page.text, /name="color" value="red"/);
    const noCsrf = await gus.go('/qualification', { form: { type: trainedId, why: 'x', color: 'red' } });
    assert.is(noCsrf.status, 403);
    const badChoice = await gus.go('/qualification', {
      form: { csrf: gus.csrfOf(page.text), type: trainedId, why: 'x', color: 'purple' },
    });
    assert.is(badChoice.status, 400);
    assert.is((await lab.send(new ListQualificationRequestsCommand({}))).NumResults, 0, 'nothing was asked yet');
    const sent = await gus.go('/qualification', {
      form: { csrf: gus.csrfOf(page.text), type: trainedId, why: 'I paint', color: 'red' },
    });
    assert.is(sent.status, 303);
    assert.match((await gus.go(sent.location!)).text, /<strong>Pending<\/strong>/);

    const listed = await lab.send(new ListQualificationRequestsCommand({ QualificationTypeId: trainedId }));
    assert.is(listed.NumResults, 1);
    const request = listed.QualificationRequests![0]!;
    assert.match(request.Answer!, /<FreeText>I paint<\/FreeText>.*<SelectionIdentifier>red<\/SelectionIdentifier>/);
    await lab.send(
      new AcceptQualificationRequestCommand({
        QualificationRequestId: request.QualificationRequestId,
        IntegerValue: 90,
      }),
    );
    const after = await gus.go(`/preview?group=${hit.HIT!.HITTypeId}`);
    assert.match(after.text, /Accept and work/, 'qualified now');

    // Another type: asked, rejected with a reason the worker sees.
    const second = await gus.go(`/qualification?type=${otherId}`);
    assert.is((await gus.go('/qualification', { form: { csrf: gus.csrfOf(second.text), type: otherId } })).status, 303);
    const pending = await lab.send(new ListQualificationRequestsCommand({ QualificationTypeId: otherId }));
    await lab.send(
      new RejectQualificationRequestCommand({
        QualificationRequestId: pending.QualificationRequests![0]!.QualificationRequestId,
        Reason: 'Not <now>',
      }),
    );
    const dash = await gus.go('/dashboard');
    assert.match(dash.text, /Qualification requests/);
    assert.match(dash.text, /Rejected<\/td><td>Not &lt;now&gt;/);
    assert.match(dash.text, /Colour &lt;trained&gt;<\/a><\/td><td>Granted/);
    // Asking again before the retry delay: refused with the reason, not an error page.
    const again = await gus.go('/qualification', { form: { csrf: gus.csrfOf(dash.text), type: otherId } });
    assert.is(again.status, 409);
    assert.match(again.text, /retry delay/);
  },
);

Forms.run();
