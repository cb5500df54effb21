// Runs this task end to end on hitstate's MTurk-compatible simulator, on a virtual clock: a
// simulated worker accepts the HIT, opens the task page (served by hitstate's task server, with
// the wrapper), submits the answer in test/sample-answer.json, and the answer is on disk.
// No AWS account, no network beyond 127.0.0.1, no waiting: `npm test`.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createRuntime, createTaskServer, VirtualClock } from 'hitstate';
import { createSimulator } from 'hitstate/simulator';
import { SimulatedWorker, VirtualTimeDriver } from 'hitstate/testing';

const project = new URL('..', import.meta.url);
const fromProject = (path: string): string => fileURLToPath(new URL(path, project));
const config = JSON.parse(readFileSync(fromProject('hitstate.config.json'), 'utf8'));
const answer = JSON.parse(readFileSync(fromProject('test/sample-answer.json'), 'utf8'));

test('a worker accepts the HIT, opens the task page and submits; the answer is stored', async () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const storeDir = mkdtempSync(join(tmpdir(), 'hitstate-task-test-'));
  const sim = await createSimulator({ clock, seed: 1 });
  const runtime = await createRuntime({
    environment: { kind: 'custom', endpoint: sim.url },
    requester: { name: 'test', credentials: { kind: 'static', accessKeyId: 'AKIDTEST', secretAccessKey: 'x' } },
    clock,
    storeDir,
  });
  const tasks = createTaskServer(runtime.taskServerBackend(), {
    secret: randomBytes(24).toString('hex'),
    clock,
    title: config.title,
    taskPage: { file: fromProject(config.page.taskPage) },
    previewPage: { file: fromProject(config.page.taskPage) },
    assetsDir: fromProject(config.page.assetsDir),
  });
  const server = createServer((req, res) => void tasks.handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const taskUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${tasks.taskPath}`;
  try {
    const driver = new VirtualTimeDriver({ clock, whenIdle: () => runtime.whenIdle() });
    const { page: _page, ...task } = config;
    const { runId } = await runtime.launchRun({ ...task, units: [config.units[0]], taskUrl });
    await driver.drive(() => runtime.runInfo(runId).status === 'running', { label: 'launch' });

    const worker = new SimulatedWorker({
      workerId: 'A1EXAMPLEWORKER',
      mturkUrl: sim.url,
      tracker: driver,
      sleep: (ms) => driver.sleep(ms),
    });
    const accepted = await worker.accept({ hitTypeId: runtime.runInfo(runId).hitTypeId! });
    assert.ok(accepted.accepted, 'the worker can accept the HIT');
    const registration = await worker.openTask();
    assert.deepEqual(registration.task, config.units[0], 'the task page gets the unit input');
    await worker.submit(answer);
    await driver.drive(() => runtime.unitStatus(worker.unitId!) === 'completed', { label: 'completed' });
    assert.deepEqual(runtime.store.agents.submission(worker.agentId!), answer, 'the answer is stored');
  } finally {
    await runtime.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    await sim.close();
    rmSync(storeDir, { recursive: true, force: true });
  }
});
