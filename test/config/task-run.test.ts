import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { resolveTaskRunConfig, TASK_RUN_DEFAULTS, type TaskRunConfig } from '../../src/config/task-run.js';

const Config = suite('config/task-run');
const valid = {
  title: 'Label sentences',
  description: 'Pick the sentiment of a sentence',
  reward: '0.10',
  units: [{ text: 'a' }, { text: 'b' }],
  taskUrl: 'https://tasks.example.org/hitstate/task',
};

function problemsOf(input: unknown): { field: string; message: string }[] {
  try {
    resolveTaskRunConfig(input);
  } catch (err) {
    if (isHitstateError(err, 'HST_ERR_CONFIG_INVALID')) return [...(err.details.problems ?? [])];
    throw err;
  }
  return [];
}

Config('when a minimal config is given then defaults are applied and the result is frozen', () => {
  const c = resolveTaskRunConfig(valid);
  assert.is(c.assignmentDurationSec, TASK_RUN_DEFAULTS.assignmentDurationSec);
  assert.is(c.lifetimeSec, TASK_RUN_DEFAULTS.lifetimeSec);
  assert.is(c.autoApprovalDelaySec, TASK_RUN_DEFAULTS.autoApprovalDelaySec);
  assert.equal(c.unitData, [{ text: 'a' }, { text: 'b' }]);
  assert.is(c.maxConcurrentUnits, 0);
  assert.is(c.keywords, '');
  assert.equal(c.mturk, { masters: false });
  assert.ok(Object.isFrozen(c));
});

Config('when units is a count then each unit has null task data', () => {
  assert.equal(resolveTaskRunConfig({ ...valid, units: 3 }).unitData, [null, null, null]);
});

Config('when keywords are a list then they are joined with commas', () => {
  assert.is(resolveTaskRunConfig({ ...valid, keywords: ['nlp', 'sentiment'] }).keywords, 'nlp,sentiment');
});

Config('when five different fields are wrong then all five are reported with their field', () => {
  const problems = problemsOf({
    ...valid,
    title: '',
    reward: '$1',
    assignmentDurationSec: 10,
    units: 0,
    taskUrl: 'http://example.org/task',
  });
  assert.equal(problems.map((p) => p.field).sort(), ['assignmentDurationSec', 'reward', 'taskUrl', 'title', 'units']);
  assert.ok(problems.every((p) => p.message.length > 10));
});

Config('when the message is read then it lists every problem with the fix', () => {
  try {
    resolveTaskRunConfig({ ...valid, reward: 'free', lifetimeSec: 5 });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.ok(isHitstateError(err, 'HST_ERR_CONFIG_INVALID'));
    assert.match(err.message, /2 problems/);
    assert.match(err.message, /reward: must be a dollar amount as a string like "0.50"/);
    assert.match(err.message, /lifetimeSec: must be a whole number of seconds from 30/);
  }
});

Config('when a config names __proto__, constructor or prototype then each is refused as an unknown setting', () => {
  // JSON.parse makes these own keys; valibot passes over them, so they must be reported here.
  const input = JSON.parse(
    `{"title":"Label sentences","description":"Pick the sentiment of a sentence","reward":"0.10","units":[{"text":"a"}],"taskUrl":"https://tasks.example.org/hitstate/task","__proto__":{"x":1},"constructor":{"name":"y"},"mturk":{"masters":false,"prototype":1}}`,
  );
  const problems = problemsOf(input);
  assert.equal(problems.map((p) => p.field).sort(), ['__proto__', 'constructor', 'mturk.prototype']);
  for (const p of problems) assert.match(p.message, /^is not a known setting; (known settings are|use one of) /);
  // Task data is the requester's own: such keys in a unit are data, not settings.
  assert.equal(problemsOf({ ...valid, units: [JSON.parse('{"constructor":"Ford","text":"a"}')] }), []);
});

Config('when an unknown setting is present then it is reported (a typo must not be ignored)', () => {
  assert.equal(
    problemsOf({ ...valid, rewrd: '0.1' }).map((p) => p.field),
    ['rewrd'],
  );
  assert.equal(
    problemsOf({ ...valid, mturk: { master: true } }).map((p) => p.field),
    ['mturk.master'],
  );
});

Config('when qualifications are malformed then each problem names its index', () => {
  const problems = problemsOf({
    ...valid,
    qualifications: [
      { name: 'ok', comparator: 'Exists' },
      { name: 'x', comparator: 'Bigger', value: 1 },
      { name: 'y', comparator: 'In' },
      { name: 'z', comparator: 'Exists', value: 3 },
    ],
  });
  assert.equal(
    problems.map((p) => p.field),
    ['qualifications[1].comparator', 'qualifications[2].value', 'qualifications[3].value'],
  );
});

Config('when MTurk requirements are typed then they are checked', () => {
  const c = resolveTaskRunConfig({
    ...valid,
    mturk: { minApprovalRate: 95, masters: true, locales: [{ country: 'US', subdivision: 'CA' }] },
  });
  assert.equal(c.mturk, { masters: true, minApprovalRate: 95, locales: [{ country: 'US', subdivision: 'CA' }] });
  assert.equal(resolveTaskRunConfig({ ...valid, mturk: { locales: false } }).mturk.locales, false);
  assert.equal(
    problemsOf({ ...valid, mturk: { minApprovalRate: 101, locales: [{ country: 'usa' }] } }).map((p) => p.field),
    ['mturk.minApprovalRate', 'mturk.locales[0].country'],
  );
});

Config('when the task URL is http on loopback then it is accepted for hitstate sim', () => {
  assert.is(
    resolveTaskRunConfig({ ...valid, taskUrl: 'http://127.0.0.1:8080/hitstate/task' }).taskUrl,
    'http://127.0.0.1:8080/hitstate/task',
  );
});

Config('when the config is not an object then the error says what is expected', () => {
  assert.equal(
    problemsOf([1, 2]).map((p) => p.field),
    ['(root)'],
  );
});

Config('when no page is given then the command default (null) is kept; a page is checked and frozen', () => {
  assert.is(resolveTaskRunConfig(valid).page, null);
  const c = resolveTaskRunConfig({
    ...valid,
    page: { taskPage: 'task.html', previewPage: 'preview.html', assetsDir: 'assets', title: 'Label' },
  });
  assert.equal(c.page, { taskPage: 'task.html', previewPage: 'preview.html', assetsDir: 'assets', title: 'Label' });
  assert.ok(Object.isFrozen(c.page));
});

Config('when the page setting is malformed then each problem names its field', () => {
  assert.equal(
    problemsOf({ ...valid, page: 'task.html' }).map((p) => p.field),
    ['page'],
  );
  assert.equal(
    problemsOf({ ...valid, page: { taskPage: '', assetsDir: 3, title: 4, script: 'x.js' } })
      .map((p) => p.field)
      .sort(),
    ['page.assetsDir', 'page.script', 'page.taskPage', 'page.title'],
  );
});

Config('when a qualification guards an unknown action then it is reported with the known ones', () => {
  assert.equal(
    problemsOf({ ...valid, qualifications: [{ name: 'q', comparator: 'Exists', actionsGuarded: 'Look' }] }),
    [
      {
        field: 'qualifications[0].actionsGuarded',
        message: 'must be one of Accept, DiscoverPreviewAndAccept, PreviewAndAccept, got "Look"',
      },
    ],
  );
});

Config('when a qualification has no name and a wrong value then both are reported', () => {
  assert.equal(problemsOf({ ...valid, qualifications: [{ comparator: 'In' }] }), [
    { field: 'qualifications[0].name', message: 'is required: the local qualification name' },
    { field: 'qualifications[0].value', message: 'In needs a list of integers, got undefined' },
  ]);
});

Config('when a locale is not an object then it is reported on the locale, beside the others', () => {
  assert.equal(problemsOf({ ...valid, mturk: { locales: [null, { country: 'us' }] } }), [
    { field: 'mturk.locales[0]', message: 'must be an object like {"country": "US"}' },
    { field: 'mturk.locales[1].country', message: 'must be a two-letter ISO country code like "US", got "us"' },
  ]);
});

Config('when a list has too many entries and a wrong one then the list comes first, then the entry', () => {
  const qualifications = Array.from({ length: 11 }, () => ({ name: 'q', comparator: 'Exists' }));
  assert.equal(
    problemsOf({ ...valid, qualifications: [...qualifications, { name: 'x', comparator: 'In' }] }).map((p) => p.field),
    ['qualifications', 'qualifications[11].value'],
  );
});

Config('when a config is frozen with read-only lists then its type and its check accept it', () => {
  const config = Object.freeze({
    ...valid,
    keywords: ['nlp'] as const,
    qualifications: [{ name: 'q', comparator: 'In', value: [1, 2] }] as const,
    mturk: { locales: [{ country: 'US' }] as const },
  }) satisfies TaskRunConfig;
  assert.equal(resolveTaskRunConfig(config).qualifications, [{ name: 'q', comparator: 'In', value: [1, 2] }]);
  // The type is the schema's: a misspelt setting is a type error as well as a problem at run time.
  // @ts-expect-error `rewrd` is not a setting
  const misspelt: TaskRunConfig = { ...valid, rewrd: '0.10' };
  assert.equal(
    problemsOf(misspelt).map((p) => p.field),
    ['rewrd'],
  );
});

Config.run();
