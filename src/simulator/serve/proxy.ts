/**
 * What a request says about itself when it comes through the TLS reverse proxy: the client's
 * address (`X-Forwarded-For`), the scheme it used (`X-Forwarded-Proto`) and the host it asked for
 * (`X-Forwarded-Host`). Those headers are honoured only when the connection comes from a trusted
 * proxy address (the `trustedProxies` setting, by default the loopback addresses where the proxy
 * runs next to the server): anyone else could write them, e.g. to dodge the sign-in rate limits
 * with a made-up address.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** Loopback: the proxy on the same machine (the documented set-up). */
export const DEFAULT_TRUSTED_PROXIES: readonly string[] = ['127.0.0.1', '::1'];

/** An address as Node reports it, without the IPv4-mapped IPv6 prefix (`::ffff:127.0.0.1`). */
function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * Checks a `trustedProxies` list.
 *
 * @returns the problem, or undefined when every entry is an IP address.
 */
export function trustedProxiesProblem(list: unknown): string | undefined {
  if (!Array.isArray(list)) return `must be a list of IP addresses such as ["127.0.0.1"], got ${JSON.stringify(list)}.`;
  const bad = list.find((a) => typeof a !== 'string' || isIP(plain(a)) === 0);
  return bad === undefined
    ? undefined
    : `must hold IP addresses only (the proxy's address as the server sees it), got ${JSON.stringify(bad)}.`;
}

/** What the request says through a trusted proxy, or the connection itself otherwise. */
export interface Forwarded {
  /** The client's address: the nearest one in `X-Forwarded-For` that is not a trusted proxy. */
  client: string;
  /** Whether the connection came from a trusted proxy (so the fields below are honoured). */
  viaProxy: boolean;
  /** `http` or `https` as the client used it, when a trusted proxy said so. */
  proto: 'http' | 'https' | undefined;
  /** The host the client asked for, when a trusted proxy said so (`X-Forwarded-Host`). */
  host: string | undefined;
}

const first = (v: string | string[] | undefined): string | undefined => {
  const s = Array.isArray(v) ? v[0] : v;
  const t = s?.split(',')[0]?.trim();
  return t ? t : undefined;
};

/** Makes the reader of forwarded headers for a set of trusted proxy addresses. */
export function forwardedReader(trustedProxies: readonly string[]): (req: IncomingMessage) => Forwarded {
  const trusted = new Set(trustedProxies.map(plain));
  return (req) => {
    const peer = plain(req.socket.remoteAddress ?? 'unknown');
    if (!trusted.has(peer)) return { client: peer, viaProxy: false, proto: undefined, host: undefined };
    // Each proxy appends the address it got the request from: walking from the right, the first
    // address that is not one of ours is the client. Anything left of it the client wrote itself.
    const chain = String(req.headers['x-forwarded-for'] ?? '')
      .split(',')
      .map((s) => plain(s.trim()))
      .filter((s) => s !== '');
    let client = peer;
    for (let i = chain.length - 1; i >= 0; i--) {
      client = chain[i]!;
      if (!trusted.has(client)) break;
    }
    const proto = first(req.headers['x-forwarded-proto'])?.toLowerCase();
    const host = first(req.headers['x-forwarded-host']);
    return {
      client: isIP(client) ? client : peer,
      viaProxy: true,
      proto: proto === 'http' || proto === 'https' ? proto : undefined,
      host: host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? host : undefined,
    };
  };
}
