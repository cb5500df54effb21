// `hitstate sim` in its own process, as a user starts it: the benchmarks read call counts from its
// `/_sim/stats` and move its virtual clock through the control API, and the process under
// measurement holds only the runtime (the server's CPU and memory are not counted against it).
//
// Control requests go through one keep-alive agent per server and are sent again, once, when a
// reused socket turns out closed before any answer. With fetch's pooled sockets a batch of accepts
// sent after the benchmark's process had been busy for seconds (the runtime persisting a batch of
// arrivals) went out on sockets the server had already closed for idling (Node's 5 s keep-alive
// timeout) while the busy client had not yet read the close: "fetch failed: other side closed"
// while building the 10,000-unit fixture. A server closes an idle socket only between requests, so
// such a request was never read and sending it again is safe (Node's documented pattern,
// `request.reusedSocket`). A connection per request instead would leave 100,000 sockets in
// TIME_WAIT while the 100,000-unit fixture is built.
import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import type { SimulatorStats } from '../../src/simulator/index.js';
import { announceSimulator, REPO_ROOT } from './child.js';

const CLI = join(REPO_ROOT, 'src', 'cli', 'hitstate.mjs');

export interface SimProcessOptions {
  /** A fixed port (a store remembers its endpoint, so a reused fixture needs the same one). @defaultValue 0 */
  readonly port?: number;
  readonly seed: number;
  /** The state file to restore from and keep writing. */
  readonly stateFile?: string;
  readonly throttle?: { readonly ratePerSecond: number; readonly burst: number };
  readonly faultRate?: number;
  /** Starting balance of each requester account, USD (the CLI's default is 10,000). */
  readonly balanceUsd?: number;
}

/** A running `hitstate sim --clock virtual`. */
export class SimProcess {
  readonly #proc: ChildProcess;
  readonly #exited: Promise<void>;
  /** At most this many requests at once (a batch of 500 accepts queues here, not in the kernel). */
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 32 });

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
    if (options.balanceUsd !== undefined) args.push('--balance', String(options.balanceUsd));
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
    announceSimulator(url);
    return new SimProcess(proc, url, exited);
  }

  #json<T>(path: string, body?: unknown, retried = false): Promise<T> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise<T>((resolve, reject) => {
      const req = request(
        `${this.url}${path}`,
        {
          method: payload === undefined ? 'GET' : 'POST',
          agent: this.#agent,
          headers:
            payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (text += d));
          res.on('error', reject);
          res.on('end', () => {
            if ((res.statusCode ?? 0) >= 400) reject(new Error(`${path}: ${res.statusCode} ${text}`));
            else
              try {
                resolve(JSON.parse(text) as T);
              } catch (err) {
                reject(
                  new Error(`${path}: the simulator answered ${res.statusCode} without JSON: ${text.slice(0, 200)}`, {
                    cause: err,
                  }),
                );
              }
          });
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) => {
        // The server closed this idle socket before reading the request: send it once more on a fresh one.
        if (req.reusedSocket && !retried && (err.code === 'ECONNRESET' || err.code === 'EPIPE'))
          this.#json<T>(path, body, true).then(resolve, reject);
        else reject(new Error(`${path}: ${err.message}`, { cause: err }));
      });
      req.end(payload);
    });
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
    this.#agent.destroy();
    if (this.#proc.exitCode === null && this.#proc.signalCode === null) this.#proc.kill('SIGTERM');
    await this.#exited;
  }
}
