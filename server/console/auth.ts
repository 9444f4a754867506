import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

const COOKIE = 'sluice_token';

/**
 * Every route needs the console token: as a Bearer header (scripts), or as the cookie a browser
 * gets after opening the URL `sluice up` prints once (`/?token=...`).
 */
export function requireToken(token: string): RequestHandler {
  const expected = Buffer.from(token);
  const matches = (given: string | undefined) =>
    given !== undefined && given.length === token.length && timingSafeEqual(Buffer.from(given), expected);

  return (req, res, next) => {
    const fromQuery = typeof req.query.token === 'string' ? req.query.token : undefined;
    if (matches(fromQuery)) {
      res.cookie(COOKIE, fromQuery, { httpOnly: true, sameSite: 'strict' });
      res.redirect(req.path);
      return;
    }
    const header = req.get('authorization')?.replace(/^Bearer\s+/i, '');
    const cookie = parseCookie(req.get('cookie'), COOKIE);
    if (matches(header) || matches(cookie)) {
      next();
      return;
    }
    res.status(401).json({ error: 'missing or wrong console token: see .sluice/console-token or SLUICE_CONSOLE_TOKEN' });
  };
}

function parseCookie(header: string | undefined, name: string): string | undefined {
  for (const part of header?.split(';') ?? []) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}
