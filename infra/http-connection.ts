/** The client behind `ctx.conn.http(name)`: the platform's fetch, pinned to one base URL. */
import type { HttpConnection } from '../dags/sdk/connections';
import type { HttpSpec } from './connections';

const ABSOLUTE = /^([a-z][a-z0-9+.-]*:|\/\/)/i;

export function createHttpConnection(name: string, spec: HttpSpec): HttpConnection {
  const authorization = spec.auth && `Basic ${Buffer.from(`${spec.auth.username}:${spec.auth.password}`).toString('base64')}`;
  return {
    baseUrl: spec.baseUrl,
    async fetch(path, init) {
      // The credentials belong to this host: a full URL here would send them elsewhere.
      if (ABSOLUTE.test(path)) {
        throw new TypeError(`http connection '${name}': fetch takes a path under ${spec.baseUrl}, not a URL`);
      }
      const url = path === '' ? spec.baseUrl : `${spec.baseUrl}/${path.replace(/^\/+/, '')}`;
      const headers = new Headers(init?.headers);
      // A header the caller sets (another scheme, a token) wins over the URI's credentials.
      if (authorization && !headers.has('authorization')) headers.set('authorization', authorization);
      return fetch(url, { ...init, headers });
    },
  };
}
