/**
 * Fastify adapter: the dashboard as an encapsulated Fastify plugin (Fastify is an optional peer
 * dependency, imported as types only). Inside it the body parsers leave bodies unread, so the
 * dashboard reads them itself under its size limit. Register it without a `prefix` option.
 *
 * @module
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { Dashboard } from './dashboard.js';

const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Wraps a dashboard as a Fastify (4.26+ or 5) plugin.
 *
 * @example
 * ```ts
 * await app.register(dashboardToFastify(runtime.dashboard()));
 * ```
 */
export function dashboardToFastify(dashboard: Dashboard): FastifyPluginAsync {
  return async (fastify) => {
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      reply.hijack();
      await dashboard.handle(request.raw, reply.raw);
    };
    fastify.route({ method: METHODS.filter((m) => m !== 'HEAD'), url: `${dashboard.prefix}/*`, handler });
    fastify.route({
      method: METHODS.filter((m) => m !== 'HEAD'),
      url: dashboard.prefix === '' ? '/' : dashboard.prefix,
      handler,
    });
  };
}
