// Fixtures are cached between runs of `npm run bench`, keyed by everything that shapes them. Run
// fixtures (cachedFixture): the Node version, the lockfile, and the source of the runtime, the
// machines, the store, the simulator and the fixture builder; the platform benchmark's database
// (bench/serve-fixture.ts, through cachedDir): its own builder and the lockfile. Building the 10,000-unit fixture takes minutes (see
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

/** A hash of the Node version and of every file under `shaping` (paths from the repository root). */
function fingerprint(shaping: readonly string[]): string {
  const hash = createHash('sha256').update(process.version);
  for (const file of shaping.flatMap((p) => files(join(root, p))))
    hash.update(relative(root, file)).update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

function cacheRoot(): string {
  return process.env.HITSTATE_BENCH_CACHE ?? join(tmpdir(), 'hitstate-bench-cache');
}

/** What {@link cachedDir} keeps: one folder per fixture, named `PREFIX<fingerprint>-KEY`. */
export interface CachedDirSpec<T> {
  /** Starts the folder's name (`serve-`), or '' for run fixtures. */
  prefix: string;
  /** What else the fixture depends on (its size, its seed): ends the folder's name. */
  key: string;
  /** The files and folders whose bytes shape the fixture (from the repository root). */
  shaping: readonly string[];
  /** Build anew even when cached. */
  fresh: boolean;
  /**
   * Builds the fixture into `building` (which exists; renamed to `dir` once built); undefined
   * when it failed or was stopped and said so.
   */
  build: (building: string, dir: string) => Promise<T | undefined>;
}

/**
 * The cached fixture folder of `spec`, or a new one from `build` (then cached: other fixtures of
 * the same prefix and key, made by other code, are removed). The description `build` returns is
 * kept in `fixture.json`; paths inside the fixture should be relative to `dir`, so a cache folder
 * can be copied or moved. A failed build's partial folder is removed and the value is undefined.
 */
export async function cachedDir<T>(
  spec: CachedDirSpec<T>,
): Promise<{ value: T | undefined; dir: string; cached: boolean }> {
  const base = cacheRoot();
  const name = `${spec.prefix}${fingerprint(spec.shaping)}-${spec.key}`;
  const dir = join(base, name);
  const description = join(dir, 'fixture.json');
  if (!spec.fresh && existsSync(description))
    return { value: JSON.parse(readFileSync(description, 'utf8')) as T, dir, cached: true };
  mkdirSync(base, { recursive: true });
  for (const old of readdirSync(base))
    if ((old.startsWith(spec.prefix) && old.endsWith(`-${spec.key}`)) || old === `${name}.building`)
      rmSync(join(base, old), { recursive: true, force: true });
  const building = join(base, `${name}.building`);
  mkdirSync(building, { recursive: true });
  const built = await spec.build(building, dir);
  if (built === undefined) {
    rmSync(building, { recursive: true, force: true });
    return { value: undefined, dir, cached: false };
  }
  writeFileSync(join(building, 'fixture.json'), `${JSON.stringify(built, null, 2)}\n`);
  renameSync(building, dir);
  return { value: built, dir, cached: false };
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
  const { value, cached } = await cachedDir<RunFixture>({
    prefix: '',
    key: `${units}-${seed}${shape === undefined ? '' : `-${shape}`}`,
    shaping: SHAPING,
    fresh,
    // The description names the folder the fixture ends up in, not the one it was built in.
    build: async (building, dir) => {
      const built = await build(building);
      return built === undefined ? undefined : { ...built, dir };
    },
  });
  return { fixture: value, cached };
}
