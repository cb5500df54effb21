// One task server over a fresh in-memory backend, on a virtual clock, behind a chosen target.
import { VirtualClock } from '../../src/clock.js';
import { html } from '../../src/server/html.js';
import type { TaskServerOptions } from '../../src/server/options.js';
import { createTaskServer, type TaskServer } from '../../src/server/task-server.js';
import { labelTask } from '../../examples/label-task/index.js';
import { HITS, RUN, SECRET, client, start, type Running, type Target } from './harness.js';
import { MemoryBackend } from './memory-backend.js';

export interface Fixture {
  readonly backend: MemoryBackend;
  readonly clock: VirtualClock;
  readonly tasks: TaskServer;
  readonly running: Running;
  readonly api: ReturnType<typeof client>;
  readonly errors: unknown[];
}

export async function fixture(target: Target, options: Partial<TaskServerOptions> = {}): Promise<Fixture> {
  const backend = new MemoryBackend([
    {
      runId: RUN,
      hitIds: [...HITS],
      units: [
        { unitId: 'unit-1', task: { text: 'The soup was <b>cold</b>.' } },
        { unitId: 'unit-2', task: { text: 'A fine day.' } },
      ],
      preview: {
        title: 'Label a sentence',
        description: 'Say whether a sentence is positive.',
        data: { text: 'An example.' },
      },
    },
  ]);
  const clock = new VirtualClock();
  const errors: unknown[] = [];
  const tasks = createTaskServer(backend, {
    secret: SECRET,
    clock,
    taskPage: ({ registration }) =>
      html`<h1>Unit ${registration.unitId}</h1><p id="text">${(registration.task as { text: string }).text}</p>`.value,
    assetsDir: labelTask.serverOptions.assetsDir,
    onError: (err) => errors.push(err),
    ...options,
  });
  const running = await start(target, tasks);
  return { backend, clock, tasks, running, api: client(running.origin, tasks.prefix), errors };
}
