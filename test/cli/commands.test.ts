// In-process tests of the `hitstate` command line: the registry, help texts, parsing, usage
// errors and exit codes. Commands take a CliIO, so nothing here spawns a process.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EXIT, formatHelp, parseCommandArgs } from '../../src/cli/command.js';
import { main } from '../../src/cli/main.js';
import { reviewRequest } from '../../src/cli/commands/review.js';
import { locateRun, parseEnvironment, requesterFor, LOCAL_CREDENTIALS } from '../../src/cli/target.js';
import { publicOrigin } from '../../src/cli/run-session.js';
import { isHitstateError } from '../../src/errors.js';
import { captureIO, tempDir } from './helpers.js';

const COMMANDS = [
  'demo',
  'run',
  'resume',
  'attach',
  'stop',
  'relaunch',
  'add-units',
  'budget',
  'status',
  'review',
  'expire',
  'cleanup',
  'export',
  'worker',
  'sim',
  'serve',
  'viz',
];

const Cli = suite('cli/main');

Cli('when called without a command then the help lists every command and the exit code is usage', async () => {
  const io = captureIO();
  assert.is(await main([], io), EXIT.usage);
  for (const name of COMMANDS) assert.match(io.stdout(), new RegExp(`^  ${name} `, 'm'));
  const help = captureIO();
  assert.is(await main(['--help'], help), EXIT.ok);
});

Cli('when a command is misspelt then the closest one is suggested and the exit code is usage', async () => {
  const io = captureIO();
  assert.is(await main(['reveiw'], io), EXIT.usage);
  assert.match(io.stderr(), /unknown command 'reveiw'\. Did you mean 'review'\?/);
});

Cli('when any command gets --help then its usage, options, env variables and examples are printed', async () => {
  for (const name of COMMANDS) {
    const io = captureIO();
    assert.is(await main([name, '--help'], io), EXIT.ok, name);
    const text = io.stdout();
    assert.match(text, new RegExp(`^Usage: hitstate ${name}`), name);
    const examples = text.split('\nExamples:\n')[1];
    assert.ok(examples !== undefined && /(hitstate|npm run) /.test(examples), `${name} --help has examples`);
  }
});

Cli('when the options that matter in CI are listed then each names its HITSTATE_* variable', async () => {
  const { runCommand } = await import('../../src/cli/commands/run.js');
  const help = formatHelp(runCommand);
  for (const v of [
    'HITSTATE_ENV',
    'HITSTATE_REQUESTER',
    'HITSTATE_STORE_DIR',
    'HITSTATE_PORT',
    'HITSTATE_PUBLIC_URL',
    'HITSTATE_POLL_MS',
    'HITSTATE_YES_LIVE',
  ])
    assert.match(help, new RegExp(v));
});

Cli(
  'when an option is unknown then the closest option is suggested, the code printed and the exit code is usage',
  async () => {
    const io = captureIO();
    assert.is(await main(['status', '--jsno'], io), EXIT.usage);
    assert.match(io.stderr(), /unknown option --jsno\. Did you mean --json\?/);
    assert.match(io.stderr(), /\[HST_ERR_CLI_USAGE\]/);
    assert.not.match(io.stderr(), /\n\s+at /, 'no stack trace for an expected error');
  },
);

Cli('when a required argument is missing then the usage error names it', async () => {
  const io = captureIO();
  assert.is(await main(['resume'], io), EXIT.usage);
  assert.match(io.stderr(), /missing argument RUN/);
});

Cli('when an option is absent then its HITSTATE_* variable, then its default applies', async () => {
  const { demoCommand } = await import('../../src/cli/commands/demo.js');
  assert.is(parseCommandArgs(demoCommand, [], {}).options.units, 20);
  assert.is(parseCommandArgs(demoCommand, [], { HITSTATE_DEMO_UNITS: '7' }).options.units, 7);
  assert.is(parseCommandArgs(demoCommand, ['--units', '3'], { HITSTATE_DEMO_UNITS: '7' }).options.units, 3);
  assert.is(parseCommandArgs(demoCommand, [], { HITSTATE_STORE_DIR: '/x' }).options.store, '/x');
});

Cli('when --env is given then live, sandbox and URLs are accepted and anything else is a usage error', () => {
  assert.equal(parseEnvironment('live'), { kind: 'live' });
  assert.equal(parseEnvironment('sandbox'), { kind: 'sandbox' });
  assert.equal(parseEnvironment('http://127.0.0.1:8787/'), { kind: 'custom', endpoint: 'http://127.0.0.1:8787' });
  try {
    parseEnvironment('prod');
    assert.unreachable('should throw');
  } catch (err) {
    assert.ok(isHitstateError(err, 'HST_ERR_CLI_USAGE'));
    assert.match(err.message, /--env must be live, sandbox or the http\(s\) URL/);
  }
});

Cli(
  'when no AWS keys are set and the endpoint is loopback then the local static credentials are used, else the SDK chain or the profile',
  () => {
    const local = { kind: 'custom', endpoint: 'http://127.0.0.1:8787' } as const;
    assert.equal(requesterFor(local, {}, { env: {} }), { name: 'local', credentials: LOCAL_CREDENTIALS });
    assert.equal(requesterFor(local, {}, { env: { AWS_ACCESS_KEY_ID: 'AKIDX' } }).credentials, {
      kind: 'defaultChain',
    });
    assert.equal(requesterFor({ kind: 'custom', endpoint: 'https://mturk.example.org' }, {}, { env: {} }).credentials, {
      kind: 'defaultChain',
    });
    assert.equal(requesterFor({ kind: 'sandbox' }, { requester: 'lab' }, { env: {} }), {
      name: 'lab',
      credentials: { kind: 'profile', profile: 'lab' },
    });
    assert.equal(
      requesterFor(
        { kind: 'sandbox' },
        {},
        { env: {} },
        { name: 'lab', credentialSource: { kind: 'profile', profile: 'lab-mturk' } },
      ),
      { name: 'lab', credentials: { kind: 'profile', profile: 'lab-mturk' } },
    );
  },
);

Cli('when --public-url is checked then live and sandbox need an https origin without a path', () => {
  const fails = (options: Record<string, string>, env: Parameters<typeof publicOrigin>[1]): string => {
    try {
      publicOrigin(options, env);
    } catch (err) {
      if (isHitstateError(err, 'HST_ERR_CLI_USAGE')) return err.message;
      throw err;
    }
    return '';
  };
  assert.match(fails({}, { kind: 'sandbox' }), /--public-url is required on sandbox/);
  assert.match(fails({ 'public-url': 'http://tasks.example.org' }, { kind: 'live' }), /must be https:\/\//);
  assert.match(
    fails({ 'public-url': 'https://tasks.example.org/app' }, { kind: 'live' }),
    /without a path.*use https:\/\/tasks\.example\.org/,
  );
  assert.is(
    publicOrigin({ 'public-url': 'https://tasks.example.org/' }, { kind: 'live' }),
    'https://tasks.example.org',
  );
  assert.is(publicOrigin({}, { kind: 'custom', endpoint: 'http://127.0.0.1:8787' }), undefined);
  assert.match(
    fails({}, { kind: 'custom', endpoint: 'https://mturk.example.org' }),
    /--public-url is required on https:\/\/mturk\.example\.org/,
  );
  assert.is(
    publicOrigin(
      { 'public-url': 'http://tasks.lab.internal:8080' },
      { kind: 'custom', endpoint: 'https://mturk.example.org' },
    ),
    'http://tasks.lab.internal:8080',
  );
});

Cli(
  'when review flags name no target, two actions, or a rejection without feedback then each is a usage error',
  async () => {
    const message = (flags: Record<string, string | boolean>): string => {
      try {
        reviewRequest('r1', flags);
        return '';
      } catch (err) {
        assert.ok(isHitstateError(err, 'HST_ERR_CLI_USAGE'));
        return err.message;
      }
    };
    assert.match(message({ approve: true }), /exactly one of --unit ID, --agent ID, --worker ID or --all/);
    assert.match(
      message({ all: true, approve: true, reject: true }),
      /exactly one of --approve.*got --approve, --reject/,
    );
    assert.match(message({ all: true, reject: true }), /--reject needs --feedback/);
    assert.match(message({ all: true, bonus: '1.5', reason: 'x' }), '');
    assert.match(message({ all: true, bonus: 'lots', reason: 'x' }), /--bonus must be a dollar amount/);
    assert.equal(reviewRequest('r1', { unit: 'u3', 'soft-reject': true }), {
      target: { unitId: 'r1.u3' },
      action: { kind: 'softReject' },
    });
    assert.equal(reviewRequest('r1', { worker: 'A1', bonus: '0.25', reason: 'Thanks' }), {
      target: { workerId: 'A1' },
      action: { kind: 'bonus', amountUsd: '0.25', reason: 'Thanks' },
    });
    const io = captureIO();
    assert.is(await main(['review', 'r1', '--all', '--reject'], io), EXIT.usage);
  },
);

Cli(
  'when a run is looked up then an unknown id is HST_ERR_RUN_NOT_FOUND, with or without --env, and no store is created',
  async () => {
    const dir = tempDir();
    try {
      for (const options of [{}, { env: 'sandbox' }]) {
        try {
          await locateRun(dir.path, 'nope', options);
          assert.unreachable('should throw');
        } catch (err) {
          assert.ok(isHitstateError(err, 'HST_ERR_RUN_NOT_FOUND'));
          assert.match(err.message, /there is no run at all there/);
        }
      }
      const io = captureIO({ cwd: dir.path });
      assert.is(await main(['export', 'nope', '--env', 'sandbox'], io), EXIT.failure);
      assert.match(io.stderr(), /the sandbox store under .* has no run "nope"/);
      assert.is(await main(['status', '--env', 'sandbox'], captureIO({ cwd: dir.path })), EXIT.ok);
      assert.not.ok(existsSync(join(dir.path, '.hitstate')), 'looking never creates a store');
    } finally {
      dir.remove();
    }
  },
);

Cli(
  'when live is asked without --yes-live then the estimate is printed, nothing is created and the exit code is 3',
  async () => {
    const dir = tempDir();
    try {
      const config = join(dir.path, 'task.json');
      writeFileSync(
        config,
        JSON.stringify({ title: 'Label', description: 'Label sentences', reward: '0.50', units: 10 }),
      );
      const io = captureIO({ cwd: dir.path });
      const code = await main(
        [
          'run',
          config,
          '--env',
          'live',
          '--public-url',
          'https://tasks.example.org',
          '--store',
          join(dir.path, 'store'),
        ],
        io,
      );
      assert.is(code, EXIT.liveNotConfirmed);
      assert.match(io.stdout(), /10 units × \$0\.50 reward \+ 20% MTurk fee = \$6\.00 at most/);
      assert.match(io.stderr(), /up to \$6\.00 of real money on live MTurk.*--yes-live/);
      assert.match(io.stderr(), /\[HST_ERR_CLI_LIVE_NOT_CONFIRMED\]/);
    } finally {
      dir.remove();
    }
  },
);

Cli('when status finds no store then it says how to start', async () => {
  const dir = tempDir();
  try {
    const io = captureIO({ cwd: dir.path });
    assert.is(await main(['status'], io), EXIT.ok);
    assert.match(io.stdout(), /No runs under .*npm run demo/s);
  } finally {
    dir.remove();
  }
});

Cli.run();
