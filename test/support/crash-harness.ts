// The crash harness: a task run executed by a child process (test/runtime/fixtures/crash-child.ts,
// which uses the public API: createRuntime + launchRun / resume + a task server) that the parent
// kills with SIGKILL at MTurk calls chosen by a seed, before or after the call takes effect. The
// parent hosts the simulator, plays the workers, moves both virtual clocks in lockstep, restarts
// the child with `resume` after every kill, and at the end checks the store against the
// simulator: every submission stored once and equal to what MTurk got, no HIT created twice for a
// unit, no bonus paid twice, no HIT left live, every unit terminal, every money intent settled.
//
//   const report = await runCrashScenario({ seed: 42, kills: 3 });
//   assert.equal(report.problems, []);
//
// The benchmark engineer runs many seeds through the same function (`units`, `kills`,
// `killWindow` scale the scenario).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../../src/clock.js';
import { seededRandom } from '../../src/random.js';
import { parseRequesterAnnotation } from '../../src/mturk/annotation.js';
import { recoverSubmission } from '../../src/mturk/answer-xml.js';
import { moneyOfRun } from '../../src/runtime/money/spent.js';
import type { ReviewAction, ReviewTarget } from '../../src/runtime/money/review.js';
import { SUBMISSION_FIELD } from '../../src/server/wrapper-source.js';
import { createSimulator, type RequesterCallDecision, type Simulator } from '../../src/simulator/index.js';
import { openStore } from '../../src/store/open-store.js';
import { SimulatedWorker, SimulatedWorkerError } from '../../src/testing/index.js';
import { childCommand } from './child-command.js';
import type { ChildMessage, ChildSetup, ChildState, ParentMessage } from './crash-protocol.js';

const CHILD = childCommand(fileURLToPath(new URL('../runtime/fixtures/crash-child.ts', import.meta.url)));
const ACCESS_KEY = 'AKIDCRASH';
const SECRET = 'hitstate-crash-secret-0123456789abcdef';
const START_MS = Date.UTC(2026, 0, 1);
/** The simulator's starting balance of every account (its default, 10,000 USD), in cents. */
const STARTING_BALANCE_CENTS = 1_000_000;

export interface CrashScenarioOptions {
  readonly seed: number;
  /** Units of the run. @defaultValue 4 */
  readonly units?: number;
  /** Kills to schedule. @defaultValue 3 */
  readonly kills?: number;
  /** Kills land among the first `killWindow` requester calls. @defaultValue 40 */
  readonly killWindow?: number;
  /** Restarts allowed before the scenario gives up. @defaultValue 30 */
  readonly maxRestarts?: number;
  /**
   * Kills at given calls, besides the seeded ones: the `occurrence`-th call (1-based) of
   * `operation`. With `downtimeMs` the process stays down that long (virtual time) before it is
   * restarted, e.g. past MTurk's 24-hour memory of UniqueRequestTokens.
   */
  readonly targets?: readonly CrashTarget[];
  /**
   * How the child starts again after a kill in the review or bonus phase: `resume` (as `hitstate
   * resume`), or `command`: a fresh process that resumes nothing and loads the run through the
   * review it is sent again, as a re-run `hitstate review` does. @defaultValue 'resume'
   */
  readonly reviewRestarts?: 'resume' | 'command';
  /**
   * What the workers of given units do, by unit index, instead of the seeded choice (unit 0 is
   * always `normal` otherwise). `storeReturn`: the first worker stores data on the task server and
   * returns the HIT; at once (before any poll) the next worker accepts it and submits on MTurk
   * only, never registering.
   */
  readonly plans?: Readonly<Record<number, WorkerPlan>>;
  /** Receives progress lines (debugging). */
  readonly log?: (line: string) => void;
  /** The store: a directory or a `postgres://` URL, left in place. @defaultValue a temp directory, removed at the end */
  readonly storeDir?: string;
}

/** What the workers of a unit do. */
export type WorkerPlan = 'normal' | 'missed' | 'return' | 'ghost' | 'storeReturn';

export interface CrashTarget {
  readonly operation: string;
  /** @defaultValue 1 */
  readonly occurrence?: number;
  readonly mode: 'drop' | 'dropAfter';
  readonly downtimeMs?: number;
}

export interface CrashKill {
  readonly call: number;
  readonly operation: string;
  readonly mode: 'drop' | 'dropAfter';
}

export interface CrashScenarioReport {
  readonly seed: number;
  readonly kills: readonly CrashKill[];
  readonly restarts: number;
  /** Requester calls the simulator saw. */
  readonly calls: number;
  /** Every broken promise found by the final checks (empty when the run was crash-proof). */
  readonly problems: readonly string[];
}

class ChildDied extends Error {
  constructor(reason: string) {
    super(`the child process ended: ${reason}`);
  }
}

/** One child process and its FIFO of answers. */
class ChildHandle {
  readonly proc: ChildProcess;
  alive = true;
  port = 0;
  taskPath = '';
  state: ChildState | undefined;
  readonly #waiting: Array<{ resolve: (m: ChildMessage) => void; reject: (e: Error) => void }> = [];
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  stderr = '';

  constructor(setup: ChildSetup) {
    this.proc = fork(CHILD.file, [], {
      execArgv: [...CHILD.execArgv],
      env: {
        ...process.env,
        HITSTATE_CRASH_CHILD: JSON.stringify(setup),
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', process.env.HITSTATE_CRASH_DEBUG === '1' ? 'inherit' : 'ignore', 'pipe', 'ipc'],
    });
    this.proc.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      if (process.env.HITSTATE_CRASH_DEBUG === '1') process.stderr.write(d);
    });
    let onReady: () => void = () => undefined;
    let onFail: (e: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      onReady = resolve;
      onFail = reject;
    });
    this.ready.catch(() => undefined);
    this.exited = new Promise<void>((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.alive = false;
        const err = new ChildDied(signal ?? `code ${code}`);
        onFail(err);
        for (const w of this.#waiting.splice(0)) w.reject(err);
        resolve();
      });
    });
    this.proc.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        this.port = message.port;
        this.taskPath = message.taskPath;
        this.state = message.state;
        onReady();
        return;
      }
      if ('state' in message) this.state = message.state;
      const waiter = this.#waiting.shift();
      if (message.type === 'failed') waiter?.reject(new Error(`the child failed: ${message.message}`));
      else waiter?.resolve(message);
    });
  }

  request(message: ParentMessage): Promise<ChildMessage> {
    if (!this.alive) return Promise.reject(new ChildDied('already dead'));
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.proc.send(message, (err) => {
        if (err !== null && err !== undefined) reject(new ChildDied(err.message));
      });
    });
  }

  kill(): void {
    if (this.alive) this.proc.kill('SIGKILL');
  }
}

/** Runs one seeded crash scenario; see the top of this file. */
export async function runCrashScenario(options: CrashScenarioOptions): Promise<CrashScenarioReport> {
  const random = seededRandom(options.seed);
  const units = options.units ?? 4;
  const killWindow = options.killWindow ?? 40;
  const maxRestarts = options.maxRestarts ?? 30;
  const log = options.log ?? (() => undefined);
  const schedule = new Map<number, 'drop' | 'dropAfter'>();
  while (schedule.size < Math.min(options.kills ?? 3, killWindow))
    schedule.set(1 + Math.floor(random() * killWindow), random() < 0.5 ? 'drop' : 'dropAfter');

  const clock = new VirtualClock(START_MS);
  const kills: CrashKill[] = [];
  let calls = 0;
  const perOperation = new Map<string, number>();
  let downtimeMs = 0;
  let child: ChildHandle | undefined;
  const sim: Simulator = await createSimulator({
    clock,
    seed: options.seed,
    onRequesterCall: (call): RequesterCallDecision => {
      calls++;
      const occurrence = (perOperation.get(call.operation) ?? 0) + 1;
      perOperation.set(call.operation, occurrence);
      const target = options.targets?.find((t) => t.operation === call.operation && (t.occurrence ?? 1) === occurrence);
      if (target !== undefined) downtimeMs = Math.max(downtimeMs, target.downtimeMs ?? 0);
      const mode = target?.mode ?? schedule.get(calls);
      if (mode === undefined || child === undefined || !child.alive) return undefined;
      kills.push({ call: calls, operation: call.operation, mode });
      log(`kill at call ${calls} (${call.operation}, ${mode})`);
      child.kill();
      return mode;
    },
  });
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'hitstate-'));
  const removeStore = () => {
    if (options.storeDir === undefined) rmSync(storeDir, { recursive: true, force: true });
  };
  const runId = `crash-${options.seed}`;
  const config = {
    title: 'Crash test task',
    description: 'A task whose runtime is killed again and again.',
    reward: '0.40',
    assignmentDurationSec: 900,
    lifetimeSec: 14 * 86_400,
    autoApprovalDelaySec: 2_592_000,
    taskUrl: 'http://127.0.0.1:9/hitstate/task',
    units: Array.from({ length: units }, (_, i) => ({ item: i })),
  };
  let restarts = 0;
  let launched = false;
  /** Set once the reviews start: restarts then follow `reviewRestarts`. */
  let reviewing = false;
  let finished = false;

  const start = async (): Promise<ChildHandle> => {
    for (;;) {
      if (restarts > maxRestarts) throw new Error(`gave up after ${maxRestarts} restarts`);
      const mode = !launched ? 'launch' : reviewing && options.reviewRestarts === 'command' ? 'load' : 'resume';
      launched = true;
      if (downtimeMs > 0) {
        log(`down for ${downtimeMs / 1000} s`);
        await clock.advance(downtimeMs);
        downtimeMs = 0;
      }
      const handle = new ChildHandle({
        storeDir,
        simUrl: sim.url,
        accessKeyId: ACCESS_KEY,
        startMs: clock.now(),
        mode,
        runId,
        config,
        secret: SECRET,
      });
      child = handle;
      try {
        await handle.ready;
        log(`child ${mode} ready (port ${handle.port})`);
        return handle;
      } catch (err) {
        if (!(err instanceof ChildDied)) throw err;
        if (handle.stderr.includes('Error') && !handle.alive && kills.length === 0)
          throw new Error(`the child failed to start:\n${handle.stderr}`);
        restarts++;
        log(`child died while starting; restart ${restarts}`);
      }
    }
  };
  const current = async (): Promise<ChildHandle> => {
    if (child?.alive) return child;
    restarts++;
    return start();
  };

  /** Runs `step` against a live child, restarting the child (resume) whenever it dies. */
  const withChild = async <T>(label: string, step: (c: ChildHandle) => Promise<T>): Promise<T> => {
    for (;;) {
      const c = await current();
      try {
        return await step(c);
      } catch (err) {
        if (err instanceof ChildDied || (err instanceof TypeError && /fetch failed/.test(err.message))) {
          log(`${label}: child died (${err.message}); restarting`);
          await c.exited;
          continue;
        }
        throw err;
      }
    }
  };

  /**
   * Moves both clocks in lockstep until `done(state)` holds. `onStart` runs first with each child
   * (the current one, and every one started after a kill), e.g. to send a request again.
   */
  const advanceUntil = async (
    label: string,
    done: (s: ChildState) => boolean,
    onStart?: (c: ChildHandle) => Promise<ChildState | undefined>,
    maxMs = 6 * 3_600_000,
  ): Promise<ChildState> => {
    const bound = clock.now() + maxMs;
    return withChild(label, async (c) => {
      let state = (await onStart?.(c)) ?? c.state!;
      for (let turn = 0; ; turn++) {
        if (done(state)) return state;
        if (turn % 200 === 199)
          log(
            `${label}: still waiting at ${new Date(clock.now()).toISOString()}: ${JSON.stringify(state.info.counts)} ${JSON.stringify(state.agents)}`,
          );
        const now = clock.now();
        if (now >= bound)
          throw new Error(
            `${label}: not reached after ${maxMs / 1000} s of virtual time; child state ${JSON.stringify(state.info)}`,
          );
        const candidates = [state.nextTimerAt, clock.nextDeadline() ?? null].filter(
          (t): t is number => t !== null && t > now,
        );
        const target = Math.min(now + 5_000, ...candidates);
        await clock.advanceTo(target);
        const answer = await c.request({ type: 'advanceTo', ms: target });
        if (answer.type === 'state') state = answer.state;
      }
    });
  };

  /** Points a worker's browser at the current child's task server (its port changes with every restart). */
  const onChild = (browser: SimulatedWorker, c: ChildHandle): SimulatedWorker => {
    browser.apiUrl = `http://127.0.0.1:${c.port}${c.taskPath.replace(/\/task$/, '')}/api`;
    return browser;
  };

  /** Sends a review (again after every restart: it is idempotent) and moves time until `done`. */
  const review = (label: string, target: ReviewTarget, action: ReviewAction, done: (s: ChildState) => boolean) =>
    advanceUntil(label, done, async (c) => {
      const answer = await c.request({ type: 'review', target, action });
      return answer.type === 'reviewed' ? answer.state : undefined;
    });

  try {
    await start();
    const hitTypeOf = (s: ChildState) => s.info.hitTypeId;
    const afterLaunch = await advanceUntil('launch', (s) => s.info.counts.launched === units && hitTypeOf(s) !== null);
    const hitTypeId = hitTypeOf(afterLaunch)!;
    for (let i = 0; i < units; i++) {
      const drawn = i === 0 ? 'normal' : (['normal', 'missed', 'return', 'ghost'] as const)[Math.floor(random() * 4)]!;
      const plan: WorkerPlan = options.plans?.[i] ?? drawn;
      log(`unit ${i}: ${plan}`);
      const data = { unit: i, answer: `label-${options.seed}-${i}`, nested: { ok: true, list: [i, i + 1] } };
      let worker = sim.workers.create();
      let accepted = await sim.workers.accept(worker, { hitTypeId });
      if (plan === 'ghost') {
        await sim.workers.submit(accepted.assignmentId, { [SUBMISSION_FIELD]: JSON.stringify(data) });
        continue;
      }
      const register = (w: string, a: { assignmentId: string; hitId: string }): Promise<SimulatedWorker> => {
        const browser = new SimulatedWorker({ workerId: w, mturkUrl: sim.url });
        browser.assignmentId = a.assignmentId;
        browser.hitId = a.hitId;
        return withChild(`register ${i}`, async (c) => {
          await onChild(browser, c).register();
          return browser;
        });
      };
      /** Stores `payload` on the task server; a first attempt cut short by a kill may have stored it already (the server keeps it and says so). */
      const storeOnTaskServer = (label: string, browser: SimulatedWorker, payload: unknown): Promise<void> =>
        withChild(label, async (c) => {
          const refusal = await onChild(browser, c)
            .submitToTaskServer(payload)
            .then(
              () => undefined,
              (err: unknown) => err,
            );
          if (
            refusal !== undefined &&
            !(refusal instanceof SimulatedWorkerError && refusal.code === 'HST_ERR_SERVER_ALREADY_SUBMITTED')
          )
            throw refusal;
        });
      let browser = await register(worker, accepted);
      if (plan === 'storeReturn') {
        // Issue 13, F1: the data stored on the task server by a worker who then returns the HIT
        // must not hold the unit; the next worker's MTurk-only submission is the unit's work.
        const stored = { ...data, answer: `returned-${options.seed}-${i}` };
        await storeOnTaskServer(`store ${i}`, browser, stored);
        await sim.workers.returnAssignment(accepted.assignmentId);
        // The gap's timeline exactly: the next worker accepts and submits before any poll, so the
        // sync never sees the HIT Assignable; MTurk's list of submitted assignments decides
        // (docs/runtime.md, "What MTurk cannot tell, and the rule that follows").
        const next = await sim.workers.accept(sim.workers.create(), { hitId: accepted.hitId });
        await sim.workers.submit(next.assignmentId, { [SUBMISSION_FIELD]: JSON.stringify(data) });
        continue;
      }
      if (plan === 'return') {
        await sim.workers.returnAssignment(accepted.assignmentId);
        await advanceUntil(`return ${i}`, (s) => s.agents[browser.agentId!] === 'returned');
        worker = sim.workers.create();
        accepted = await sim.workers.accept(worker, { hitId: accepted.hitId });
        browser = await register(worker, accepted);
      }
      if (plan !== 'missed') {
        await storeOnTaskServer(`submit ${i}`, browser, data);
      }
      await sim.workers.submit(accepted.assignmentId, { [SUBMISSION_FIELD]: JSON.stringify(data) });
    }
    await advanceUntil(
      'completed',
      (s) =>
        s.info.counts.completed === units && Object.values(s.agents).filter((a) => a === 'completed').length === units,
    );
    reviewing = true;
    await review('approve', { all: true }, { kind: 'approve' }, (s) => s.info.counts.accepted === units);
    const agents = Object.keys(child!.state!.agents).filter((id) => child!.state!.agents[id] === 'approved');
    for (const agentId of agents) {
      await review(
        `bonus ${agentId}`,
        { agentId },
        { kind: 'bonus', amountUsd: '0.05', reason: 'Thank you', key: 'crash-bonus' },
        (s) => (s.bonuses[agentId] ?? 0) >= 1,
      );
    }
    const hitsDisposed = () => (sim.inspect().accounts[ACCESS_KEY]?.hits ?? []).every((h) => h.disposed);
    await advanceUntil(
      'done',
      (s) => s.info.status === 'done' && hitsDisposed(),
      async (c) => {
        const answer = await c.request({ type: 'expire' });
        return answer.type === 'state' ? answer.state : undefined;
      },
    );
    await withChild('close', async (c) => {
      await c.request({ type: 'close' });
      await c.exited;
    });
    finished = true;
  } finally {
    child?.kill();
    await child?.exited;
    // A scenario that could not finish still leaves nothing behind (no listening simulator, no store).
    if (!finished) {
      await sim.close();
      removeStore();
    }
  }

  const problems = await check(sim, storeDir, runId, units);
  await sim.close();
  removeStore();
  return { seed: options.seed, kills, restarts, calls, problems };
}

const DECIDED = new Set(['Submitted', 'Approved', 'Rejected']);

/** The final checks: the store against the simulator's whole state. */
async function check(sim: Simulator, storeDir: string, runId: string, units: number): Promise<string[]> {
  const problems: string[] = [];
  const account = sim.inspect().accounts[ACCESS_KEY];
  if (account === undefined) return ['the requester never called MTurk'];
  const store = await openStore({ environment: { kind: 'custom', endpoint: sim.url }, dir: storeDir });
  try {
    const perUnit = new Map<string, number>();
    for (const hit of account.hits) {
      const annotation = parseRequesterAnnotation(hit.requesterAnnotation);
      if (annotation?.runId !== runId) continue;
      perUnit.set(annotation.unitId ?? '?', (perUnit.get(annotation.unitId ?? '?') ?? 0) + 1);
      if (hit.status === 'Assignable' || hit.status === 'Unassignable')
        problems.push(`HIT ${hit.hitId} is still ${hit.status}`);
      for (const a of hit.assignments) {
        if (a.status !== 'Submitted' && a.status !== 'Approved' && a.status !== 'Rejected') continue;
        const agent = store.agents.byAssignment(a.assignmentId, a.workerId);
        if (agent === undefined) {
          problems.push(`assignment ${a.assignmentId} (${a.status}) has no agent in the store`);
          continue;
        }
        const expected = a.answer === undefined ? undefined : recoverSubmission(a.answer).data;
        const stored = store.agents.submission(agent.id);
        if (JSON.stringify(stored) !== JSON.stringify(expected))
          problems.push(`agent ${agent.id}: stored ${JSON.stringify(stored)}, MTurk has ${JSON.stringify(expected)}`);
        if (a.status !== 'Approved') problems.push(`assignment ${a.assignmentId} is ${a.status}, not approved`);
      }
    }
    if (perUnit.size !== units) problems.push(`${perUnit.size} units have HITs, expected ${units}`);
    for (const [unitId, n] of perUnit) if (n !== 1) problems.push(`unit ${unitId} has ${n} HITs`);
    const bonuses = new Map<string, number>();
    for (const b of account.bonusPayments) bonuses.set(b.assignmentId, (bonuses.get(b.assignmentId) ?? 0) + 1);
    for (const [assignmentId, n] of bonuses) if (n !== 1) problems.push(`assignment ${assignmentId} got ${n} bonuses`);
    if (bonuses.size !== units) problems.push(`${bonuses.size} bonuses paid, expected ${units}`);
    for (const unit of store.units.ofRun(runId))
      if (unit.status !== 'accepted') problems.push(`unit ${unit.id} ended ${unit.status}`);
    for (const intent of store.outbox.unconfirmedIntents(runId))
      problems.push(`intent ${intent.token} (${intent.kind}) is still ${intent.state}`);
    // Data a worker stored before returning the HIT is kept under that agent for the record; the
    // submissions that count are those of assignments MTurk holds as submitted.
    const decided = new Set(
      account.hits.flatMap((h) => h.assignments.filter((a) => DECIDED.has(a.status)).map((a) => a.assignmentId)),
    );
    const submissions = store.agents
      .ofRun(runId)
      .filter((a) => decided.has(a.assignmentId) && store.agents.submission(a.id) !== undefined);
    if (submissions.length !== units) problems.push(`${submissions.length} submissions stored, expected ${units}`);
    // Money: what the store says the run spent equals what left the account, to the cent.
    const spent = STARTING_BALANCE_CENTS - account.balanceCents;
    const recorded = moneyOfRun(store, runId).totalCents;
    if (recorded !== spent) problems.push(`the store records ${recorded}¢ spent, the MTurk account ${spent}¢`);
    if (store.runs.require(runId).status !== 'done') problems.push(`the run ended ${store.runs.require(runId).status}`);
  } finally {
    await store.close();
  }
  return problems;
}
