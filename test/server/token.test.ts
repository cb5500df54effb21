import { createHmac } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isHitstateError } from '../../src/errors.js';
import { signAgentToken, verifyAgentToken } from '../../src/server/token.js';

const Token = suite('token');
const secret = Buffer.from('k'.repeat(32));
const claims = { agentId: 'agent-1', workerId: 'WORKERA', assignmentId: 'ASG0001', expiresAtSec: 1_800_000_000 };
const now = (claims.expiresAtSec - 60) * 1000;

function failure(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return null;
}

Token('when a token is signed then it verifies to the same claims', () => {
  const token = signAgentToken(claims, secret);
  assert.match(token, /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.equal(verifyAgentToken(token, secret, now), claims);
});

Token('when any character of a token changes then it no longer verifies', () => {
  const token = signAgentToken(claims, secret);
  for (let i = 3; i < token.length; i += 7) {
    const flipped = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    if (flipped === token) continue;
    assert.ok(
      isHitstateError(
        failure(() => verifyAgentToken(flipped, secret, now)),
        'HST_ERR_SERVER_TOKEN_INVALID',
      ),
      `position ${i}`,
    );
  }
});

Token('when a token is checked with another secret, after expiry, empty or oversized then it is refused', () => {
  const token = signAgentToken(claims, secret);
  const cases: [string | undefined, Uint8Array, number, RegExp][] = [
    [token, Buffer.from('j'.repeat(32)), now, /signature/],
    [token, secret, claims.expiresAtSec * 1000, /expired at 2027-01-15T08:00:00.000Z/],
    [undefined, secret, now, /missing/],
    ['', secret, now, /missing/],
    [`v1.${'a'.repeat(3000)}.b`, secret, now, /malformed/],
    ['v2.a.b', secret, now, /malformed/],
  ];
  for (const [input, key, at, message] of cases) {
    const err = failure(() => verifyAgentToken(input, key, at));
    assert.ok(isHitstateError(err, 'HST_ERR_SERVER_TOKEN_INVALID'));
    assert.match((err as Error).message, message);
  }
});

Token('when a validly signed payload has the wrong shape then it is refused', () => {
  const payload = Buffer.from(JSON.stringify(['agent-1', 'W', 7, 'soon'])).toString('base64url');
  const mac = createHmac('sha256', secret).update('hitstate-agent-token.v1\n').update(payload).digest('base64url');
  const err = failure(() => verifyAgentToken(`v1.${payload}.${mac}`, secret, now));
  assert.ok(isHitstateError(err, 'HST_ERR_SERVER_TOKEN_INVALID'));
  assert.match((err as Error).message, /wrong shape/);
});

Token('when a token is spelled in any other way than the canonical base64url then it is refused', () => {
  const token = signAgentToken(claims, secret);
  const [, payload, signature] = token.split('.') as [string, string, string];
  const standardMac = Buffer.from(signature, 'base64url').toString('base64');
  // The MAC's last character carries 2 unused bits: a neighbour decodes to the same bytes.
  const last = signature.at(-1)!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const sameBytes = alphabet[alphabet.indexOf(last) ^ 1]!;
  const spellings = [
    `${token}!!`,
    `${token}=`,
    `v1.${payload}.${standardMac}`,
    `v1.${payload}.${signature.slice(0, -1)}${sameBytes}`,
    `v1.${payload}=.${signature}`,
    `v1.${payload}.${signature.slice(0, 10)}!${signature.slice(10)}`,
  ];
  for (const spelling of spellings) {
    assert.ok(
      Buffer.from(spelling.split('.')[2]!, 'base64url').equals(Buffer.from(signature, 'base64url')) ||
        spelling.includes('='),
      `the lenient decoder reads ${spelling} as the same MAC`,
    );
    const err = failure(() => verifyAgentToken(spelling, secret, now));
    assert.ok(isHitstateError(err, 'HST_ERR_SERVER_TOKEN_INVALID'), spelling);
  }
  assert.equal(verifyAgentToken(token, secret, now), claims, 'the canonical spelling still verifies');
});

Token.run();
