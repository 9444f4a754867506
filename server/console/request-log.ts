/**
 * What the console's request log says of a request and its response: everything but the console
 * token. The login URL carries it (`/?token=...`), as do the Authorization and Cookie headers and
 * the login's Set-Cookie; the CSRF header is derived from it. These serializers drop it
 * whichever logger the console is given, so no log line holds it, not even a wrong guess at it.
 */
import { unescape } from 'node:querystring';
import type pino from 'pino';

const CENSORED = '[redacted]';
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-csrf-token'];

export const requestLogSerializers = {
  req: (req: pino.SerializedRequest) => ({
    id: req.id,
    method: req.method,
    url: withoutToken(req.url),
    headers: censorHeaders(req.headers),
    remoteAddress: req.remoteAddress,
    remotePort: req.remotePort,
  }),
  res: (res: pino.SerializedResponse) => ({ statusCode: res.statusCode, headers: censorHeaders(res.headers) }),
};

/** The URL with the value of every `token` parameter censored; a name may be percent-encoded, as Express reads it. */
function withoutToken(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const params = url
    .slice(query + 1)
    .split('&')
    .map((param) => {
      const name = param.split('=')[0] ?? '';
      return unescape(name) === 'token' ? `${name}=${CENSORED}` : param;
    });
  return `${url.slice(0, query)}?${params.join('&')}`;
}

function censorHeaders(headers: Record<string, string> | undefined): Record<string, unknown> {
  const censored: Record<string, unknown> = { ...headers };
  for (const name of SECRET_HEADERS) if (name in censored) censored[name] = CENSORED;
  return censored;
}
