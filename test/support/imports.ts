// The one import scanner of the boundary tests (test/foundation/boundaries, test/runtime/boundaries,
// test/machines/api): which modules a source file imports, found by a regular expression over its
// text (static `import … from`, `export … from` and dynamic `import('…')`).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Every .ts/.mts/.js/.mjs source file (not .d.ts) under `dir` (relative to the root), recursively. */
export function sourceFiles(dir: string): string[] {
  const abs = join(ROOT, dir);
  let entries: string[];
  try {
    entries = readdirSync(abs);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(abs, name);
    if (statSync(path).isDirectory()) return sourceFiles(relative(ROOT, path));
    return /\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The module specifiers `file` imports or re-exports, static and dynamic. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g),
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
}

/** Whether the relative specifier `spec`, written in `file`, resolves under `folder` (relative to the root). */
export function resolvesUnder(spec: string, file: string, folder: string): boolean {
  return spec.startsWith('.') && relative(join(ROOT, folder), join(file, '..', spec)).split(/[\\/]/)[0] !== '..';
}

/** `file imports 'spec'` for each import under `dir` that `allowed` refuses. */
export function importOffenders(dir: string, allowed: (spec: string, file: string) => boolean): string[] {
  return sourceFiles(dir).flatMap((file) =>
    importsOf(file)
      .filter((spec) => !allowed(spec, file))
      .map((spec) => `${relative(ROOT, file)} imports '${spec}'`),
  );
}
