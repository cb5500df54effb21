/**
 * `hitstate export RUN`: everything the store holds about a run (config, units, HITs, agents with
 * their submissions, workers, money intents, actor snapshots, the audit trail of MTurk calls) as
 * one JSON document, written to a file or, with `--json`, to stdout.
 *
 * @module
 */
import { resolve } from 'node:path';
import { EXIT, usageError, type CommandSpec } from '../command.js';
import { defaultExportPath, describeExport, writeRunExport } from '../export-file.js';
import { envOption, locateRun, openStoreFor, STORE_OPTION, storeDirOf } from '../target.js';

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'Write everything a run holds (submissions included) as one JSON document',
  description: [
    'The document is `store.exportRun(RUN)` (docs/datastore.md, "Exporting a run"): format "hitstate-run-export",',
    'the run and its config, units, HITs, agents each with its submission, workers, money intents, actor snapshots',
    'and the audit trail. Without --out it goes to <store>/exports/RUN.json; --json prints it to stdout instead.',
    'Reads the store only: no MTurk call.',
  ].join('\n'),
  positionals: [{ name: 'run', description: 'The run id (see `hitstate status`)', required: true }],
  options: [
    envOption(),
    STORE_OPTION,
    {
      name: 'out',
      type: 'string',
      value: 'FILE',
      description: 'Write the export to FILE (default <store>/exports/RUN.json)',
    },
    { name: 'json', type: 'boolean', description: 'Print the export to stdout instead of writing a file' },
  ],
  examples: [
    'hitstate export run-20260301-090000Z-1a2b',
    'hitstate export pilot-3 --out pilot-3.json',
    "hitstate export pilot-3 --json | jq '.agents[].submission'",
  ],
  async run(args, io) {
    const runId = args.positionals[0]!;
    if (args.options.json === true && args.options.out !== undefined)
      throw usageError('hitstate export: --json prints to stdout and --out writes a file; give one of them.', 'json');
    const storeDir = storeDirOf(args.options, io);
    const store = await openStoreFor(storeDir, locateRun(storeDir, runId, args.options));
    try {
      if (args.options.json === true) {
        io.out(`${JSON.stringify(await store.exportRun(runId), null, 2)}\n`);
        return EXIT.ok;
      }
      const path =
        typeof args.options.out === 'string' ? resolve(io.cwd, args.options.out) : defaultExportPath(storeDir, runId);
      const data = await writeRunExport(store, runId, path);
      io.out(`hitstate export: wrote ${path}\n  ${describeExport(data)}\n`);
      return EXIT.ok;
    } finally {
      await store.close();
    }
  },
};
