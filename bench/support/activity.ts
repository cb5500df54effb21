// Work that happens between two status-sync cycles of a fixture run, so cycles see news as in a
// live run: some workers submit (the wrapper's path: the task server stores the data, then the
// form goes to MTurk's externalSubmit) and one returns the HIT on MTurk.
import type { Runtime } from '../../src/runtime/core/runtime.js';
import { SUBMISSION_FIELD } from '../../src/server/wrapper-source.js';
import type { SimProcess } from './sim-process.js';

/** The fixture's workers, each acting at most once. */
export class WorkerActivity {
  readonly #acted = new Set<string>();

  constructor(
    readonly runtime: Runtime,
    readonly sim: SimProcess,
    readonly runId: string,
  ) {}

  /** Agents still in the task that have not acted yet, oldest first. */
  #working() {
    return this.runtime.store.agents
      .ofRun(this.runId)
      .filter((a) => !this.#acted.has(a.id) && this.runtime.agentStatus(a.id) === 'in task');
  }

  /** `submits` workers submit, `returns` return their HIT; returns what happened. */
  async act(submits: number, returns: number): Promise<{ submitted: number; returned: number }> {
    const agents = this.#working();
    const backend = this.runtime.taskServerBackend();
    let submitted = 0;
    let returned = 0;
    // Workers submit at the same time, as they do in a live run (the store writes their data together).
    await Promise.all(
      agents.slice(0, submits).map(async (agent) => {
        this.#acted.add(agent.id);
        const data = { sentiment: 'positive', comment: `submitted by ${agent.workerId}` };
        await backend.submit(agent.id, data);
        await this.sim.submit(agent.assignmentId, { [SUBMISSION_FIELD]: JSON.stringify(data) });
        submitted++;
      }),
    );
    for (const agent of agents.slice(submits, submits + returns)) {
      this.#acted.add(agent.id);
      await this.sim.returnAssignment(agent.assignmentId);
      returned++;
    }
    return { submitted, returned };
  }
}
