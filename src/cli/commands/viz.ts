/**
 * `hitstate viz`: draws the unit, agent and taskRun machines as Mermaid state diagrams, XState
 * JSON definitions (importable by Stately tools) or markdown state tables; with `--write DIR`
 * writes them as files and refreshes the generated blocks of `DIR.md`, and with `--check` only
 * reports files that are missing or stale (for CI).
 *
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { MACHINES, toJSONDefinition, toMermaid, toStateTable } from '../../../machines/index.js';
import { EXIT, usageError, type CommandSpec } from '../command.js';

/** The machines in the order they are drawn. */
export const MACHINE_NAMES = Object.keys(MACHINES) as Array<keyof typeof MACHINES>;
export type MachineName = (typeof MACHINE_NAMES)[number];

const FORMATS = ['mermaid', 'json', 'table'] as const;
type Format = (typeof FORMATS)[number];

function render(name: MachineName, format: Format): string {
  const machine = MACHINES[name];
  if (format === 'json') return toJSONDefinition(machine);
  if (format === 'table') return toStateTable(machine);
  return toMermaid(machine);
}

/** The files `--write` produces, by file name: `<machine>.mmd` and `<machine>.json` for each machine. */
export function machineFiles(names: readonly MachineName[] = MACHINE_NAMES): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of names) {
    files[`${name}.mmd`] = render(name, 'mermaid');
    files[`${name}.json`] = render(name, 'json');
  }
  return files;
}

/**
 * Replaces every generated block of a markdown document with fresh output. A block is
 * `<!-- viz:NAME:mermaid -->` (or `:table`) … `<!-- /viz -->`; everything else is left as written.
 */
export function refreshGeneratedBlocks(markdown: string): string {
  return markdown.replace(
    /(<!-- viz:([A-Za-z]+):(mermaid|table) -->\n)[\s\S]*?(<!-- \/viz -->)/g,
    (whole, open: string, name: string, kind: string, close: string) => {
      if (!(MACHINE_NAMES as string[]).includes(name)) return whole;
      const body =
        kind === 'mermaid'
          ? `\`\`\`mermaid\n${render(name as MachineName, 'mermaid')}\`\`\`\n`
          : render(name as MachineName, 'table');
      return `${open}${body}${close}`;
    },
  );
}

/** True when `file` exists and its generated blocks differ from freshly generated output. */
export function staleDocument(file: string): boolean {
  if (!existsSync(file)) return false;
  const text = readFileSync(file, 'utf8');
  return refreshGeneratedBlocks(text) !== text;
}

/** Files under `dir` (and `dir.md`) whose content differs from freshly generated output. */
export function staleFiles(dir: string): string[] {
  const stale: string[] = [];
  for (const [file, content] of Object.entries(machineFiles())) {
    const path = join(dir, file);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== content) stale.push(path);
  }
  if (staleDocument(`${dir}.md`)) stale.push(`${dir}.md`);
  return stale;
}

export const vizCommand: CommandSpec = {
  name: 'viz',
  summary: 'Draw the unit, agent and taskRun state machines (Mermaid, JSON, tables)',
  description: [
    'Prints a machine as a Mermaid state diagram, as XState JSON (machine.toJSON(), importable by Stately tools)',
    'or as a markdown table of its states. With --write, writes <machine>.mmd and <machine>.json for every machine',
    'into DIR and refreshes the generated blocks (<!-- viz:NAME:mermaid --> ... <!-- /viz -->) of DIR.md if it exists.',
    'With --refresh FILE, refreshes only the generated blocks of FILE (e.g. the README).',
  ].join('\n'),
  options: [
    { name: 'machine', type: 'string', description: 'Draw only this machine', choices: MACHINE_NAMES, value: 'NAME' },
    {
      name: 'format',
      type: 'string',
      description: 'What to print (without --write)',
      choices: FORMATS,
      default: 'mermaid',
      value: 'FORMAT',
    },
    { name: 'write', type: 'string', description: 'Write the files into DIR instead of printing', value: 'DIR' },
    { name: 'refresh', type: 'string', description: 'Refresh the generated blocks of a markdown FILE', value: 'FILE' },
    {
      name: 'check',
      type: 'boolean',
      description: 'With --write or --refresh: write nothing, exit 1 if a file is missing or stale',
    },
  ],
  examples: [
    'hitstate viz --machine unit',
    'hitstate viz --machine agent --format json > agent.json',
    'hitstate viz --write docs/machines',
    'hitstate viz --write docs/machines --check',
    'hitstate viz --refresh README.md',
  ],
  async run(args, io) {
    const only = args.options.machine as MachineName | undefined;
    const format = args.options.format as Format;
    const dir = args.options.write as string | undefined;
    const refresh = args.options.refresh as string | undefined;
    if (refresh !== undefined) {
      if (dir !== undefined || only !== undefined)
        throw usageError('hitstate viz: --refresh FILE stands alone; drop --write and --machine.', 'refresh');
      const file = resolve(io.cwd, refresh);
      if (!existsSync(file)) throw usageError(`hitstate viz: ${refresh} does not exist.`, 'refresh');
      if (!staleDocument(file)) {
        io.out(`hitstate viz: ${refresh} is up to date.\n`);
        return EXIT.ok;
      }
      if (args.options.check === true) {
        io.err(`hitstate viz: ${refresh} has stale diagrams (run \`hitstate viz --refresh ${refresh}\`).\n`);
        return EXIT.failure;
      }
      writeFileSync(file, refreshGeneratedBlocks(readFileSync(file, 'utf8')));
      io.out(`hitstate viz: refreshed ${refresh}\n`);
      return EXIT.ok;
    }
    if (dir === undefined) {
      if (args.options.check === true)
        throw usageError('hitstate viz: --check needs --write DIR or --refresh FILE.', 'check');
      const names = only === undefined ? MACHINE_NAMES : [only];
      // JSON for every machine is one document keyed by machine name, so scripts can parse it.
      if (format === 'json' && names.length > 1)
        io.out(
          `${JSON.stringify(Object.fromEntries(names.map((name) => [name, JSON.parse(render(name, 'json')) as unknown])), null, 2)}\n`,
        );
      else io.out(names.map((name) => (names.length > 1 ? `%% ${name}\n` : '') + render(name, format)).join('\n'));
      return EXIT.ok;
    }
    if (only !== undefined)
      throw usageError('hitstate viz: --write always writes every machine; drop --machine.', 'machine');
    const target = resolve(io.cwd, dir);
    if (args.options.check === true) {
      const stale = staleFiles(target);
      if (stale.length === 0) {
        io.out(`hitstate viz: ${relative(io.cwd, target) || '.'} is up to date.\n`);
        return EXIT.ok;
      }
      io.err(
        `hitstate viz: stale or missing (run \`hitstate viz --write ${dir}\`):\n${stale.map((p) => `  ${relative(io.cwd, p)}\n`).join('')}`,
      );
      return EXIT.failure;
    }
    mkdirSync(target, { recursive: true });
    const written: string[] = [];
    for (const [file, content] of Object.entries(machineFiles())) {
      writeFileSync(join(target, file), content);
      written.push(join(target, file));
    }
    const doc = `${target}.md`;
    if (existsSync(doc)) {
      const text = readFileSync(doc, 'utf8');
      const refreshed = refreshGeneratedBlocks(text);
      if (refreshed !== text) writeFileSync(doc, refreshed);
      written.push(doc);
    }
    io.out(`hitstate viz: wrote ${written.map((p) => relative(io.cwd, p)).join(', ')}\n`);
    return EXIT.ok;
  },
};
