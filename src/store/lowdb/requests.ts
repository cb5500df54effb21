/**
 * Requests to a run's owner, as files: `runs/<id>/requests/<request id>.json` holds the
 * {@link RunRequest}. Posting links a fully written temp file to the name (idempotent: a second
 * post of the same id keeps the first); settling replaces the file atomically with the answer.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { link, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { HitstateError } from '../../errors.js';
import type { RunRequest } from '../backend.js';
import type { StoreFileSystem } from '../file-system.js';
import { RUNS_DIR } from '../layout.js';
import { checkId } from '../validate.js';

export const REQUESTS_DIR = 'requests';

export class RequestInbox {
  constructor(
    private readonly fs: StoreFileSystem,
    private readonly root: string,
    private readonly now: () => number,
  ) {}

  #dir(runId: string): string {
    return join(this.root, RUNS_DIR, runId, REQUESTS_DIR);
  }

  #path(runId: string, id: string): string {
    return join(this.#dir(runId), `${checkId(id, 'id')}.json`);
  }

  async post(request: Omit<RunRequest, 'result' | 'settledAt'>): Promise<void> {
    const path = this.#path(request.runId, request.id);
    await this.fs.makeDirectory(this.#dir(request.runId));
    const full: RunRequest = { ...request, result: null, settledAt: null };
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await this.fs.writeFileDurable(temp, JSON.stringify(full));
    try {
      await link(temp, path);
      await this.fs.syncDirectory(this.#dir(request.runId));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  async get(runId: string, id: string): Promise<RunRequest | null> {
    const path = this.#path(runId, id);
    const bytes = await this.fs.readFile(path);
    if (bytes === null) return null;
    try {
      return JSON.parse(bytes.toString('utf8')) as RunRequest;
    } catch (err) {
      throw new HitstateError('HST_ERR_STORE_CORRUPT', `${path} is not a request: ${(err as Error).message}`, {
        file: path,
      });
    }
  }

  async pending(runId: string): Promise<readonly RunRequest[]> {
    const names = (await this.fs.listDirectory(this.#dir(runId))).filter((n) => n.endsWith('.json'));
    const all = await Promise.all(names.map((n) => this.get(runId, n.slice(0, -'.json'.length))));
    return all
      .filter((r): r is RunRequest => r !== null && r.result === null)
      .sort((a, b) => a.postedAt - b.postedAt || (a.id < b.id ? -1 : 1));
  }

  async settle(runId: string, id: string, result: string): Promise<void> {
    const current = await this.get(runId, id);
    if (current === null)
      throw new HitstateError('HST_ERR_STORE_NOT_FOUND', `no request "${id}" was posted to run ${runId}`, {
        field: 'id',
      });
    if (current.result !== null) return;
    const path = this.#path(runId, id);
    const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await this.fs.writeFileDurable(temp, JSON.stringify({ ...current, result, settledAt: this.now() }));
    await this.fs.rename(temp, path);
    await this.fs.syncDirectory(this.#dir(runId));
  }
}
