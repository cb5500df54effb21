/**
 * hitstate's task-server integration: what a worker's browser talks to. `createTaskServer`
 * builds a `node:http` request handler over a {@link TaskServerBackend} (the runtime); the
 * Express and Fastify adapters live in `./express.js` and `./fastify.js` so that importing this
 * module never loads either framework.
 *
 * @module
 */
export type { AgentRegistration, AgentView, PreviewInfo, TaskServerBackend, WorkerArrival } from './backend.js';
export { PREVIEW_ASSIGNMENT_ID } from './agent-routes.js';
export { SafeHtml, escapeHtml, html } from './html.js';
export type { ErrorBody } from './http-io.js';
export type {
  PageSource,
  PreviewPageContext,
  ServerErrorContext,
  ServerLimits,
  TaskPageContext,
  TaskServerOptions,
} from './options.js';
export { DEFAULT_SERVER_LIMITS, MTURK_SUBMIT_ORIGINS } from './options.js';
export { DEFAULT_REGISTRATION_LIMITS, type RateLimit, type RegistrationLimits } from './rate-limit.js';
export {
  RouteName,
  createTaskServer,
  type LimitableServer,
  type NextFunction,
  type TaskServer,
  type TaskServerRoute,
} from './task-server.js';
export { signAgentToken, verifyAgentToken, type AgentTokenClaims } from './token.js';
export { SUBMISSION_FIELD, WRAPPER_SOURCE } from './wrapper-source.js';
