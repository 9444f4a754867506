import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

export const TOKEN_COOKIE = 'sluice_token';

const SIGN_IN_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Sluice</title><link rel="stylesheet" href="/assets/console.css"></head><body><header class="top"><span class="brand">Sluice</span></header>
<main><h1>Sign in</h1><div class="card"><p>This console needs its token. Open the link <code>sluice up</code> printed
(<code>http://…/?token=…</code>), or <code>sluice config</code> to see where the token is kept
(<code>.sluice/console-token</code>, or <code>SLUICE_CONSOLE_TOKEN</code>).</p></div></main></body></html>`;

/** How a request showed the token: scripts send a Bearer header, browsers the login cookie. */
export type AuthMethod = 'bearer' | 'cookie';

declare global {
  // Express types `res.locals` through this interface.
  namespace Express {
    interface Locals {
      auth?: AuthMethod;
    }
  }
}

/**
 * Every route needs the console token: as a Bearer header (scripts), or as the cookie a browser
 * gets after opening the URL `sluice up` prints once (`/?token=...`). Anything else, whatever its
 * length, characters or encoding, is a 401.
 */
export function requireToken(token: string): RequestHandler {
  const matches = secretMatcher(token);
  return (req, res, next) => {
    const fromQuery = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (matches(fromQuery)) {
      res.cookie(TOKEN_COOKIE, fromQuery, { httpOnly: true, sameSite: 'strict' });
      // Drop the token from the address bar; `//host` would be a redirect to another site.
      res.redirect(req.path.startsWith('//') ? '/' : req.path);
      return;
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '')?.[1];
    if (matches(bearer)) {
      res.locals.auth = 'bearer';
      next();
      return;
    }
    if (matches(parseCookie(req.get('cookie'), TOKEN_COOKIE))) {
      res.locals.auth = 'cookie';
      next();
      return;
    }
    if (req.method === 'GET' && !req.path.startsWith('/api/') && req.accepts(['json', 'html']) === 'html') {
      // A person in a browser: say how to sign in, in words.
      res.status(401).type('html').send(SIGN_IN_PAGE);
      return;
    }
    res.status(401).json({ error: 'missing or wrong console token: see .sluice/console-token or SLUICE_CONSOLE_TOKEN' });
  };
}

/**
 * Checks strings against a secret by comparing HMACs of them, not the strings: both digests have
 * the same length whatever was sent, so `timingSafeEqual` never throws (it does on buffers of
 * different byte lengths, which a non-ASCII string of the right character count gives) and the
 * time taken says nothing about the secret.
 */
export function secretMatcher(secret: string): (given: string | undefined) => boolean {
  const key = randomBytes(32);
  const digest = (text: string) => createHmac('sha256', key).update(text).digest();
  const expected = digest(secret);
  return (given) => given !== undefined && timingSafeEqual(digest(given), expected);
}

function parseCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      // Bad percent-encoding is a wrong token, not a server error.
      return undefined;
    }
  }
  return undefined;
}
