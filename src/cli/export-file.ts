/**
 * Writing a run's export (`store.exportRun`) to a file, atomically: a temporary file in the same
 * folder, then a rename, so a reader never sees half a file. The default place is the store
 * directory's `exports/` folder.
 *
 * @module
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunExport, Store } from '../store/index.js';

/** Where `hitstate export` and `hitstate demo` write a run's export by default. */
export function defaultExportPath(storeDir: string, runId: string): string {
  return join(storeDir, 'exports', `${runId}.json`);
}

/** Exports a run to `path` (pretty-printed JSON) and returns the export. */
export async function writeRunExport(store: Store, runId: string, path: string): Promise<RunExport> {
  const data = await store.exportRun(runId);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${runId}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, path);
  return data;
}

/** `20 units, 21 agents (18 with a submission), 19 HITs, 240 audit entries`. */
export function describeExport(data: RunExport): string {
  const submitted = data.agents.filter((a) => a.submission !== null).length;
  return `${data.units.length} units, ${data.agents.length} agents (${submitted} with a submission), ${data.hits.length} HITs, ${data.audit.length} audit entries`;
}
