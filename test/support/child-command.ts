// The one place that decides how a test starts a Node child process on a TypeScript file: the
// compiled dist/ file when it is built and fresh (the slow tier builds first and requires it with
// HITSTATE_RUN_FROM=dist), otherwise the source through tsx. See docs/testing.md.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// This file also runs compiled (dist/test/support/), where the .mjs helper is not copied: load it
// from the checkout's src/cli/ either way.
const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, here.includes(`${join('dist', 'test', 'support')}`) ? '../../..' : '../..');
const { compiledFor }: typeof import('../../src/cli/compiled.mjs') = await import(
  pathToFileURL(join(root, 'src', 'cli', 'compiled.mjs')).href
);

/** How to start `sourcePath` (an absolute path to a .ts file in this repository). */
export interface ChildCommand {
  /** The file Node runs: the compiled .js or the .ts source. */
  readonly file: string;
  /** Node flags before the file: `['--import', 'tsx']` for a source, none for compiled code. */
  readonly execArgv: readonly string[];
  readonly compiled: boolean;
}

export function childCommand(sourcePath: string): ChildCommand {
  const compiled = compiledFor(sourcePath);
  return compiled !== undefined
    ? { file: compiled, execArgv: [], compiled: true }
    : { file: sourcePath, execArgv: ['--import', 'tsx'], compiled: false };
}

/** The arguments of `spawn(process.execPath, …)` for `sourcePath` with `args`. */
export function nodeArgs(sourcePath: string, args: readonly string[] = []): string[] {
  const c = childCommand(sourcePath);
  return [...c.execArgv, c.file, ...args];
}
