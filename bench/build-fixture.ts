// Child process: builds a run fixture (bench/support/run-fixture.ts) and returns its description.
import { buildRunFixture, type RunFixture } from './support/run-fixture.js';
import { progress } from './support/child.js';
import { formatMs } from './support/numbers.js';

export async function measure(args: {
  dir: string;
  units: number;
  seed: number;
  launchWave?: number;
  arrived?: number;
}): Promise<RunFixture> {
  const fixture = await buildRunFixture(args);
  const b = fixture.build;
  progress(
    `built ${args.units} units (${args.arrived ?? args.units} assigned): launch ${formatMs(b.launchWallMs)} wall (${formatMs(b.launchCpuMs)} CPU), bulk arrivals ${formatMs(b.arrivalsWallMs)}, registerAgent at full size ${formatMs(b.registerMedianMs)} median`,
  );
  return fixture;
}
