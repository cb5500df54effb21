/**
 * `hitstate sim`: runs the MTurk-compatible server until Ctrl-C (SIGINT) or SIGTERM.
 *
 * @module
 */
import { HitstateError, isHitstateError } from '../../errors.js';
import { createSimulator, type SimulatorOptions } from '../../simulator/index.js';
import { EXIT, type CommandSpec, type OptionValues } from '../command.js';

/** Option names of createSimulator mapped to the flags that set them, for error messages. */
const FLAG_OF: Record<string, string> = {
  port: '--port',
  host: '--host',
  clock: '--clock',
  seed: '--seed',
  'throttle.ratePerSecond': '--throttle-rps',
  'throttle.burst': '--throttle-burst',
  faultRate: '--fault-rate',
  balanceUsd: '--balance',
  stateFile: '--state',
  maxBodyBytes: '--max-body-bytes',
};

function invalid(flag: string, message: string): HitstateError {
  return new HitstateError('HST_ERR_SIM_OPTIONS_INVALID', `${flag} ${message}`, { field: flag.replace(/^--/, '') });
}

/** Turns parsed flags into simulator options, checking what only the command line can get wrong. */
export function simOptionsFromFlags(o: OptionValues): SimulatorOptions {
  const num = (name: string): number | undefined => (o[name] === undefined ? undefined : Number(o[name]));
  const rps = num('throttle-rps');
  const burst = num('throttle-burst');
  if (burst !== undefined && rps === undefined)
    throw invalid('--throttle-burst', 'needs --throttle-rps (the refill rate) as well.');
  const options: SimulatorOptions = {
    port: num('port') ?? 8787,
    host: String(o.host ?? '127.0.0.1'),
    clock: o.clock === 'virtual' ? 'virtual' : 'real',
  };
  const seed = num('seed');
  if (seed !== undefined) options.seed = seed;
  if (rps !== undefined) options.throttle = { ratePerSecond: rps, burst: burst ?? Math.max(1, Math.ceil(rps)) };
  const faultRate = num('fault-rate');
  if (faultRate !== undefined) options.faultRate = faultRate;
  const balance = num('balance');
  if (balance !== undefined) options.balanceUsd = balance;
  if (typeof o.state === 'string' && o.state !== '') options.stateFile = o.state;
  const maxBody = num('max-body-bytes');
  if (maxBody !== undefined) options.maxBodyBytes = maxBody;
  return options;
}

export const simCommand: CommandSpec = {
  name: 'sim',
  summary: 'Start the MTurk-compatible server (requester API, worker pages, control API)',
  description: [
    'Serves the MTurk Requester API (2017-01-17) so @aws-sdk/client-mturk, boto3 or any AWS SDK works',
    'against it with only the endpoint changed (region us-east-1, any credentials). Each access key id is',
    'its own requester account. Workers: open /mturk in a browser, or drive them with the /_sim control API.',
    'Runs until Ctrl-C or SIGTERM. See docs/simulator.md.',
  ].join('\n'),
  options: [
    {
      name: 'port',
      type: 'number',
      value: 'N',
      description: 'Port to listen on; 0 picks a free port',
      default: 8787,
      env: 'HITSTATE_SIM_PORT',
    },
    {
      name: 'host',
      type: 'string',
      value: 'ADDR',
      description: 'Interface to listen on',
      default: '127.0.0.1',
      env: 'HITSTATE_SIM_HOST',
    },
    {
      name: 'clock',
      type: 'string',
      value: 'KIND',
      description: 'real time, or virtual time moved by POST /_sim/clock/advance',
      choices: ['real', 'virtual'],
      default: 'real',
    },
    {
      name: 'seed',
      type: 'number',
      value: 'N',
      description: 'Seed for ids and fault injection (random when absent)',
      env: 'HITSTATE_SIM_SEED',
    },
    {
      name: 'throttle-rps',
      type: 'number',
      value: 'R',
      description: 'Throttle each requester to R calls per second (token bucket)',
    },
    { name: 'throttle-burst', type: 'number', value: 'B', description: 'Token bucket size (default: R rounded up)' },
    {
      name: 'fault-rate',
      type: 'number',
      value: 'P',
      description: 'Share of calls (0..1) answered ServiceFault or dropped',
    },
    {
      name: 'balance',
      type: 'number',
      value: 'USD',
      description: 'Starting balance of each requester account',
      default: 10000,
    },
    {
      name: 'state',
      type: 'string',
      value: 'FILE',
      description: 'Keep the whole state in FILE and restore it on start',
      env: 'HITSTATE_SIM_STATE',
    },
    {
      name: 'max-body-bytes',
      type: 'number',
      value: 'N',
      description: 'Largest accepted request body',
      default: 1048576,
    },
  ],
  examples: [
    'hitstate sim',
    'hitstate sim --port 0 --clock virtual --seed 42',
    'hitstate sim --throttle-rps 5 --throttle-burst 10 --fault-rate 0.05',
    'hitstate sim --state ./sim-state.json',
  ],
  async run(args, io) {
    const o = simOptionsFromFlags(args.options);
    let sim: Awaited<ReturnType<typeof createSimulator>>;
    try {
      sim = await createSimulator(o);
    } catch (err) {
      if (isHitstateError(err, 'HST_ERR_SIM_OPTIONS_INVALID') && err.details.field && FLAG_OF[err.details.field]) {
        const flag = FLAG_OF[err.details.field]!;
        throw new HitstateError('HST_ERR_SIM_OPTIONS_INVALID', `${flag}: ${err.message.replace(/^[^:]+: /, '')}`, {
          field: flag.replace(/^--/, ''),
          cause: err,
        });
      }
      throw err;
    }
    io.out(`hitstate sim listening on ${sim.url}\n`);
    io.out(
      [
        `  SDK:     new MTurkClient({ endpoint: '${sim.url}', region: 'us-east-1', credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' } })`,
        `  boto3:   boto3.client('mturk', endpoint_url='${sim.url}', region_name='us-east-1', aws_access_key_id='AKIDLOCAL', aws_secret_access_key='local')`,
        `  Workers: ${sim.url}/mturk?workerId=A1EXAMPLEWORKER`,
        `  Control: ${sim.url}/_sim/stats, /_sim/state, POST /_sim/workers/{workerId}/accept, POST /_sim/clock/advance (docs/simulator.md)`,
        `  Clock ${o.clock === 'virtual' ? 'virtual (moves only on POST /_sim/clock/advance {"seconds": N})' : 'real'}` +
          `${o.throttle ? `; throttle ${o.throttle.ratePerSecond}/s burst ${o.throttle.burst}` : ''}` +
          `${o.faultRate ? `; fault rate ${o.faultRate}` : ''}${o.stateFile ? `; state in ${o.stateFile}` : ''}`,
        '  Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    if (!io.signal.aborted)
      await new Promise<void>((resolve) => io.signal.addEventListener('abort', () => resolve(), { once: true }));
    await sim.close();
    io.out('hitstate sim stopped\n');
    return EXIT.ok;
  },
};
