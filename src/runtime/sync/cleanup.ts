/**
 * Cleaning up a run on MTurk: every HIT the account holds for the run (found by its
 * RequesterAnnotation, so orphans from a crash are found too; HITs another store's annotation
 * names and compensation HITs are left alone)
 * is expired if still live and disposed if MTurk allows it; what cannot be disposed yet is
 * reported with the reason. Mephisto's `cleanup_resources_from_task_run` did nothing, and its
 * cleanup script asked before touching anything (lesson #26 of docs/mephisto-semantics.md#known-bugs-and-lessons).
 *
 * @module
 */
import { isStateRefusal, orThrow } from '../../mturk/outcome.js';
import type { HITInfo } from '../../mturk/records.js';
import type { Runtime } from '../core/runtime.js';

/** What a cleanup did. */
export interface CleanupReport {
  readonly runId: string;
  /** HITs that were live and were expired. */
  readonly expired: readonly string[];
  readonly disposed: readonly string[];
  /** HITs left on MTurk (a worker still holds one, or a submission awaits review), with why. */
  readonly kept: readonly { readonly hitId: string; readonly reason: string }[];
}

/**
 * Cleans up a run's HITs (expiring the run first if it is still running).
 *
 * @throws HitstateError `HST_ERR_RUN_NOT_FOUND`, `HST_ERR_MTURK_*` when MTurk cannot be listed.
 */
export async function cleanupRun(runtime: Runtime, runId: string): Promise<CleanupReport> {
  const record = runtime.store.runs.require(runId);
  const loaded = runtime.loaded(runId);
  if (loaded !== undefined && loaded.status() !== 'done' && loaded.status() !== 'failed')
    await runtime.expireRun(runId, { wait: false });
  const gw = runtime.gateway(record.requesterName);
  const hits = orThrow(await gw.listHITs({ lane: 'lifecycle' }), { operation: 'ListHITs' }) as HITInfo[];
  const expired: string[] = [];
  const disposed: string[] = [];
  const kept: Array<{ hitId: string; reason: string }> = [];
  for (const hit of hits) {
    if (hit.annotation?.runId !== runId || hit.annotation.purpose !== undefined || hit.hitStatus === 'Disposed')
      continue;
    // Only this store's HITs: another store may have a run of the same id on the account.
    if (hit.annotation.storeId !== undefined && hit.annotation.storeId !== runtime.store.storeId) continue;
    if (hit.hitStatus === 'Assignable' || hit.hitStatus === 'Unassignable') {
      const outcome = await gw.expireHIT(hit.hitId);
      if (outcome.status === 'ok' || outcome.status === 'alreadyDone') expired.push(hit.hitId);
    }
    const deleted = await gw.deleteHIT(hit.hitId);
    if (deleted.status === 'ok' || deleted.status === 'alreadyDone' || deleted.status === 'notFound') {
      disposed.push(hit.hitId);
      if (runtime.store.hits.get(hit.hitId) !== undefined) runtime.store.hits.observe(hit.hitId, 'Disposed');
    } else {
      kept.push({
        hitId: hit.hitId,
        reason: isStateRefusal(deleted)
          ? 'a worker still holds it or a submission awaits review; review it, then clean up again'
          : deleted.message,
      });
    }
  }
  await runtime.store.flush();
  return { runId, expired, disposed, kept };
}
