/**
 * The run dashboard: runs, a run's live state chart and units, a unit's history, and review.
 *
 * @module
 */
export {
  createDashboard,
  DASHBOARD_CSP,
  type Dashboard,
  type DashboardOptions,
  type NextFunction,
} from './dashboard.js';
export { dashboardToExpress } from './express.js';
export { dashboardToFastify } from './fastify.js';
export { runtimeSource, storeSource, type DashboardSource, type FeedEvent, type StoreSourceOptions } from './source.js';
