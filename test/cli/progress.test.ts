// The progress display, colours and tables of the command line, on a virtual clock.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { AssignmentState } from '../../machines/index.js';
import { VirtualClock } from '../../src/clock.js';
import { ProgressView, describeCounts } from '../../src/cli/progress.js';
import { colorEnabled, stripAnsi, styleFor } from '../../src/cli/style.js';
import { formatTable } from '../../src/cli/table.js';
import { dollars, moneyLines } from '../../src/cli/money-summary.js';
import { captureIO } from './helpers.js';

const counts = (c: Partial<Record<AssignmentState, number>>): Record<AssignmentState, number> => ({
  created: 0,
  launched: 0,
  assigned: 0,
  completed: 0,
  accepted: 0,
  rejected: 0,
  soft_rejected: 0,
  expired: 0,
  ...c,
});

const Style = suite('cli/style');

Style('when NO_COLOR or FORCE_COLOR are set then they decide colour, otherwise the terminal does', () => {
  assert.is(colorEnabled({ env: {}, isTTY: true }), true);
  assert.is(colorEnabled({ env: {}, isTTY: false }), false);
  assert.is(colorEnabled({ env: { NO_COLOR: '1' }, isTTY: true }), false);
  assert.is(colorEnabled({ env: { NO_COLOR: '' }, isTTY: true }), true, 'an empty NO_COLOR is ignored');
  assert.is(colorEnabled({ env: { FORCE_COLOR: '1' }, isTTY: false }), true);
  assert.is(colorEnabled({ env: { FORCE_COLOR: '0' }, isTTY: true }), false);
  assert.is(styleFor({ env: {}, isTTY: false }).green('ok'), 'ok');
  assert.is(styleFor({ env: { FORCE_COLOR: '1' }, isTTY: false }).green('ok'), '\u001b[32mok\u001b[39m');
});

Style.run();

const Progress = suite('cli/progress');

Progress(
  'when output is not a terminal then lines are plain, throttled on the clock, and the held-back state is printed when due',
  async () => {
    const clock = new VirtualClock(0);
    const io = captureIO();
    const view = new ProgressView(io, {
      style: styleFor(io),
      clock,
      timeLabel: () => `t${clock.now() / 1000}`,
      plainIntervalMs: 10_000,
    });
    view.update({ status: 'running', counts: counts({ launched: 4 }) });
    view.update({ status: 'running', counts: counts({ launched: 3, assigned: 1 }) });
    view.update({ status: 'running', counts: counts({ launched: 3, assigned: 1 }) });
    assert.is(io.stdout().split('\n').filter(Boolean).length, 1, 'the second state waits for the interval');
    await clock.advance(10_000);
    const lines = io.stdout().split('\n').filter(Boolean);
    assert.equal(lines, [
      't0  running   [....................] 0/4  launched 4',
      't10  running   [....................] 0/4  launched 3 · assigned 1',
    ]);
    view.update({ status: 'expiring', counts: counts({ launched: 3, completed: 1 }) });
    assert.match(
      io.stdout(),
      /t10 {2}expiring {2}\[#####\.+\] 1\/4 {2}launched 3 · completed 1\n$/,
      'a new run status prints at once',
    );
    view.update({ status: 'expiring', counts: counts({ launched: 2, completed: 2 }) });
    view.close();
    assert.match(io.stdout(), /2\/4 {2}launched 2 · completed 2\n$/, 'close prints the last state');
    assert.is(clock.pendingTimers, 0, 'close leaves no timer behind');
    assert.not.match(io.stdout(), /\u001b\[/, 'no escape sequences when not a terminal');
  },
);

Progress('when output is a terminal then the bar is redrawn in place and event lines scroll above it', () => {
  const clock = new VirtualClock(0);
  const io = captureIO({ isTTY: true, env: { NO_COLOR: '1' } });
  const view = new ProgressView(io, { style: styleFor(io), clock, timeLabel: () => '12:00:00' });
  view.update({ status: 'running', counts: counts({ launched: 2 }) });
  view.update({ status: 'running', counts: counts({ launched: 1, assigned: 1 }) });
  view.log('worker A1 started u0');
  view.close();
  const out = io.stdout();
  assert.match(out, /\r\u001b\[2K12:00:00 {2}running {3}░{20} 0\/2 {2}launched 1 · assigned 1/);
  assert.match(
    out,
    /\r\u001b\[2Kworker A1 started u0\n12:00:00 {2}running/,
    'the event line is printed above, then the bar again',
  );
  assert.ok(out.endsWith('\n'), 'close ends the bar line');
});

Progress('when the terminal is narrow then the bar line is cut to its width', () => {
  const io = captureIO({ isTTY: true, columns: 40, env: { FORCE_COLOR: '1' } });
  const view = new ProgressView(io, { style: styleFor(io), clock: new VirtualClock(0), timeLabel: () => '12:00:00' });
  view.update({ status: 'running', counts: counts({ launched: 5, assigned: 3, completed: 2 }) });
  const last = io.stdout().split('\r\u001b[2K').at(-1)!;
  assert.ok(stripAnsi(last).length <= 39, stripAnsi(last));
});

Progress('when counts are described then only states with units appear, in lifecycle order', () => {
  assert.is(
    describeCounts(counts({ expired: 2, accepted: 16, soft_rejected: 1 })),
    'accepted 16 · soft-rejected 1 · expired 2',
  );
  assert.is(describeCounts(counts({})), 'no units');
});

Progress.run();

const Table = suite('cli/table');

Table(
  'when rows are formatted then columns are padded to the widest cell and numbers right-aligned, colours ignored',
  () => {
    const style = styleFor({ env: { FORCE_COLOR: '1' }, isTTY: false });
    const text = formatTable(
      [{ header: 'RUN' }, { header: 'UNITS', align: 'right' }, { header: 'STATUS' }],
      [
        [style.bold('demo-1'), '20', 'done'],
        ['r2', '3', 'running'],
      ],
    );
    assert.equal(stripAnsi(text).split('\n'), [
      'RUN     UNITS  STATUS',
      'demo-1     20  done',
      'r2          3  running',
      '',
    ]);
  },
);

Table('when money is summarised then dollars have thousands separators and kinds with nothing are left out', () => {
  assert.is(dollars(1_000_050), '$10,000.50');
  const lines = moneyLines({
    approved: { count: 2, rewardCents: 100 },
    softRejected: { count: 0, rewardCents: 0 },
    rejected: { count: 0 },
    bonuses: { count: 1, cents: 25 },
    feeCents: 25,
    totalCents: 150,
  });
  assert.equal(
    lines.map((l) => l.split(/\s{2,}/)[0]),
    ['rewards, approved', 'bonuses', 'MTurk fees (20%)', 'total'],
  );
});

Table.run();
