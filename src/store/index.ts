/**
 * hitstate's datastore: everything a task run must not lose, in JSON files written through
 * lowdb, atomically, coalesced, one writer per store. See docs/datastore.md.
 *
 * @module
 */
export { openStore } from './open-store.js';
export type { OpenReport, Store, StoreEvents, StoreOptions, StoreStats, WriteReport } from './store-api.js';
export { restoreBackup } from './restore-backup.js';
export { checkStoreDir, damagedStoreError, environmentOfDir, looksLikeStore } from './check.js';
export type { BackupLoss, FileCheck, GoodBackupInfo, StoreCheck } from './check.js';
export { repairStore } from './repair.js';
export type { RepairReport, RepairStoreOptions } from './repair.js';
export type { RestoreBackupOptions, RestoredBackup } from './restore-backup.js';
export { environmentSlug, normalizeEnvironment, sameEnvironment } from './environment.js';
export type { StoreEnvironment } from './environment.js';
export { nodeFileSystem } from './file-system.js';
export type { FileStat, OpenedFile, StoreFileSystem } from './file-system.js';
export { SCHEMA_VERSION } from './layout.js';
export { MIGRATIONS } from './migrations.js';
export type { Migration, MigrationInput } from './migrations.js';
export type { LockInfo } from './lock.js';
export type { FileStats } from './store-file.js';
export type { ExportedAgent, ExportedUnit, RunExport } from './export-run.js';
export type { JsonObject, JsonValue, ReadonlyJson, ReadonlyJsonObject } from './json.js';
export { IntentKind, IntentState, ReviewDecision, TaskRunStatus, INTENT_KINDS, TASK_RUN_STATUSES } from './types.js';
export type {
  AgentRecord,
  AgentReview,
  AuditEntry,
  AuditInput,
  CredentialSource,
  HitRecord,
  IntentInput,
  IntentRecord,
  QualificationMapping,
  RequesterRecord,
  SnapshotRecord,
  TaskRunRecord,
  UnitRecord,
  WorkerBlock,
  WorkerRecord,
} from './types.js';
export type { AgentInput, AgentsCollection, ReviewInput } from './collections/agents.js';
export type { AuditFilter, AuditTrail } from './collections/audit.js';
export type { BindInput, HitInput, HitPool } from './collections/hits.js';
export type { OutboxCollection } from './collections/outbox.js';
export type { QualificationInput, QualificationsCollection } from './collections/qualifications.js';
export type { RequesterInput, RequestersCollection } from './collections/requesters.js';
export type { RunsCollection, TaskRunInput } from './collections/runs.js';
export type { SnapshotInput, SnapshotsCollection } from './collections/snapshots.js';
export type { UnitInput, UnitsCollection } from './collections/units.js';
export type { WorkersCollection } from './collections/workers.js';
