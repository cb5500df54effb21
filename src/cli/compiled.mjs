// Finds the compiled JavaScript (dist/) of a TypeScript source file, for the `hitstate` bin and
// the test helpers that start child processes. Compiled code starts faster and uses ~28 MB less
// memory than the tsx loader. In a checkout, dist/ is used only while it is newer than every
// source file, so an edit after `npm run build` never runs stale code: the caller falls back to
// the sources (tsx). HITSTATE_RUN_FROM=source|dist forces one or the other.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (this file is `<root>/src/cli/compiled.mjs`). */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The dist/ counterpart of `<root>/x/y.ts` or `.mts`: `<root>/dist/x/y.js`. */
export function distPathOf(sourcePath) {
  const rel = relative(PACKAGE_ROOT, sourcePath);
  if (rel.startsWith('..')) throw new Error(`${sourcePath} is outside the hitstate package ${PACKAGE_ROOT}`);
  return join(PACKAGE_ROOT, 'dist', rel.replace(/\.m?ts$/, '.js'));
}

function newestSourceMs(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (/\.m?ts$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Why the compiled file of `sourcePath` cannot be used, or undefined when it can: it exists and,
 * in a checkout, no source it may import (src/, machines/, and test/ for test files) is newer.
 */
export function staleReason(sourcePath) {
  const compiled = distPathOf(sourcePath);
  if (!existsSync(compiled)) return `${relative(PACKAGE_ROOT, compiled)} does not exist`;
  const builtMs = statSync(compiled).mtimeMs;
  const dirs = ['src', 'machines'];
  if (relative(PACKAGE_ROOT, sourcePath).split(sep)[0] === 'test') dirs.push('test');
  for (const d of dirs) {
    if (newestSourceMs(join(PACKAGE_ROOT, d)) > builtMs)
      return `a file under ${d}/ changed after ${relative(PACKAGE_ROOT, compiled)} was built`;
  }
  return undefined;
}

/**
 * The compiled file to run for `sourcePath`, or undefined to run the source with tsx. Throws when
 * HITSTATE_RUN_FROM=dist and dist/ is missing or stale, naming the fix.
 */
export function compiledFor(sourcePath) {
  const from = process.env.HITSTATE_RUN_FROM;
  if (from === 'source') return undefined;
  if (from !== undefined && from !== 'dist' && from !== '')
    throw new Error(`HITSTATE_RUN_FROM must be "source" or "dist", not ${JSON.stringify(from)}`);
  // An installed package has no TypeScript sources: dist/ is all there is.
  if (!existsSync(sourcePath)) {
    const compiled = distPathOf(sourcePath);
    if (existsSync(compiled)) return compiled;
    throw new Error(
      `${compiled} is missing: this hitstate package was not built (\`npm run build\` in ${PACKAGE_ROOT})`,
    );
  }
  const reason = staleReason(sourcePath);
  if (reason === undefined) return distPathOf(sourcePath);
  if (from === 'dist') throw new Error(`HITSTATE_RUN_FROM=dist but ${reason}: run \`npm run build\` first`);
  return undefined;
}
