/**
 * The PostgreSQL store backend (issue 16): one database shared by the hitstate processes of a team.
 *
 * @module
 */
export {
  openPostgresBackend,
  PostgresBackend,
  type PostgresBackendOptions,
  environmentKey,
} from './postgres-backend.js';
export { SCHEMA_VERSION } from './schema.js';
