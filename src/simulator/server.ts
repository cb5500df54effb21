/**
 * The HTTP server: routes each request to the requester API (`POST /`), the worker pages
 * (`/mturk/...`) or the control API (`/_sim/...`), limits body sizes, and turns any unexpected
 * failure into a reply of the right shape instead of a crash.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { handleControl } from './control-api.js';
import type { SimulatorHost } from './host.js';
import { BodyTooLargeError, readBody, sendHtml, sendJson } from './http-util.js';
import { AWS_JSON_CONTENT_TYPE, MTurkError, TurkErrorCode, stamp } from './protocol.js';
import { handleRequesterCall } from './requester-api.js';
import { errorPage, handleWorkerPage } from './worker-pages.js';

type Area = 'requester' | 'control' | 'worker';

function areaOf(req: IncomingMessage, url: URL): Area {
  if (url.pathname.startsWith('/_sim/') || url.pathname === '/_sim') return 'control';
  if (req.method === 'POST' && url.pathname === '/') return 'requester';
  return 'worker';
}

function tooLarge(host: SimulatorHost, res: ServerResponse, area: Area, err: BodyTooLargeError): void {
  res.setHeader('connection', 'close');
  if (area === 'requester') {
    const e = new MTurkError(
      'RequestError',
      stamp(`${err.message} Send at most ${err.limitBytes} bytes (the simulator's maxBodyBytes).`, host.engine.now()),
      TurkErrorCode.InvalidRequest,
    );
    sendJson(res, 413, e.body(), { 'content-type': AWS_JSON_CONTENT_TYPE });
  } else if (area === 'control') {
    sendJson(res, 413, {
      error: { code: 'HST_ERR_SIM_BAD_REQUEST', message: `${err.message} Raise maxBodyBytes to send more.` },
    });
  } else {
    sendHtml(res, 413, errorPage('Too large', `${err.message} Submit less data.`));
  }
}

function internalError(host: SimulatorHost, res: ServerResponse, area: Area, err: unknown): void {
  const message = `The simulator failed: ${err instanceof Error ? err.message : String(err)}`;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (area === 'requester') {
    const e = new MTurkError('ServiceFault', stamp(message, host.engine.now()), TurkErrorCode.ServiceUnavailable);
    sendJson(res, 500, e.body(), { 'content-type': AWS_JSON_CONTENT_TYPE });
  } else if (area === 'control') {
    sendJson(res, 500, { error: { code: 'HST_ERR_SIM_BAD_REQUEST', message } });
  } else {
    sendHtml(res, 500, errorPage('Simulator error', message));
  }
}

async function handle(host: SimulatorHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let url: URL;
  try {
    // turkSubmitTo + "/mturk/externalSubmit" gives "//mturk/..." when turkSubmitTo ends in "/";
    // a leading "//" would otherwise be read as a host name.
    url = new URL((req.url ?? '/').replace(/^\/{2,}/, '/'), 'http://simulator.invalid');
  } catch {
    sendHtml(res, 400, errorPage('Bad request', 'The request URL cannot be parsed.'));
    return;
  }
  const area = areaOf(req, url);
  try {
    if (area === 'requester') handleRequesterCall(host, req, res, await readBody(req, host.maxBodyBytes));
    else if (area === 'control') await handleControl(host, req, res, url);
    else await handleWorkerPage(host, req, res, url);
  } catch (err) {
    if (err instanceof BodyTooLargeError) tooLarge(host, res, area, err);
    else internalError(host, res, area, err);
  }
}

/** An HTTP server serving the simulator. */
export function createSimulatorServer(host: () => SimulatorHost): Server {
  const server = createServer((req, res) => {
    void handle(host(), req, res);
  });
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
