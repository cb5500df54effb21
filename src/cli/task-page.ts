/**
 * The task page a command serves: the config's `page` setting (paths relative to the config file)
 * or, by default, hitstate's label example. Paths are made absolute before a run is stored, so a
 * later `hitstate resume` serves the same files from any directory.
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TaskPageConfig } from '../config/task-run.js';
import { HitstateError } from '../errors.js';
import type { TaskServerOptions } from '../server/index.js';

/** A problem with one field, as config validation reports them. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/**
 * The label example's page (`examples/label-task/`), found from this module's location both in a
 * checkout (`src/cli/`) and in the installed package (`dist/src/cli/`).
 *
 * @throws HitstateError `HST_ERR_CONFIG_INVALID` when the example is not where the package ships it.
 */
export function labelExamplePage(): TaskPageConfig {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const example = join(dir, 'examples', 'label-task');
    if (existsSync(join(example, 'task.html'))) {
      return {
        taskPage: join(example, 'task.html'),
        previewPage: join(example, 'task.html'),
        assetsDir: join(example, 'assets'),
        title: 'Label the sentiment of a sentence',
      };
    }
    dir = dirname(dir);
  }
  throw new HitstateError(
    'HST_ERR_CONFIG_INVALID',
    'the label example (examples/label-task/) is missing from this hitstate installation; set "page" in the config to your own task page',
    { field: 'page' },
  );
}

/** The page with every path resolved against `baseDir` (the config file's folder). */
export function absolutePage(page: TaskPageConfig, baseDir: string): TaskPageConfig {
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(baseDir, p));
  return {
    taskPage: abs(page.taskPage),
    ...(page.previewPage === undefined ? {} : { previewPage: abs(page.previewPage) }),
    ...(page.assetsDir === undefined ? {} : { assetsDir: abs(page.assetsDir) }),
    ...(page.title === undefined ? {} : { title: page.title }),
  };
}

/** Files and folders of a page (with absolute paths) that do not exist, as config problems. */
export function pageProblems(page: TaskPageConfig): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();
  if (!isFile(page.taskPage))
    problems.push({
      field: 'page.taskPage',
      message: `${page.taskPage} is not a file; give the path of the task page's HTML, relative to the config file`,
    });
  if (page.previewPage !== undefined && !isFile(page.previewPage))
    problems.push({
      field: 'page.previewPage',
      message: `${page.previewPage} is not a file; fix the path or leave previewPage out for the built-in preview`,
    });
  if (page.assetsDir !== undefined && !(existsSync(page.assetsDir) && statSync(page.assetsDir).isDirectory())) {
    problems.push({
      field: 'page.assetsDir',
      message: `${page.assetsDir} is not a folder; fix the path or leave assetsDir out`,
    });
  }
  return problems;
}

/** The `createTaskServer` options serving a page. */
export function serverPageOptions(
  page: TaskPageConfig,
  runTitle: string,
): Pick<TaskServerOptions, 'taskPage' | 'previewPage' | 'assetsDir' | 'title'> {
  return {
    taskPage: { file: page.taskPage },
    ...(page.previewPage === undefined ? {} : { previewPage: { file: page.previewPage } }),
    ...(page.assetsDir === undefined ? {} : { assetsDir: page.assetsDir }),
    title: page.title ?? runTitle,
  };
}
