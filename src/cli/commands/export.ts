/**
 * `hitstate export RUN`: a run's data for archiving (`--format json`: everything the store holds,
 * one document) or for analysis (`--format csv|jsonl`: one row per submission with the unit's
 * input, worker, times, answer fields, review and bonus; units without a submission listed with
 * their final state). Written to a file (atomically) or to stdout.
 *
 * @module
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { HitstateError } from '../../errors.js';
import { EXIT, usageError, type CommandSpec } from '../command.js';
import { defaultExportPath, describeExport } from '../export-file.js';
import { exportTable, toCsv, toJsonl } from '../export-table.js';
import { envOption, localDirOf, locateRun, STORE_OPTION, storeDirOf } from '../target.js';
import { openStoreToLook } from './status.js';

const FORMATS = ['json', 'csv', 'jsonl'] as const;
type Format = (typeof FORMATS)[number];

/** Writes `text` to `path` through a temporary file in the same folder, so a reader never sees half of it. */
function writeOut(path: string, text: string, defaultPlace: boolean): void {
  const fail = (why: string): never => {
    throw new HitstateError(
      'HST_ERR_CLI_OUTPUT_PATH',
      `cannot write ${path}: ${why}. Pass --out with a file path in an existing, writable folder (e.g. --out answers.csv), or --out - for stdout.`,
      { field: 'out', file: path },
    );
  };
  const folder = dirname(path);
  if (defaultPlace) mkdirSync(folder, { recursive: true });
  let isDir = false;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    isDir = false;
  }
  if (isDir) fail('it is a folder');
  try {
    if (!statSync(folder).isDirectory()) fail(`${folder} is not a folder`);
  } catch (err) {
    if (err instanceof HitstateError) throw err;
    fail(`the folder ${folder} does not exist`);
  }
  const tmp = join(folder, `.hitstate-export.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    fail((err as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied' : (err as Error).message);
  }
}

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: "Write a run's data: everything as JSON, or one row per answer as CSV or JSON Lines",
  description: [
    '--format json (default): `store.exportRun(RUN)` (docs/datastore.md, "Exporting a run"), format',
    '"hitstate-run-export": the run and its config, units (each with its input), HITs, agents each with its',
    'submission, workers, money intents, actor snapshots and the audit trail.',
    "--format csv|jsonl: one row per submission with the unit's input fields (input.*), worker, assignment and",
    "HIT ids, accepted_at, submitted_at, duration_sec, the answer's fields (answer.*, nested JSON as dotted",
    'columns), review, review_feedback, bonus_usd; a unit without a submission is one row with its final state.',
    'CSV is RFC 4180 (CRLF, quoted fields), UTF-8 (--bom adds a byte-order mark for Excel); text cells starting',
    "with = + - @ get a leading ' so a spreadsheet never runs a worker's answer as a formula.",
    'Without --out the file goes to <store>/exports/RUN.<format>; --out - (or --json) prints to stdout.',
    'Reads the store only: no MTurk call.',
  ].join('\n'),
  positionals: [{ name: 'run', description: 'The run id (see `hitstate status`)', required: true }],
  options: [
    envOption(),
    STORE_OPTION,
    {
      name: 'format',
      type: 'string',
      value: 'FORMAT',
      description: 'What to write',
      choices: FORMATS,
      default: 'json',
    },
    {
      name: 'out',
      type: 'string',
      value: 'FILE',
      description: 'Write to FILE, or - for stdout (default <store>/exports/RUN.<format>)',
    },
    { name: 'bom', type: 'boolean', description: 'Start the CSV with a UTF-8 byte-order mark (for Excel)' },
    { name: 'json', type: 'boolean', description: 'Print the JSON export to stdout (same as --format json --out -)' },
  ],
  examples: [
    'hitstate export run-20260301-090000Z-1a2b',
    'hitstate export pilot-3 --format csv --out pilot-3.csv --bom',
    "hitstate export pilot-3 --format jsonl --out - | jq 'select(.review == null)'",
    "hitstate export pilot-3 --json | jq '.agents[].submission'",
  ],
  async run(args, io) {
    const runId = args.positionals[0]!;
    const format = String(args.options.format) as Format;
    if (args.options.json === true && args.options.out !== undefined)
      throw usageError('hitstate export: --json prints to stdout and --out writes a file; give one of them.', 'json');
    if (args.options.json === true && format !== 'json')
      throw usageError(`hitstate export: --json prints the JSON export; for ${format} use --out -.`, 'json');
    if (args.options.bom === true && format !== 'csv')
      throw usageError('hitstate export: --bom applies to --format csv only.', 'bom');
    if (args.options.out === '') throw usageError('hitstate export: --out needs a file path (or - for stdout).', 'out');
    const storeDir = storeDirOf(args.options, io);
    const store = await openStoreToLook(storeDir, await locateRun(storeDir, runId, args.options));
    try {
      const data = await store.exportRun(runId);
      const text =
        format === 'json'
          ? `${JSON.stringify(data, null, 2)}\n`
          : format === 'csv'
            ? toCsv(exportTable(data), { bom: args.options.bom === true })
            : toJsonl(exportTable(data));
      if (args.options.json === true || args.options.out === '-') {
        io.out(text);
        return EXIT.ok;
      }
      const explicit = typeof args.options.out === 'string';
      const path = explicit
        ? resolve(io.cwd, String(args.options.out))
        : defaultExportPath(localDirOf(storeDir, io), runId).replace(/\.json$/, `.${format}`);
      writeOut(path, text, !explicit);
      const summary =
        format === 'json'
          ? describeExport(data)
          : `${exportTable(data).rows.length} rows (one per submission, plus units without one)`;
      io.out(`hitstate export: wrote ${path}\n  ${summary}\n`);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
