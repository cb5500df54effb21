/**
 * Fastify adapter: the task server as a Fastify plugin. Fastify is an optional peer dependency
 * and is imported here as types only.
 *
 * The plugin is encapsulated: inside it, Fastify's body parsers are replaced by one that leaves
 * the body unread, so the task server reads it itself under `maxBodyBytes`; the application's
 * own parsers and routes are untouched. Register it without a `prefix` option: the task
 * server's own `prefix` decides its paths.
 *
 * @module
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { TaskServer } from './task-server.js';

const METHODS: HTTPMethods[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Wraps a task server as a Fastify (4.26+ or 5) plugin.
 *
 * @example
 * ```ts
 * const app = Fastify();
 * await app.register(toFastify(createTaskServer(backend, { secret, taskPage })));
 * ```
 */
export function toFastify(server: TaskServer): FastifyPluginAsync {
  return async (fastify) => {
    // A public server's time and connection limits (headers within seconds, a capped body time).
    server.applyServerLimits(fastify.server);
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      reply.hijack();
      await server.handle(request.raw, reply.raw);
    };
    fastify.route({ method: METHODS, url: `${server.prefix}/*`, handler });
    fastify.route({ method: METHODS, url: server.prefix === '' ? '/' : server.prefix, handler });
  };
}
