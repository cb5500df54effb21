/**
 * Export of one task run as a single JSON-safe object: everything the store knows about it,
 * submissions included, for archiving, analysis or a bug report.
 *
 * @module
 */
import type { JsonValue } from './json.js';
import type { StoreEnvironment } from './environment.js';
import { SCHEMA_VERSION } from './layout.js';
import type {
  AgentRecord,
  AuditEntry,
  HitRecord,
  IntentRecord,
  QualificationMapping,
  RequesterRecord,
  SnapshotRecord,
  TaskRunRecord,
  UnitRecord,
  WorkerRecord,
} from './types.js';

/** An agent with its submitted data (null when it has not submitted). */
export interface ExportedAgent extends AgentRecord {
  readonly submission: JsonValue | null;
}

/** A unit with its input: the item of the run config's `units` list at its index (null when the config gave a count). */
export interface ExportedUnit extends UnitRecord {
  readonly input: JsonValue | null;
}

/** What `store.exportRun` returns. `JSON.stringify` it as is. */
export interface RunExport {
  readonly format: 'hitstate-run-export';
  readonly schemaVersion: number;
  readonly exportedAt: number;
  readonly environment: StoreEnvironment;
  readonly run: TaskRunRecord;
  readonly requester: RequesterRecord | null;
  readonly qualifications: readonly QualificationMapping[];
  readonly hits: readonly HitRecord[];
  readonly units: readonly ExportedUnit[];
  readonly agents: readonly ExportedAgent[];
  readonly workers: readonly WorkerRecord[];
  readonly outbox: readonly IntentRecord[];
  readonly snapshots: readonly SnapshotRecord[];
  readonly audit: readonly AuditEntry[];
}

/** The parts of the store the export reads. */
export interface ExportSource {
  readonly environment: StoreEnvironment;
  readonly now: number;
  readonly run: TaskRunRecord;
  readonly requester: RequesterRecord | undefined;
  readonly qualifications: readonly QualificationMapping[];
  readonly hits: readonly HitRecord[];
  readonly units: readonly UnitRecord[];
  readonly agents: readonly AgentRecord[];
  readonly submissionOf: (agentId: string) => JsonValue | undefined;
  readonly workers: readonly WorkerRecord[];
  readonly outbox: readonly IntentRecord[];
  readonly snapshots: readonly SnapshotRecord[];
  readonly audit: AsyncIterable<AuditEntry>;
}

/** The input of the unit at `index`: `config.units[index]` when the config listed the units. */
function inputOf(run: TaskRunRecord, index: number): JsonValue | null {
  const units = run.config.units;
  if (!Array.isArray(units) || index < 0 || index >= units.length) return null;
  return (units[index] ?? null) as JsonValue | null;
}

export async function buildRunExport(source: ExportSource): Promise<RunExport> {
  const audit: AuditEntry[] = [];
  for await (const entry of source.audit) audit.push(entry);
  return {
    format: 'hitstate-run-export',
    schemaVersion: SCHEMA_VERSION,
    exportedAt: source.now,
    environment: source.environment,
    run: source.run,
    requester: source.requester ?? null,
    qualifications: source.qualifications,
    hits: source.hits,
    units: source.units.map((unit) => ({ ...unit, input: inputOf(source.run, unit.index) })),
    agents: source.agents.map((agent) => ({ ...agent, submission: source.submissionOf(agent.id) ?? null })),
    workers: source.workers,
    outbox: source.outbox,
    snapshots: source.snapshots,
    audit,
  };
}
