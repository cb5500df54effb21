// The supervisor's side of one worker arrival (issue 16's "bytes per arrival independent of N"):
// the bytes of the supervisor records a persist writes for one `worker.arrived` (its core record
// plus the rows of its tables that changed), and the CPU of the send, at several run sizes. The
// taskRun machine runs alone with the runtime's tables (`RuntimePoolTables`); units' reports are
// sent as the runtime relays them, so no MTurk and no store are involved: the store's side of an
// arrival is bench/store-arrival.ts.
//
// Usage: node --import tsx bench/supervisor-arrival.ts [--sizes 1000,10000]
import { createActor } from 'xstate';
import { type TaskRunEvent, taskRunMachine, withCommandHandler } from '../machines/index.js';
import { RuntimePoolTables } from '../src/runtime/supervisor/pool-tables.js';

/** Arrivals measured per size; the figures are their median. */
const ARRIVALS = 21;

export interface SupervisorArrivalMeasure {
  readonly units: number;
  /** Bytes of the supervisor's records one arrival writes (core + changed rows), median. */
  readonly bytesPerArrival: number;
  /** CPU of the `worker.arrived` send, median, ms. */
  readonly cpuMsMedian: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A run of `units` launched units, each with its pool HIT; then ARRIVALS workers arrive one by one. */
export function supervisorArrival(units: number): SupervisorArrivalMeasure {
  const tables = new RuntimePoolTables();
  // Units are passive in the runtime: what the supervisor delivers to them is not needed here.
  const logic = withCommandHandler(taskRunMachine, () => {}).provide({ actions: { deliver: () => {} } });
  const unitIds = Array.from({ length: units }, (_, i) => `u${i}`);
  const actor = createActor(logic, { input: { runId: 'r', unitIds, tables } }).start();
  const send = (event: TaskRunEvent) => actor.send(event);
  send({ type: 'setup.succeeded', commandId: 'r/setUpResources/1', hitTypeId: 'HT', at: 1 });
  for (const unitId of unitIds) {
    send({ type: 'report.hitCreated', unitId, hitId: `H-${unitId}`, at: 2 });
    send({ type: 'report.unitChanged', unitId, status: 'launched', at: 2 });
  }
  tables.takeChanged();
  const bytes: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < ARRIVALS; k++) {
    const i = Math.floor((k * 0.37 + 0.11) * units) % units;
    const start = process.cpuUsage();
    send({ type: 'worker.arrived', hitId: `H-u${i}`, assignmentId: `A${k}`, workerId: `W${k}`, at: 3 });
    const used = process.cpuUsage(start);
    cpu.push((used.user + used.system) / 1000);
    const { tables: _tables, ...core } = actor.getSnapshot().context;
    let written = JSON.stringify(core).length;
    for (const key of tables.takeChanged()) written += JSON.stringify(tables.row(key)?.row).length;
    bytes.push(written);
  }
  actor.stop();
  return { units, bytesPerArrival: median(bytes), cpuMsMedian: median(cpu) };
}

if (process.argv[1]?.endsWith('supervisor-arrival.ts')) {
  const i = process.argv.indexOf('--sizes');
  const sizes = (i >= 0 ? process.argv[i + 1]! : '1000,10000').split(',').map(Number);
  const rows = sizes.map(supervisorArrival);
  for (const r of rows)
    console.log(
      `${r.units} units: ${r.bytesPerArrival} B of supervisor records per arrival, send CPU ${r.cpuMsMedian.toFixed(3)} ms (median of ${ARRIVALS})`,
    );
  if (rows.length > 1)
    console.log(
      `bytes per arrival, ${rows.at(-1)!.units} over ${rows[0]!.units} units: ${(rows.at(-1)!.bytesPerArrival / rows[0]!.bytesPerArrival).toFixed(2)} (target ≤ 1.2)`,
    );
}
