import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import {
  DEFAULT_ALLOWED_LOCALES,
  mastersQualificationId,
  SystemQualification,
  toQualificationRequirements,
  type LocalQualificationRequirement,
} from '../../src/mturk/qualifications.js';

const Requirements = suite('qualifications');
const BLOCK = '3BLOCKQUALIFICATIONTYPE0000001';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (isHitstateError(err, 'HST_ERR_CONFIG_INVALID')) return (err.details.problems ?? []).map((p) => p.field);
    throw err;
  }
  return [];
}

Requirements(
  'when a local requirement has one integer then MTurk gets IntegerValues [v] and the default ActionsGuarded',
  () => {
    const out = toQualificationRequirements(
      [
        {
          qualificationTypeId: SystemQualification.percentAssignmentsApproved,
          comparator: 'GreaterThanOrEqualTo',
          value: 95,
        },
      ],
      { environment: 'sandbox' },
    );
    assert.equal(out, [
      {
        QualificationTypeId: '000000000000000000L0',
        Comparator: 'GreaterThanOrEqualTo',
        ActionsGuarded: 'DiscoverPreviewAndAccept',
        IntegerValues: [95],
      },
    ]);
  },
);

Requirements('when In is given several values then they become IntegerValues, and Exists takes none', () => {
  const out = toQualificationRequirements(
    [
      { qualificationTypeId: BLOCK, comparator: 'In', value: [1, 2, 3] },
      { qualificationTypeId: BLOCK, comparator: 'DoesNotExist', actionsGuarded: 'Accept' },
    ],
    { environment: 'custom' },
  );
  assert.equal(out[0]!.IntegerValues, [1, 2, 3]);
  assert.equal(out[1], { QualificationTypeId: BLOCK, Comparator: 'DoesNotExist', ActionsGuarded: 'Accept' });
});

Requirements('when the environment is live then the default locale requirement is added', () => {
  const out = toQualificationRequirements([{ qualificationTypeId: BLOCK, comparator: 'DoesNotExist' }], {
    environment: 'live',
  });
  assert.is(out.length, 2);
  assert.equal(out[1], {
    QualificationTypeId: '00000000000000000071',
    Comparator: 'In',
    LocaleValues: [{ Country: 'US' }, { Country: 'CA' }, { Country: 'GB' }, { Country: 'AU' }, { Country: 'NZ' }],
    ActionsGuarded: 'DiscoverPreviewAndAccept',
  });
  assert.is(DEFAULT_ALLOWED_LOCALES.length, 5);
});

Requirements('when the environment is sandbox or custom then no locale requirement is added', () => {
  assert.equal(toQualificationRequirements([], { environment: 'sandbox' }), []);
  assert.equal(toQualificationRequirements([], { environment: 'custom' }), []);
});

Requirements('when live has its own locale requirement, a configured list or a skip then that wins', () => {
  const own: LocalQualificationRequirement = {
    qualificationTypeId: SystemQualification.locale,
    comparator: 'EqualTo',
    locales: [{ country: 'US', subdivision: 'CA' }],
  };
  assert.equal(toQualificationRequirements([own], { environment: 'live' }), [
    {
      QualificationTypeId: SystemQualification.locale,
      Comparator: 'EqualTo',
      ActionsGuarded: 'DiscoverPreviewAndAccept',
      LocaleValues: [{ Country: 'US', Subdivision: 'CA' }],
    },
  ]);
  const configured = toQualificationRequirements([], {
    environment: 'live',
    allowedLocales: [{ country: 'DE' }, { country: 'US', subdivision: 'NY' }],
  });
  assert.equal(configured[0]!.LocaleValues, [{ Country: 'DE' }, { Country: 'US', Subdivision: 'NY' }]);
  assert.equal(toQualificationRequirements([], { environment: 'live', skipLocaleRequirement: true }), []);
});

Requirements('when requirements break MTurk rules then every problem is reported at once with its field', () => {
  const fields = problems(() =>
    toQualificationRequirements(
      [
        { qualificationTypeId: 'my-qual-name', comparator: 'Exists' },
        { qualificationTypeId: BLOCK, comparator: 'Exists', value: 1 },
        { qualificationTypeId: BLOCK, comparator: 'GreaterThan' },
        { qualificationTypeId: BLOCK, comparator: 'EqualTo', value: [1, 2] },
        { qualificationTypeId: BLOCK, comparator: 'In', value: Array.from({ length: 16 }, (_, i) => i) },
        { qualificationTypeId: BLOCK, comparator: 'In', locales: [{ country: 'US' }] },
        {
          qualificationTypeId: SystemQualification.locale,
          comparator: 'EqualTo',
          locales: [{ country: 'usa' }, { country: 'DE' }],
        },
        { qualificationTypeId: BLOCK, comparator: 'Bigger' as 'EqualTo', value: 1 },
        { qualificationTypeId: BLOCK, comparator: 'EqualTo', value: 1.5 },
      ],
      { environment: 'sandbox' },
    ),
  );
  for (const f of [
    'qualificationRequirements[0].qualificationTypeId',
    'qualificationRequirements[1].value',
    'qualificationRequirements[2].value',
    'qualificationRequirements[3].value',
    'qualificationRequirements[4].value',
    'qualificationRequirements[5].locales',
    'qualificationRequirements[6].locales',
    'qualificationRequirements[6].locales[0].country',
    'qualificationRequirements[7].comparator',
    'qualificationRequirements[8].value',
  ])
    assert.ok(fields.includes(f), `missing ${f} in ${fields.join(', ')}`);
});

Requirements('when more than 10 requirements result (locale included) then the conversion is refused', () => {
  const ten = Array.from({ length: 10 }, () => ({ qualificationTypeId: BLOCK, comparator: 'Exists' as const }));
  assert.is(toQualificationRequirements(ten, { environment: 'sandbox' }).length, 10);
  assert.equal(
    problems(() => toQualificationRequirements(ten, { environment: 'live' })),
    ['qualificationRequirements'],
  );
});

Requirements('when Masters is asked for then live and sandbox get different ids', () => {
  assert.is.not(mastersQualificationId('live'), mastersQualificationId('sandbox'));
  assert.is(mastersQualificationId('custom'), mastersQualificationId('sandbox'));
});

Requirements.run();
