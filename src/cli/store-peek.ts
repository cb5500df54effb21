/**
 * A read-only look at a store another process holds (a `hitstate run` in progress), for
 * `hitstate status`: the runs in `store.json` and their units and money intents from the run
 * shards, read straight from the files as last written. Files are replaced by atomic renames, so
 * each read sees a whole file; figures across files may be a write apart. Nothing is written, no
 * lock is taken, and a file of another schema version is not interpreted.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AssignmentState } from '../../machines/index.js';
import { SCHEMA_VERSION } from '../store/index.js';
import { moneyOf, type MoneyIntent, type MoneySummary } from './money-summary.js';
import { UNIT_STATES } from './progress.js';

/** A run as read from the files. */
export interface PeekedRun {
  readonly runId: string;
  readonly status: string;
  readonly requesterName: string;
  readonly title: string | null;
  readonly hitTypeId: string | null;
  readonly createdAt: number;
  readonly finishedAt: number | null;
  readonly counts: Readonly<Record<AssignmentState, number>>;
  readonly money: MoneySummary;
}

interface StoreFileShape {
  readonly format?: unknown;
  readonly schemaVersion?: unknown;
  readonly records?: Record<string, Record<string, unknown>>;
  readonly runs?: Record<string, { id: string; status: string; requesterName: string; config: Record<string, unknown>; hitTypeId: string | null; createdAt: number; finishedAt: number | null }>;
}

function read(path: string): StoreFileShape | undefined {
  try {
    const data = JSON.parse(readFileSync(path, 'utf8')) as StoreFileShape;
    return data.format === 'hitstate-store' && data.schemaVersion === SCHEMA_VERSION ? data : undefined;
  } catch {
    return undefined;
  }
}

/** The records of every shard of one collection of a run. */
function shardRecords(runDir: string, kind: 'units' | 'outbox'): Record<string, unknown>[] {
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir)
    .filter((name) => new RegExp(`^${kind}-\\d+\\.json$`).test(name))
    .flatMap((name) => Object.values(read(join(runDir, name))?.records ?? {}));
}

/**
 * The runs of the store in `envDir` (an environment's directory), or undefined when its
 * `store.json` cannot be read as this hitstate's schema.
 */
export function peekRuns(envDir: string): PeekedRun[] | undefined {
  const core = read(join(envDir, 'store.json'));
  if (core?.runs === undefined) return undefined;
  return Object.values(core.runs).map((run) => {
    const runDir = join(envDir, 'runs', run.id);
    const units = shardRecords(runDir, 'units') as { id: string; status: AssignmentState; payAmountUsd: string }[];
    const counts = Object.fromEntries(UNIT_STATES.map((s) => [s, 0])) as Record<AssignmentState, number>;
    for (const u of units) if (u.status in counts) counts[u.status]++;
    const pay = new Map(units.map((u) => [u.id, u.payAmountUsd]));
    const money = moneyOf(shardRecords(runDir, 'outbox') as unknown as MoneyIntent[], (unitId) => pay.get(unitId));
    return {
      runId: run.id,
      status: run.status,
      requesterName: run.requesterName,
      title: typeof run.config?.title === 'string' ? run.config.title : null,
      hitTypeId: run.hitTypeId,
      createdAt: run.createdAt,
      finishedAt: run.finishedAt,
      counts,
      money,
    };
  });
}
