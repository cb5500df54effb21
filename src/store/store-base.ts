/**
 * What every {@link Store} shares whatever its backend: the collections over one in-memory
 * {@link StoreState}, the store's id and a run's export. The lowdb store (`open-store.ts`) and the
 * store on any other backend (`open-backend.ts`) differ only in how they write and close.
 *
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { type AgentsCollection, agentsCollection } from './collections/agents.js';
import { type AuditTrail, auditTrail } from './collections/audit.js';
import { type HitPool, hitPool } from './collections/hits.js';
import { type OutboxCollection, outboxCollection } from './collections/outbox.js';
import { type QualificationsCollection, qualificationsCollection } from './collections/qualifications.js';
import { type RequestersCollection, requestersCollection } from './collections/requesters.js';
import { type RunsCollection, runsCollection } from './collections/runs.js';
import { type SnapshotsCollection, snapshotsCollection } from './collections/snapshots.js';
import { type UnitsCollection, unitsCollection } from './collections/units.js';
import { type WorkersCollection, workersCollection } from './collections/workers.js';
import type { StoreEnvironment } from './environment.js';
import { buildRunExport, type RunExport } from './export-run.js';
import type { StoreEvents } from './store-api.js';
import type { StoreState } from './store-state.js';

export abstract class StoreBase extends EventEmitter<StoreEvents> {
  readonly environment: StoreEnvironment;
  readonly readOnly: boolean;
  readonly requesters: RequestersCollection;
  readonly runs: RunsCollection;
  readonly units: UnitsCollection;
  readonly hits: HitPool;
  readonly agents: AgentsCollection;
  readonly workers: WorkersCollection;
  readonly qualifications: QualificationsCollection;
  readonly outbox: OutboxCollection;
  readonly snapshots: SnapshotsCollection;
  readonly audit: AuditTrail;
  readonly #state: StoreState;

  protected constructor(state: StoreState) {
    super();
    this.#state = state;
    this.environment = state.environment;
    this.readOnly = state.readOnly;
    const flush = () => this.flush();
    this.requesters = requestersCollection(state);
    this.runs = runsCollection(state);
    this.units = unitsCollection(state);
    this.hits = hitPool(state);
    this.workers = workersCollection(state);
    this.agents = agentsCollection(state, this.workers);
    this.qualifications = qualificationsCollection(state);
    this.outbox = outboxCollection(state, flush);
    this.snapshots = snapshotsCollection(state);
    this.audit = auditTrail(state, flush);
  }

  abstract flush(): Promise<void>;

  get storeId(): string | null {
    return this.#state.core.data.storeId ?? null;
  }

  ensureStoreId(): string {
    const existing = this.#state.core.data.storeId;
    if (existing !== undefined) return existing;
    this.#state.assertWritable();
    return this.#state.ensureStoreId();
  }

  async exportRun(runId: string): Promise<RunExport> {
    const run = this.runs.require(runId);
    return buildRunExport({
      environment: this.#state.environment,
      now: this.#state.clock.now(),
      run,
      requester: this.requesters.get(run.requesterName),
      qualifications: this.qualifications.ofRequester(run.requesterName),
      hits: this.hits.ofRun(runId),
      units: this.units.ofRun(runId),
      agents: this.agents.ofRun(runId),
      submissionOf: (agentId) => this.agents.submission(agentId),
      workers: this.workers.ofRun(runId),
      outbox: this.outbox.ofRun(runId),
      snapshots: this.snapshots.ofRun(runId),
      audit: this.audit.entries({ runId }),
    });
  }
}
