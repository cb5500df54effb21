// A benchmark module that misbehaves on purpose, for the watchdog's test (test/bench/watchdog.test.ts):
// `hang` waits forever on a promise, `simulator` starts `hitstate sim` and then waits forever,
// `busy` prints a progress line now and then and gives its result after `ms`.
import { progress } from './child.js';
import { SimProcess } from './sim-process.js';

export interface WatchdogProbeArgs {
  readonly mode: 'hang' | 'simulator' | 'busy';
  readonly ms?: number;
}

export async function measure(args: WatchdogProbeArgs): Promise<{ ok: true }> {
  if (args.mode === 'busy') {
    const end = Date.now() + (args.ms ?? 0);
    while (Date.now() < end) {
      progress('still working');
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return { ok: true };
  }
  if (args.mode === 'simulator') {
    await SimProcess.start({ seed: 1 });
    progress('simulator started; now waiting on nothing');
  } else progress('waiting on nothing');
  // A handle that keeps the process alive, and a promise that never settles: the stall of a cycle that lost its wake-up.
  setInterval(() => undefined, 60_000);
  await new Promise<never>(() => undefined);
  return { ok: true };
}
