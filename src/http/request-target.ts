/**
 * What a request line and Host header ask for, checked before the app builds
 * a URL from them (it fails with a 500 on anything a URL cannot hold).
 *
 * - origin-form (`GET /health`): served for the Host header's authority;
 * - absolute-form (`GET http://host/health`): served as its path, for the
 *   target's authority, the Host header ignored (RFC 9112, section 3.2.2:
 *   servers must accept it);
 * - asterisk-form (`OPTIONS *`): asks about the server as a whole;
 * - anything else, or a host that is not a name, an IPv4 or a bracketed IPv6
 *   address with an optional port, is refused.
 */
export type RequestTarget = { form: 'path'; path: string; authority: string } | { form: 'server' } | { form: 'refused'; reason: string };

/** A DNS name (underscores allowed, as container names have them), an IPv4 or a bracketed IPv6 address, and an optional port. */
const acceptableAuthority = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

function isAcceptableAuthority(authority: string): boolean {
  return acceptableAuthority.test(authority) && URL.canParse(`http://${authority}/`);
}

export function requestTargetOf(method: string | undefined, target: string, host: string | undefined): RequestTarget {
  if (target.startsWith('/')) {
    if (host === undefined) return { form: 'refused', reason: 'A Host header is required.' };
    if (!isAcceptableAuthority(host)) return { form: 'refused', reason: 'The Host header must be a host name or address, with an optional port.' };
    return { form: 'path', path: target, authority: host };
  }
  if (/^https?:\/\//i.test(target)) {
    const url = URL.canParse(target) ? new URL(target) : undefined;
    if (!url || url.username || url.password || !isAcceptableAuthority(url.host)) {
      return { form: 'refused', reason: 'The request target is not a usable http(s) URL.' };
    }
    return { form: 'path', path: `${url.pathname}${url.search}`, authority: url.host };
  }
  if (target === '*' && method === 'OPTIONS') return { form: 'server' };
  return { form: 'refused', reason: 'The request target must be a path such as /graphql.' };
}
