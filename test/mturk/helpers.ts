// Test helpers for the gateway: a fake MTurk transport for the real SDK
// (docs/stack-notes.md#a-fake-transport-for-tests) and a
// driver that moves a VirtualClock only while a gateway waits on it.
import type { VirtualClock } from '../../src/clock.js';
import type { GatewayCore } from '../../src/mturk/gateway-core.js';

export interface FakeRequest {
  readonly operation: string;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
}

export type FakeReply =
  | { readonly status?: number; readonly json?: unknown; readonly headers?: Record<string, string> }
  | { readonly networkError: string };

type Responder = (req: FakeRequest, index: number) => FakeReply | Promise<FakeReply>;

/** Replies an awsJson1_1 error body. */
export function requestError(message: string, turkErrorCode?: string): FakeReply {
  return {
    status: 400,
    json: { __type: 'RequestError', Message: message, ...(turkErrorCode ? { TurkErrorCode: turkErrorCode } : {}) },
  };
}
export function throttle(): FakeReply {
  return { status: 400, json: { __type: 'ThrottlingException', message: 'Rate exceeded' } };
}
export function fault(): FakeReply {
  return {
    status: 500,
    json: { __type: 'ServiceFault', Message: 'Amazon Mechanical Turk is temporarily unable to process your request.' },
  };
}

/** A scripted MTurk: `respond` answers each request; every request is recorded. */
export class FakeMTurk {
  readonly requests: FakeRequest[] = [];
  respond: Responder;

  constructor(respond: Responder = () => ({ json: {} })) {
    this.respond = respond;
  }

  /** Requests of one operation. */
  of(operation: string): FakeRequest[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  readonly handler = {
    handle: async (req: { headers: Record<string, string>; body: Uint8Array | string }) => {
      const operation = req.headers['x-amz-target']!.split('.')[1]!;
      const text = typeof req.body === 'string' ? req.body : new TextDecoder().decode(req.body);
      const request: FakeRequest = {
        operation,
        body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
        headers: { ...req.headers },
      };
      this.requests.push(request);
      const reply = await this.respond(request, this.requests.length - 1);
      if ('networkError' in reply) {
        const err = new Error(reply.networkError) as Error & { code: string };
        err.code = reply.networkError;
        throw err;
      }
      return {
        response: {
          statusCode: reply.status ?? 200,
          headers: {
            'content-type': 'application/x-amz-json-1.1',
            'x-amzn-requestid': `req-${this.requests.length}`,
            ...(reply.headers ?? {}),
          },
          body: new TextEncoder().encode(JSON.stringify(reply.json ?? {})),
        },
      };
    },
    destroy: () => undefined,
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
  };
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Settles `work`, moving `clock` to its next timer only while some gateway waits on the clock
 * (queued or backing off, nothing in flight). Never sleeps on wall time.
 */
export async function drive<T>(
  clock: VirtualClock,
  gateways: readonly GatewayCore[],
  work: Promise<T>,
  maxTurns = 200_000,
): Promise<T> {
  let settled = false;
  work.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; !settled; i++) {
    if (i > maxTurns) throw new Error(`drive: the work did not settle within ${maxTurns} event-loop turns`);
    await turn();
    if (settled) break;
    const waiting = gateways.some((g) => !g.isIdle()) && gateways.every((g) => g.stats().inFlight === 0);
    const next = clock.nextDeadline();
    if (waiting && next !== undefined) await clock.advanceTo(Math.max(next, clock.now()));
  }
  return work;
}

/** Static fake credentials (tests never touch real AWS). */
export const STATIC = { kind: 'static', accessKeyId: 'AKIDHITSTATEUNIT', secretAccessKey: 'unit-secret' } as const;
