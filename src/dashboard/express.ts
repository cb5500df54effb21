/**
 * Express adapter: the dashboard as an Express middleware (Express is an optional peer
 * dependency, imported as types only). Requests outside its prefix go on to the next middleware.
 *
 * @module
 */
import type { RequestHandler } from 'express';
import type { Dashboard } from './dashboard.js';

/**
 * Wraps a dashboard as an Express (4 or 5) middleware.
 *
 * @example
 * ```ts
 * app.use(dashboardToExpress(runtime.dashboard()));
 * ```
 */
export function dashboardToExpress(dashboard: Dashboard): RequestHandler {
  return (req, res, next) => dashboard.handle(req, res, next);
}
