import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { CliIO } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';

const Sim = suite('hitstate sim');

interface FakeIO extends CliIO {
  stdout: string[];
  stderr: string[];
  controller: AbortController;
  /** Resolves with the first printed line matching the pattern. */
  line(pattern: RegExp): Promise<string>;
}

function fakeIO(): FakeIO {
  const controller = new AbortController();
  const stdout: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      const hit = stdout
        .join('')
        .split('\n')
        .find((l) => w.pattern.test(l));
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(hit);
      }
    }
  };
  const io: FakeIO = {
    stdout,
    stderr: [],
    controller,
    out: (text) => {
      stdout.push(text);
      check();
    },
    err: (text) => void io.stderr.push(text),
    isTTY: false,
    env: {},
    cwd: process.cwd(),
    signal: controller.signal,
    forceSignal: new AbortController().signal,
    ask: async () => undefined,
    line: (pattern) =>
      new Promise((resolve) => {
        waiters.push({ pattern, resolve });
        check();
      }),
  };
  return io;
}

Sim('when started with --port 0 then it prints its base URL first, serves, and stops on abort', async () => {
  const io = fakeIO();
  const running = main(['sim', '--port', '0', '--clock', 'virtual', '--seed', '3', '--throttle-rps', '5'], io);
  const first = await io.line(/listening on/);
  const url = /(http:\/\/127\.0\.0\.1:\d+)$/.exec(first)?.[1];
  assert.ok(url, first);
  assert.is(io.stdout.join('').split('\n')[0], first);
  const output = io.stdout.join('');
  assert.match(output, /region: 'us-east-1'/);
  assert.match(output, new RegExp(`endpoint: '${url}'`));
  assert.match(output, /\/_sim\/stats/);
  assert.match(output, /Clock virtual/);
  assert.match(output, /throttle 5\/s burst 5/);
  const stats = await fetch(`${url}/_sim/stats`);
  assert.equal(await stats.json(), { calls: {}, throttled: 0, faults: 0, dropped: 0 });
  io.controller.abort();
  assert.is(await running, 0);
  assert.match(io.stdout.join(''), /hitstate sim stopped/);
  const closed = await fetch(`${url}/_sim/stats`).then(
    () => 'open',
    () => 'closed',
  );
  assert.is(closed, 'closed');
});

Sim('when an option is invalid then it exits non-zero naming the flag and the code', async () => {
  const cases: [string[], RegExp, number][] = [
    [['--fault-rate', '2'], /--fault-rate: must be a number from 0 to 1/, 1],
    [['--throttle-burst', '4'], /--throttle-burst needs --throttle-rps/, 1],
    [['--throttle-rps', '0'], /--throttle-rps: must be a number above 0/, 1],
    [['--port', '99999'], /--port: must be an integer/, 1],
    [['--balance=-5'], /--balance: must be a non-negative/, 1],
    [['--clock', 'fast'], /--clock must be one of real, virtual/, 2],
  ];
  for (const [args, message, code] of cases) {
    const io = fakeIO();
    assert.is(await main(['sim', ...args], io), code, args.join(' '));
    const err = io.stderr.join('');
    assert.match(err, message);
    assert.match(err, code === 1 ? /HST_ERR_SIM_OPTIONS_INVALID/ : /HST_ERR_CLI_USAGE/);
  }
});

Sim('when the state file is corrupt then it refuses to start and says which file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hitstate-'));
  try {
    const file = join(dir, 'state.json');
    writeFileSync(file, '{not json');
    const io = fakeIO();
    assert.is(await main(['sim', '--port', '0', '--state', file], io), 1);
    assert.match(io.stderr.join(''), /HST_ERR_SIM_STATE_CORRUPT/);
    assert.ok(io.stderr.join('').includes(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

Sim('when asked for help then it lists every option', async () => {
  const io = fakeIO();
  assert.is(await main(['sim', '--help'], io), 0);
  const help = io.stdout.join('');
  for (const flag of [
    '--port',
    '--host',
    '--clock',
    '--seed',
    '--throttle-rps',
    '--throttle-burst',
    '--fault-rate',
    '--balance',
    '--state',
  ])
    assert.ok(help.includes(flag), flag);
});

Sim.run();
