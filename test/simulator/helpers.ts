// Shared setup for the simulator tests: a simulator on virtual time, real SDK clients pointed at
// it, and small builders for HIT inputs.
import { MTurkClient, type MTurkClientConfig } from '@aws-sdk/client-mturk';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';

export const EXTERNAL_NS =
  'http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd';

export function externalQuestion(url = 'https://tasks.example.com/task?lang=en', frameHeight = 600): string {
  const escaped = url.replace(/&/g, '&amp;');
  return `<ExternalQuestion xmlns="${EXTERNAL_NS}"><ExternalURL>${escaped}</ExternalURL><FrameHeight>${frameHeight}</FrameHeight></ExternalQuestion>`;
}

/** Members of CreateHITType (and of CreateHIT together with {@link hitInput}). */
export function typeInput(overrides: Record<string, unknown> = {}) {
  return {
    Title: 'Label an image',
    Description: 'Pick the label that fits the picture best.',
    Keywords: 'image, label',
    Reward: '0.50',
    AssignmentDurationInSeconds: 600,
    AutoApprovalDelayInSeconds: 86_400,
    ...overrides,
  };
}

/** Members of CreateHIT. */
export function hitInput(overrides: Record<string, unknown> = {}) {
  return { ...typeInput(), LifetimeInSeconds: 3600, MaxAssignments: 1, Question: externalQuestion(), ...overrides };
}

export async function startSim(options: SimulatorOptions = {}): Promise<Simulator> {
  return createSimulator({ clock: 'virtual', seed: 7, ...options });
}

export function clientFor(
  sim: Simulator,
  accessKeyId = 'AKIDREQUESTERONE',
  config: Partial<MTurkClientConfig> = {},
): MTurkClient {
  return new MTurkClient({
    endpoint: sim.url,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey: 'not-checked' },
    maxAttempts: 1,
    ...config,
  });
}

/** Awaits a promise that must reject, and returns the error (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Record<string, unknown> & Error> {
  const outcome = await p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)?.slice(0, 300)}`);
  return outcome.error as Record<string, unknown> & Error;
}

/** A raw POST to the requester endpoint, for what the SDK would never send. */
export async function rawCall(
  sim: Simulator,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${sim.url}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      authorization:
        'AWS4-HMAC-SHA256 Credential=AKIDRAW/20260101/us-east-1/mturk-requester/aws4_request, SignedHeaders=host, Signature=00',
      'x-amz-target': 'MTurkRequesterServiceV20170117.GetAccountBalance',
      ...headers,
    },
    body,
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

export async function postJson(url: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json() };
}

export async function getJson(url: string): Promise<{ status: number; json: any }> {
  const res = await fetch(url);
  return { status: res.status, json: await res.json() };
}
