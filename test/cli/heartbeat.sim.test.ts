// The heartbeat of `hitstate run` / `resume` when the output is not a terminal: a status line
// (units by state, money) every minute of the run's clock, so piped output is never silent for
// long. Driven by a virtual clock through the real watch loop, runtime and store.
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { VirtualClock } from '../../src/clock.js';
import { heartbeat } from '../../src/cli/narrator.js';
import type { RunSession } from '../../src/cli/run-session.js';
import { watchRun } from '../../src/cli/run-watch.js';
import { styleFor } from '../../src/cli/style.js';
import { LOCAL_CREDENTIALS } from '../../src/cli/target.js';
import { createRuntime, type Runtime } from '../../src/runtime/index.js';
import { createSimulator, type Simulator } from '../../src/simulator/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { captureIO, tempDir } from './helpers.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  sim: Simulator;
  clock: VirtualClock;
  store: Store;
  runtime: Runtime;
}

const Heartbeat = suite<Ctx>('cli/heartbeat');

Heartbeat.before.each(async (ctx) => {
  ctx.dir = tempDir();
  ctx.clock = new VirtualClock();
  ctx.sim = await createSimulator({ seed: 4 });
  const environment = { kind: 'custom' as const, endpoint: ctx.sim.url };
  ctx.store = await openStore({ dir: join(ctx.dir.path, '.hitstate'), environment, clock: ctx.clock });
  ctx.store.requesters.put({ name: 'local', credentialSource: { kind: 'defaultChain' } });
  ctx.store.runs.create({ runId: 'pilot', requesterName: 'local', config: { title: 'Pilot' }, status: 'running' });
  ctx.store.units.create({ unitId: 'pilot.u0', runId: 'pilot', index: 0, payAmountUsd: '0.10', status: 'launched' });
  ctx.store.units.create({ unitId: 'pilot.u1', runId: 'pilot', index: 1, payAmountUsd: '0.10', status: 'assigned' });
  ctx.runtime = await createRuntime({
    environment,
    requester: { name: 'local', credentials: LOCAL_CREDENTIALS },
    store: ctx.store,
    clock: ctx.clock,
  });
});

Heartbeat.after.each(async (ctx) => {
  await ctx.runtime.close();
  await ctx.store.close();
  await ctx.sim.close();
  ctx.dir.remove();
});

const LINE = /still running: launched 1 · assigned 1; spent \$0\.00/g;

Heartbeat('when a minute of the run clock passes then one status line is printed, every minute', async (ctx) => {
  const lines: string[] = [];
  const stop = heartbeat(ctx.runtime, {
    runId: 'pilot',
    clock: ctx.clock,
    emit: (l) => lines.push(l),
    timeLabel: () => new Date(ctx.clock.now()).toISOString().slice(11, 19),
  });
  await ctx.clock.advance(59_999);
  assert.equal(lines, [], 'nothing before a minute');
  await ctx.clock.advance(1);
  assert.equal(lines, [
    '00:01:00  still running: launched 1 · assigned 1; spent $0.00 (rewards, bonuses and fees confirmed)',
  ]);
  await ctx.clock.advance(120_000);
  assert.is(lines.length, 3);
  stop();
  await ctx.clock.advance(600_000);
  assert.is(lines.length, 3, 'stopped');
});

Heartbeat('when the watch loop prints to a pipe then the heartbeat shows; on a terminal it does not', async (ctx) => {
  for (const isTTY of [false, true]) {
    const io = captureIO({ isTTY, columns: 100, env: { NO_COLOR: '1' } });
    const session = {
      env: { kind: 'custom', endpoint: ctx.sim.url },
      store: ctx.store,
      runtime: ctx.runtime,
      close: async () => undefined,
    } as unknown as RunSession;
    const watching = watchRun({ io, style: styleFor(io), session, runId: 'pilot', mode: 'follow', quiet: false });
    await ctx.clock.advance(3 * 60_000);
    const beats = io.stdout().match(LINE)?.length ?? 0;
    if (isTTY) assert.is(beats, 0, 'a terminal has the live progress line instead');
    else assert.is(beats, 3, `three minutes, three lines:\n${io.stdout()}`);
    // Ctrl-C detaches: the run is left as it is.
    io.interrupt.abort();
    assert.is(await watching, 130);
  }
});

Heartbeat.run();
