// Helpers for the gateway's simulator tests: a simulator and gateways sharing one VirtualClock.
import { VirtualClock } from '../../src/clock.js';
import type { Environment } from '../../src/mturk/environment.js';
import { MTurkGateway } from '../../src/mturk/gateway.js';
import type { GatewayOptions } from '../../src/mturk/gateway-core.js';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { drive } from './helpers.js';

export interface SimWorld {
  readonly clock: VirtualClock;
  readonly sim: Simulator;
  readonly gateways: MTurkGateway[];
  /** A gateway acting as requester `name` (its own simulator account) that behaves as `environment`. */
  gateway(name: string, environment?: Environment, options?: Omit<GatewayOptions, 'clock'>): MTurkGateway;
  /** Settles work, moving the shared clock while a gateway waits on it. */
  run<T>(work: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function simWorld(options: Omit<SimulatorOptions, 'clock'> = {}): Promise<SimWorld> {
  const clock = new VirtualClock(Date.UTC(2026, 0, 1));
  const sim = await createSimulator({ seed: 1, ...options, clock });
  const gateways: MTurkGateway[] = [];
  return {
    clock,
    sim,
    gateways,
    gateway(name, environment = 'custom', gatewayOptions = {}) {
      const gw = new MTurkGateway(
        {
          name,
          environment,
          endpoint: sim.url,
          credentials: {
            kind: 'static',
            accessKeyId: `AKID${name.toUpperCase().replace(/[^A-Z0-9]/g, '')}`,
            secretAccessKey: 'sim-secret',
          },
        },
        { ...gatewayOptions, clock },
      );
      gateways.push(gw);
      return gw;
    },
    run: (work) => drive(clock, gateways, work),
    async close() {
      for (const g of gateways) g.close();
      await sim.close();
    },
  };
}

/** The value of an ok outcome, or a failed assertion naming the outcome. */
export function value<T>(outcome: { status: string; value?: T; message?: string }): T {
  if (outcome.status !== 'ok') throw new Error(`expected ok, got ${outcome.status}: ${outcome.message ?? ''}`);
  return outcome.value as T;
}

export const TASK_URL = 'https://tasks.example.org/run';

/** Consumes a paginating generator, returning the size of each page. */
export async function pageSizes(pages: AsyncGenerator<readonly unknown[]>): Promise<number[]> {
  const sizes: number[] = [];
  for await (const page of pages) sizes.push(page.length);
  return sizes;
}
