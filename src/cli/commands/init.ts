/**
 * `hitstate init DIR`: scaffolds a task project from a template (examples/templates/): a config,
 * a task page using the wrapper, an end-to-end test on the simulator using `hitstate/testing`,
 * and a README. Never writes into a folder that holds files.
 *
 * @module
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import { HitstateError } from '../../errors.js';
import { EXIT, type CommandSpec } from '../command.js';
import { packageRoot } from '../package-root.js';

/** The templates, with the sentence the project's README opens with. */
export const TEMPLATES = {
  basic: 'One page, one question: workers pick the topic of a sentence.',
  'consent-onboarding':
    'A research study in one HIT: a consent page, onboarding with a three-question qualification check, then the task. The submission records the consent, the check and the answer.',
  'multi-page':
    'A task over several pages: workers rate three reviews, one per page, then leave feedback; one submission at the end.',
} as const;
export type TemplateName = keyof typeof TEMPLATES;

/** Where the templates are: in a checkout and in the installed package (both ship examples/). */
export function templatesDir(): string {
  return join(packageRoot(), 'examples', 'templates');
}

/** The files `init` writes, relative to the project folder. */
export function scaffold(dir: string, template: TemplateName): string[] {
  const root = templatesDir();
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'task';
  mkdirSync(dir, { recursive: true });
  cpSync(join(root, '_common'), dir, { recursive: true });
  cpSync(join(root, template), dir, { recursive: true });
  // npm drops a file named .gitignore from a published package, so the template keeps it without the dot.
  renameSync(join(dir, 'gitignore'), join(dir, '.gitignore'));
  const values: Record<string, string> = {
    name,
    template,
    templateDescription: TEMPLATES[template],
    hitstateDependency: `file:${packageRoot()}`,
  };
  for (const file of ['README.md', 'package.json']) {
    const path = join(dir, file);
    writeFileSync(
      path,
      readFileSync(path, 'utf8').replace(/\{\{(\w+)\}\}/g, (_, key: string) => values[key] ?? `{{${key}}}`),
    );
  }
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
      else files.push(relative(dir, join(d, entry.name)));
    }
  };
  walk(dir);
  return files.sort();
}

export const initCommand: CommandSpec = {
  name: 'init',
  summary: 'Start a task project: config, task page, an end-to-end test and a README',
  description: [
    'Writes into DIR (created if needed; refused if it holds files): hitstate.config.json (the run and its',
    "units' input), task.html and assets/ (the task page, using the wrapper's window.hitstate API),",
    'test/task.test.ts (a simulated worker does the task on the simulator, on a virtual clock), package.json',
    'and a README. Templates:',
    ...Object.entries(TEMPLATES).map(([name, text]) => `  ${name.padEnd(20)}${text}`),
  ].join('\n'),
  positionals: [{ name: 'dir', description: 'The folder of the new project', required: true }],
  options: [
    {
      name: 'template',
      type: 'string',
      value: 'NAME',
      description: 'What the project starts from',
      choices: Object.keys(TEMPLATES),
      default: 'basic',
    },
  ],
  examples: [
    'hitstate init my-task',
    'hitstate init consent-study --template consent-onboarding',
    'hitstate init review-rating --template multi-page',
  ],
  async run(args, io) {
    const dir = resolve(io.cwd, args.positionals[0]!);
    const template = String(args.options.template) as TemplateName;
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory())
        throw new HitstateError(
          'HST_ERR_CLI_INIT_DIR_NOT_EMPTY',
          `${dir} is a file, not a folder; pick a new folder name, e.g. \`hitstate init my-task\`.`,
          { field: 'dir', file: dir },
        );
      const present = readdirSync(dir);
      if (present.length > 0)
        throw new HitstateError(
          'HST_ERR_CLI_INIT_DIR_NOT_EMPTY',
          `${dir} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''}); init never writes over files. Pick a new or empty folder, e.g. \`hitstate init my-task\`.`,
          { field: 'dir', file: dir },
        );
    }
    const files = scaffold(dir, template);
    const shown = relative(io.cwd, dir) || '.';
    io.out(
      [
        `hitstate init: a ${template} task project in ${dir}`,
        ...files.map((f) => `  ${f}`),
        '',
        'Next:',
        `  cd ${shown}`,
        '  npm install',
        '  npm test                      # a simulated worker does the task on the simulator',
        '  npx hitstate sim --port 8787  # then, in another terminal:',
        '  npx hitstate run hitstate.config.json --env http://127.0.0.1:8787',
        '',
      ].join('\n'),
    );
    return EXIT.ok;
  },
};
