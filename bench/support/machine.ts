// The machine a figure was measured on, printed next to every table: other engineers may be
// running tests on the same two cores, so the load average travels with the figures.
import { cpus, loadavg, release, totalmem, type } from 'node:os';

/** Where and when figures were measured. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly ramGb: number;
  readonly os: string;
  readonly node: string;
  /** UTC date, YYYY-MM-DD. */
  readonly date: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    ramGb: Math.round(totalmem() / 1024 ** 3),
    os: `${type()} ${release()}`,
    node: process.version,
    date: new Date().toISOString().slice(0, 10),
  };
}

/** The 1-minute load average, rounded to two decimals. */
export function load1m(): number {
  return Number(loadavg()[0]!.toFixed(2));
}

/** One line for the docs: "AMD EPYC, 2 cores, 24 GB RAM, Linux 6.1, Node v20.20.2, 2026-11-25". */
export function describeMachine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${m.ramGb} GB RAM, ${m.os}, Node ${m.node}, ${m.date}`;
}
