/**
 * Express adapter: the task server as an Express middleware. Express is an optional peer
 * dependency and is imported here as types only.
 *
 * Mount it at the application root, before any body parser (it reads its own bodies under
 * `maxBodyBytes`; a body an earlier parser already read is taken from `req.body`):
 * requests outside the task server's prefix go on to the next middleware.
 *
 * @module
 */
import type { RequestHandler } from 'express';
import type { TaskServer } from './task-server.js';

/**
 * Wraps a task server as an Express (4 or 5) middleware.
 *
 * @example
 * ```ts
 * const app = express();
 * app.use(toExpress(createTaskServer(backend, { secret, taskPage })));
 * app.use(express.json()); // the app's own routes after it
 * ```
 */
export function toExpress(server: TaskServer): RequestHandler {
  return (req, res, next) => server.handle(req, res, next);
}
