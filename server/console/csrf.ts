/**
 * Requests that change something (every method but GET, HEAD and OPTIONS) must come from the
 * console's own pages or from a script, never from another site's page in the user's browser:
 *
 * - A browser names the page a request comes from (`Origin`, and `Sec-Fetch-Site` in current
 *   browsers): any other origin is refused, another port of localhost too, which the login cookie
 *   would reach (SameSite goes by site, and a site has no port).
 * - A request signed in by the cookie must also send the session's CSRF token as `X-CSRF-Token`.
 *   Every page carries it (`<meta name="csrf-token">`, see `csrfMeta`) and the pages' `post()`
 *   sends it. Scripts send the Bearer header, which no other page can make a browser add, and need
 *   no CSRF token.
 * - Bodies are JSON: a form or `text/plain` body (which a browser sends to another site without
 *   asking first) is a 415, never read as an empty request.
 */
import { createHmac } from 'node:crypto';
import type { RequestHandler, Response } from 'express';
import { secretMatcher } from './auth';

export const CSRF_HEADER = 'X-CSRF-Token';

declare global {
  namespace Express {
    interface Locals {
      csrfToken?: string;
    }
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The session's CSRF token: an HMAC of the console token, the session's secret. It needs no
 * storage, and whoever sees it (in a page) learns nothing of the token.
 */
export function csrfToken(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('sluice console CSRF token').digest('base64url');
}

/** Refuses writes from other origins, without the CSRF token of a cookie session, or without a JSON body type. */
export function guardWrites(sessionToken: string): RequestHandler {
  const token = csrfToken(sessionToken);
  const matches = secretMatcher(token);
  return (req, res, next) => {
    res.locals.csrfToken = token;
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    const refused = crossOrigin(req.get('sec-fetch-site'), req.get('origin'), req.headers.host);
    if (refused) {
      res.status(403).json({ error: refused });
      return;
    }
    if (res.locals.auth === 'cookie' && !matches(req.get(CSRF_HEADER))) {
      res.status(403).json({ error: `missing or wrong ${CSRF_HEADER} header: a request signed in by the console's cookie must send the token in the page's <meta name="csrf-token"> (scripts send Authorization: Bearer instead)` });
      return;
    }
    if (!/^application\/json\s*(;|$)/i.test(req.get('content-type') ?? '')) {
      res.status(415).json({ error: 'send the request body as JSON, with Content-Type: application/json' });
      return;
    }
    next();
  };
}

/** Why a request from a browser page counts as another origin's, if it does. */
function crossOrigin(fetchSite: string | undefined, origin: string | undefined, host: string | undefined): string | undefined {
  // `none`: the user's own action (a bookmark, the address bar), not a page's.
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') return `cross-origin request refused (Sec-Fetch-Site: ${fetchSite})`;
  if (origin === undefined) return undefined;
  let from: string | undefined;
  try {
    from = new URL(origin).host;
  } catch {
    // `Origin: null` (a sandboxed frame, a file) is no URL, and no page of this console.
  }
  return from === host ? undefined : `cross-origin request refused (Origin ${origin} is not this console)`;
}

/** The `<meta>` tag the pages' scripts read the CSRF token from. */
export function csrfMeta(res: Response): string {
  return `<meta name="csrf-token" content="${res.locals.csrfToken ?? ''}">`;
}
