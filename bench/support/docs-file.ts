// Rewrites one generated section of docs/benchmarks.md between its markers, leaving everything
// else (the store section, the campaign, hand-written notes) as it is.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHMARKS_DOC = fileURLToPath(new URL('../../docs/benchmarks.md', import.meta.url));
const INTRO =
  '# Benchmarks\n\nMeasured figures of hitstate, each produced by a script in `bench/` and rewritten by it. Speed targets live here, never in timed tests.\n';

export interface SectionPlacement {
  /** Insert a missing section before this marker (if present); else append. */
  readonly before?: string;
}

/** Replaces the text between `<!-- name:start -->` and `<!-- name:end -->` (markers kept), or inserts the section. */
export function writeSection(
  name: string,
  body: string,
  placement: SectionPlacement = {},
  path = BENCHMARKS_DOC,
): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const section = `${start}\n${body.trim()}\n${end}`;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : INTRO;
  let next: string;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  if (from >= 0 && to > from) next = current.slice(0, from) + section + current.slice(to + end.length);
  else if (placement.before !== undefined && current.includes(placement.before)) {
    const at = current.indexOf(placement.before);
    next = `${current.slice(0, at)}${section}\n\n${current.slice(at)}`;
  } else next = `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
}
