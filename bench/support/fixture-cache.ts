// Run fixtures are cached between runs of `npm run bench`, keyed by everything that shapes them:
// the Node version, the lockfile, and the source of the runtime, the machines, the store, the
// simulator and the fixture builder. Building the 10,000-unit fixture takes minutes (see
// docs/benchmarks.md, "Notes on the figures"); a figure is never cached, only the state measured.
//
//   HITSTATE_BENCH_CACHE=/path   where fixtures are kept (default: <os tmpdir>/hitstate-bench-cache)
//   npm run bench -- --fresh     rebuilds them
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunFixture } from './run-fixture.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SHAPING = ['src', 'machines', 'package-lock.json', 'bench/support/run-fixture.ts', 'bench/build-fixture.ts'];

function files(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => files(join(path, name)));
}

/** A hash of everything that shapes a fixture. */
function fixtureFingerprint(): string {
  const hash = createHash('sha256').update(process.version);
  for (const file of SHAPING.flatMap((p) => files(join(root, p))))
    hash.update(relative(root, file)).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

function cacheRoot(): string {
  return process.env.HITSTATE_BENCH_CACHE ?? join(tmpdir(), 'hitstate-bench-cache');
}

/**
 * The cached fixture of `units` and `seed`, or a new one from `build(dir)` (then cached; fixtures
 * of the same size made by other code are removed). When `build` gives nothing (it failed or was
 * stopped, and said so), its partial folder is removed and the fixture is undefined. `shape` names
 * a fixture built otherwise than the default (e.g. `open2000`: 2,000 units left without a worker),
 * kept beside the default one of the same size.
 */
export async function cachedFixture(
  units: number,
  seed: number,
  fresh: boolean,
  build: (dir: string) => Promise<RunFixture | undefined>,
  shape?: string,
): Promise<{ fixture: RunFixture | undefined; cached: boolean }> {
  const base = cacheRoot();
  const name = `${fixtureFingerprint()}-${units}-${seed}${shape === undefined ? '' : `-${shape}`}`;
  const dir = join(base, name);
  const description = join(dir, 'fixture.json');
  if (!fresh && existsSync(description))
    return { fixture: JSON.parse(readFileSync(description, 'utf8')) as RunFixture, cached: true };
  mkdirSync(base, { recursive: true });
  for (const old of readdirSync(base))
    if (old.endsWith(`-${units}-${seed}${shape === undefined ? '' : `-${shape}`}`) || old === `${name}.building`)
      rmSync(join(base, old), { recursive: true, force: true });
  const building = join(base, `${name}.building`);
  const built = await build(building);
  if (built === undefined) {
    rmSync(building, { recursive: true, force: true });
    return { fixture: undefined, cached: false };
  }
  writeFileSync(join(building, 'fixture.json'), `${JSON.stringify({ ...built, dir }, null, 2)}\n`);
  renameSync(building, dir);
  return { fixture: { ...built, dir }, cached: false };
}
