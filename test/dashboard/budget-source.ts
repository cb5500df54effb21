// Test helpers of the dashboard's money tests: a run with a `budget` in its config, and a
// submitted unit. The budget field comes with another change (the run budget of issue 19); until
// the task-run config accepts it, the dashboard's source is wrapped so the run record it reads
// carries the budget, exactly as the store will hold it.
import type { DashboardSource } from '../../src/dashboard/source.js';
import { isHitstateError } from '../../src/errors.js';
import type { Store } from '../../src/store/index.js';
import type { SimWorker, World } from '../support/sim-world.js';

/**
 * The run's config with a `budget`, as the budget change stores it. When the task-run config
 * accepts `budget` (that change merged), the run is launched with it and this is not needed;
 * before, the dashboard's source is wrapped so the run record it reads carries the budget.
 */
export function withBudget(source: DashboardSource, runId: string, budgetUsd: string): DashboardSource {
  const patch = <T extends { id: string; config: object }>(run: T): T =>
    run.id === runId ? { ...run, config: { ...run.config, budget: budgetUsd } } : run;
  const storeOf = (store: Store): Store =>
    new Proxy(store, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (name !== 'runs') return typeof value === 'function' ? value.bind(target) : value;
        const runs = value as Store['runs'];
        return new Proxy(runs, {
          get(t, n, r) {
            const fn = Reflect.get(t, n, r);
            if (n === 'get') return (id: string) => (t.get(id) === undefined ? undefined : patch(t.get(id)!));
            if (n === 'require') return (id: string) => patch(t.require(id));
            if (n === 'list') return () => t.list().map(patch);
            return typeof fn === 'function' ? fn.bind(t) : fn;
          },
        });
      },
    });
  return new Proxy(source, {
    get(target, name, receiver) {
      if (name === 'store') return () => storeOf(target.store());
      const value = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export async function submitted(world: World, runId: string, data: unknown): Promise<SimWorker> {
  const worker = world.worker();
  await worker.accept(world.hitTypeId(runId));
  await worker.register();
  await worker.submit(data);
  await world.drive(() => world.runtime.unitStatus(worker.unitId!) === 'completed', { label: 'submitted' });
  return worker;
}

/** Launches with `budget` when the config knows it; otherwise the dashboard reads it through {@link withBudget}. */
export async function launchWithBudget(
  world: World,
  budgetUsd: string,
  units = 4,
): Promise<{ runId: string; budgetInConfig: boolean }> {
  try {
    const { runId } = await world.runtime.launchRun({ ...world.config({ units }), budget: budgetUsd } as never);
    return { runId, budgetInConfig: true };
  } catch (err) {
    if (!isHitstateError(err) || err.code !== 'HST_ERR_CONFIG_INVALID') throw err;
    const { runId } = await world.runtime.launchRun(world.config({ units }));
    return { runId, budgetInConfig: false };
  }
}
