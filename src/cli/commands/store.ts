/**
 * `hitstate store check|restore`: verify a store file by file, and restore only what a damaged
 * store lost (after saving a copy of all of it). A backup of store.json copied over by hand
 * would drop every run created after it; `restore` keeps each run that has a folder on disk.
 *
 * @module
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkStoreDir,
  environmentOfDir,
  looksLikeStore,
  repairStore,
  sameEnvironment,
  type StoreCheck,
  type StoreEnvironment,
} from '../../store/index.js';
import { HitstateError } from '../../errors.js';
import { EXIT, usageError, type CliIO, type CommandSpec } from '../command.js';
import { styleFor, type Style } from '../style.js';
import { formatTable } from '../table.js';
import {
  describeEnvironment,
  describeStore,
  envOption,
  openStoreFor,
  parseEnvironment,
  STORE_OPTION,
  storeDirOf,
} from '../target.js';
import { isDatabaseUrl } from '../../store/location.js';

const ACTIONS = ['check', 'restore'] as const;

/** Every environment directory under `storeDir` holding store data, with its environment. */
function storesUnder(
  storeDir: string,
  wanted: StoreEnvironment | undefined,
): { dir: string; env: StoreEnvironment | null }[] {
  if (!existsSync(storeDir)) return [];
  return readdirSync(storeDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && looksLikeStore(join(storeDir, d.name)))
    .map((d) => ({ dir: join(storeDir, d.name), env: environmentOfDir(join(storeDir, d.name)) }))
    .filter((s) => wanted === undefined || s.env === null || sameEnvironment(s.env, wanted));
}

function printCheck(io: CliIO, check: StoreCheck, style: Style): void {
  const name = check.environment === null ? check.root : describeEnvironment(check.environment);
  const bad = check.files.filter((f) => !f.ok);
  io.out(
    `${style.bold(name)} (${check.root}): ${check.files.length} file(s), ${check.runsOnDisk.length} run folder(s), ${bad.length === 0 ? style.green('all good') : style.red(`${bad.length} damaged`)}\n`,
  );
  io.out(
    formatTable(
      [{ header: 'FILE' }, { header: 'STATE' }, { header: 'RECORDS', align: 'right' }, { header: 'PROBLEM' }],
      check.files.map((f) => [
        f.file,
        f.ok ? 'ok' : style.red('DAMAGED'),
        f.records === null ? '-' : String(f.records),
        f.problem ?? '',
      ]),
      '  ',
    ),
  );
  for (const f of bad)
    io.out(
      f.backup === null
        ? `  ${f.file}: no good backup\n`
        : `  ${f.file}: newest good backup ${f.backup.path} (${new Date(f.backup.modifiedAt).toISOString()}); ${f.backup.loss.text}\n`,
    );
}

export const storeCommand: CommandSpec = {
  name: 'store',
  summary: 'Check a store file by file, or restore what a damaged one lost',
  description: [
    "`check` reads every file of the store (store.json, workers.json, each run's shards and run.json) as",
    'opening it would, without taking its lock, and prints one line per file; for a damaged file, its newest',
    'good backup and what that backup would lose. Exit code 0 when every file is good, 1 otherwise.',
    '`restore` first saves a copy of the whole environment directory to <store>/saved/ENV-TIME/, then puts back',
    'only what is lost: a damaged shard or workers.json from its newest good backup; a damaged store.json from',
    "its newest good backup plus every run that has a folder on disk (from the run's run.json), so no run is",
    'dropped. The damaged files are kept as <file>.damaged-TIME. It refuses while a hitstate process holds the store.',
  ].join('\n'),
  positionals: [{ name: 'action', description: 'check or restore', required: true }],
  options: [envOption(), STORE_OPTION, { name: 'json', type: 'boolean', description: 'Print JSON instead of tables' }],
  examples: ['hitstate store check', 'hitstate store restore --env sandbox', 'hitstate store check --json'],
  async run(args, io) {
    const action = args.positionals[0]!;
    if (!(ACTIONS as readonly string[]).includes(action))
      throw usageError(`hitstate store: the action must be check or restore, got ${JSON.stringify(action)}.`, 'action');
    const style = styleFor(io);
    const storeDir = storeDirOf(args.options, io);
    if (isDatabaseUrl(storeDir))
      throw usageError(
        `hitstate store ${action} works on the files of a store directory; ${describeStore(storeDir)} is a PostgreSQL database, whose records are checked on every open (a damaged one is named with the statement that removes it). Back it up and restore it with PostgreSQL's tools (pg_dump, point-in-time recovery).`,
        'store',
      );
    const wanted =
      typeof args.options.env === 'string' && args.options.env !== '' ? parseEnvironment(args.options.env) : undefined;
    const stores = storesUnder(storeDir, wanted);
    if (stores.length === 0) {
      io.err(
        `hitstate store: no ${wanted === undefined ? '' : `${describeEnvironment(wanted)} `}store under ${storeDir}; pass --store DIR if it is elsewhere.\n`,
      );
      return EXIT.failure;
    }
    const checks = stores.map((s) => checkStoreDir(s.dir, s.env ?? undefined));
    if (action === 'check') {
      if (args.options.json === true) io.out(`${JSON.stringify(checks, null, 2)}\n`);
      else for (const c of checks) printCheck(io, c, style);
      return checks.every((c) => c.ok) ? EXIT.ok : EXIT.failure;
    }
    const damaged = checks.filter((c) => !c.ok);
    if (damaged.length === 0) {
      io.out(`hitstate store restore: every file is good under ${storeDir}; nothing to restore.\n`);
      return EXIT.ok;
    }
    if (damaged.length > 1 && wanted === undefined)
      throw usageError(
        `hitstate store restore: the stores of ${damaged.map((d) => (d.environment === null ? d.root : describeEnvironment(d.environment))).join(' and ')} are damaged; pass --env to restore one at a time.`,
        'env',
      );
    const target = damaged[0]!;
    if (target.environment === null) {
      io.err(
        `hitstate store restore: no file of ${target.root} names its environment; repair its store.json by hand (see \`hitstate store check\`).\n`,
      );
      return EXIT.failure;
    }
    const report = await repairStore({ dir: storeDir, environment: target.environment });
    if (report.unrecovered.length > 0) {
      if (args.options.json === true) io.out(`${JSON.stringify(report, null, 2)}\n`);
      else {
        io.out(`hitstate store restore: a copy of the whole store was saved to ${report.savedCopy}\n`);
        for (const r of report.restored) io.out(`  restored ${r.file} from ${r.from}\n`);
        for (const u of report.unrecovered) io.out(`  ${style.red('not restored')} ${u.file}: ${u.why}\n`);
      }
      throw new HitstateError(
        'HST_ERR_CLI_STORE_RESTORE_INCOMPLETE',
        `${report.unrecovered.length} file(s) could not be restored (listed above); the copy saved at ${report.savedCopy} holds them as they were. Repair them by hand or move them away, then run \`hitstate store check\`.`,
        { file: report.unrecovered[0]!.file },
      );
    }
    // Opening it proves the restore: every file passes the checks again.
    const store = await openStoreFor(storeDir, target.environment);
    const runs = store.runs.list().map((r) => `${r.id} (${r.status})`);
    await store.close();
    if (args.options.json === true) {
      io.out(`${JSON.stringify({ ...report, runs }, null, 2)}\n`);
      return EXIT.ok;
    }
    io.out(`hitstate store restore: a copy of the whole store was saved to ${report.savedCopy}\n`);
    for (const r of report.restored) io.out(`  restored ${r.file} from ${r.from}\n`);
    if (report.runsKept.length > 0)
      io.out(`  kept run(s) the backup lacked: ${report.runsKept.join(', ')} (from their run.json)\n`);
    io.out(`  the store opens again with ${runs.length} run(s): ${runs.join(', ') || '-'}\n`);
    return EXIT.ok;
  },
};
