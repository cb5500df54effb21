import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { estimateCost, feeCents, formatUsd, toCents } from '../../src/mturk/money.js';

const Money = suite('money');

Money('when dollar amounts are parsed then strings and two-decimal numbers become exact cents', () => {
  assert.is(toCents('0.50'), 50);
  assert.is(toCents('0.5'), 50);
  assert.is(toCents('5'), 500);
  assert.is(toCents('101.42'), 10_142);
  assert.is(toCents(0.1), 10);
  assert.is(toCents(0.29), 29);
  assert.is(toCents(1.15), 115);
});

Money('when an amount has sub-cent precision, a sign or junk then it is refused naming the field', () => {
  for (const bad of ['0.125', '-1', '$1', '1,00', '', 'abc', 0.125, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    let err: unknown;
    try {
      toCents(bad as string | number, 'task.reward');
    } catch (e) {
      err = e;
    }
    assert.ok(isHitstateError(err, 'HST_ERR_CONFIG_INVALID'), `accepted ${String(bad)}`);
    assert.is((err as { details: { field: string } }).details.field, 'task.reward');
  }
});

Money('when cents are formatted then MTurk gets two decimals', () => {
  assert.is(formatUsd(50), '0.50');
  assert.is(formatUsd(5), '0.05');
  assert.is(formatUsd(10_000), '100.00');
  assert.is(formatUsd(0), '0.00');
});

Money('when fees are computed then 20% rounds half up with a one-cent minimum', () => {
  assert.is(feeCents(50, 20), 10);
  assert.is(feeCents(1, 20), 1);
  assert.is(feeCents(3, 20), 1);
  assert.is(feeCents(13, 20), 3);
  assert.is(feeCents(0, 20), 0);
});

Money('when HITs have fewer than 10 assignments then the fee is 20%', () => {
  const e = estimateCost({ rewardUsd: '0.50', hits: 100 });
  assert.equal(
    [e.feePercent, e.rewardCents, e.rewardFeeCents, e.totalCents, e.totalUsd],
    [20, 5_000, 1_000, 6_000, '60.00'],
  );
  assert.is(estimateCost({ rewardUsd: '0.50', assignmentsPerHIT: 9, hits: 1 }).feePercent, 20);
});

Money('when HITs have 10 or more assignments then the fee is 40%', () => {
  const e = estimateCost({ rewardUsd: '0.50', assignmentsPerHIT: 10, hits: 10 });
  assert.equal([e.feePercent, e.assignments, e.totalUsd], [40, 100, '70.00']);
});

Money('when many ten-cent rewards add up then there is no float drift', () => {
  const e = estimateCost({ rewardUsd: 0.1, hits: 3 });
  assert.is(e.rewardCents, 30);
  assert.is(e.totalUsd, '0.36');
  const big = estimateCost({ rewardUsd: '0.07', hits: 1_000_003 });
  assert.is(big.rewardCents, 7_000_021);
});

Money('when bonuses are expected then each is charged its own 20% fee', () => {
  const e = estimateCost({ rewardUsd: '1.00', hits: 1, bonusesUsd: ['0.50', 0.03] });
  assert.equal([e.bonusCents, e.bonusFeeCents, e.totalCents], [53, 11, 100 + 20 + 53 + 11]);
});

Money('when counts are not whole numbers then the estimate is refused', () => {
  assert.throws(
    () => estimateCost({ rewardUsd: '1', hits: 1.5 }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
  assert.throws(
    () => estimateCost({ rewardUsd: '1', assignmentsPerHIT: -1 }),
    (e: unknown) => isHitstateError(e, 'HST_ERR_CONFIG_INVALID'),
  );
});

Money.run();
