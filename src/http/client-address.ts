import type { IncomingMessage } from 'node:http';

/**
 * The address a request comes from, for per-client rate limits. Directly
 * exposed, that is the socket's peer. Behind `trustedProxyHops` proxies (a
 * load balancer, say), the peer is the nearest proxy, and each proxy appends
 * the address it was reached from to X-Forwarded-For: the client is the entry
 * that many places from the right. Entries further left were written by the
 * client itself and are never trusted; with fewer entries than hops, the
 * leftmost is the best we have.
 */
export function clientAddressOf(request: IncomingMessage | undefined, trustedProxyHops: number): string {
  const peer = request?.socket.remoteAddress ?? 'unknown';
  if (trustedProxyHops === 0 || !request) return peer;
  const header = request.headers['x-forwarded-for'];
  const forwarded = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (forwarded.length === 0) return peer;
  return forwarded[Math.max(0, forwarded.length - trustedProxyHops)]!;
}
