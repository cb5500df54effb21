// `hitstate sim` in its own process, as a user starts it: the benchmarks read call counts from its
// `/_sim/stats` and move its virtual clock through the control API, and the process under
// measurement holds only the runtime (the server's CPU and memory are not counted against it).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimulatorStats } from '../../src/simulator/index.js';

const CLI = fileURLToPath(new URL('../../src/cli/hitstate.mjs', import.meta.url));

export interface SimProcessOptions {
  /** A fixed port (a store remembers its endpoint, so a reused fixture needs the same one). @defaultValue 0 */
  readonly port?: number;
  readonly seed: number;
  /** The state file to restore from and keep writing. */
  readonly stateFile?: string;
  readonly throttle?: { readonly ratePerSecond: number; readonly burst: number };
  readonly faultRate?: number;
}

/** A running `hitstate sim --clock virtual`. */
export class SimProcess {
  readonly #proc: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(
    proc: ChildProcess,
    readonly url: string,
    exited: Promise<void>,
  ) {
    this.#proc = proc;
    this.#exited = exited;
  }

  static async start(options: SimProcessOptions): Promise<SimProcess> {
    const args = [
      CLI,
      'sim',
      '--port',
      String(options.port ?? 0),
      '--clock',
      'virtual',
      '--seed',
      String(options.seed),
    ];
    if (options.stateFile !== undefined) args.push('--state', options.stateFile);
    if (options.throttle !== undefined)
      args.push(
        '--throttle-rps',
        String(options.throttle.ratePerSecond),
        '--throttle-burst',
        String(options.throttle.burst),
      );
    if (options.faultRate !== undefined) args.push('--fault-rate', String(options.faultRate));
    const proc = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
    let out = '';
    let err = '';
    proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/\S+)/.exec(out);
        if (m !== null) resolve(m[1]!);
      });
      proc.on('exit', (code) =>
        reject(new Error(`hitstate sim exited with code ${code} before listening:\n${out}${err}`)),
      );
    });
    proc.stdout!.resume();
    return new SimProcess(proc, url, exited);
  }

  async #json<T>(path: string, body?: unknown): Promise<T> {
    const res = await fetch(
      `${this.url}${path}`,
      body === undefined
        ? {}
        : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    );
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** `GET /_sim/stats`. */
  stats(): Promise<SimulatorStats> {
    return this.#json('/_sim/stats');
  }

  /** `POST /_sim/stats/reset`. */
  async resetStats(): Promise<void> {
    await this.#json('/_sim/stats/reset', {});
  }

  /** The server's virtual time (epoch ms). */
  async nowMs(): Promise<number> {
    return (await this.#json<{ nowMs: number }>('/_sim/clock')).nowMs;
  }

  /** Moves the server's clock to `epochMs` (no-op when it is there already). */
  async advanceTo(epochMs: number): Promise<void> {
    const now = await this.nowMs();
    if (epochMs > now) await this.#json('/_sim/clock/advance', { seconds: (epochMs - now) / 1000 });
  }

  /** A worker accepts a HIT (`POST /_sim/workers/{id}/accept`). */
  accept(
    workerId: string,
    target: { hitId: string } | { hitTypeId: string },
  ): Promise<{ assignmentId: string; hitId: string }> {
    return this.#json(`/_sim/workers/${workerId}/accept`, target);
  }

  /** A worker submits on MTurk (`POST /_sim/assignments/{id}/submit`). */
  async submit(assignmentId: string, fields: Record<string, string>): Promise<void> {
    await this.#json(`/_sim/assignments/${assignmentId}/submit`, { fields });
  }

  /** A worker returns the HIT on MTurk. */
  async returnAssignment(assignmentId: string): Promise<void> {
    await this.#json(`/_sim/assignments/${assignmentId}/return`, {});
  }

  /** SIGTERM: the server writes its state file and exits. */
  async stop(): Promise<void> {
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill('SIGTERM');
    await this.#exited;
  }
}
