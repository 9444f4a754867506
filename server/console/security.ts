/**
 * Security headers on every answer. The pages carry no inline script or style (console.js and
 * console.css are served from here, SVGs use presentation attributes), so the policy can forbid
 * everything else: an injected `<script>` or `onclick` that slipped past escaping would not run.
 */
import type { RequestHandler } from 'express';

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "object-src 'none'",
].join('; ');

export function securityHeaders(): RequestHandler {
  return (_req, res, next) => {
    res.set({
      'content-security-policy': CSP,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
      'cross-origin-opener-policy': 'same-origin',
      // Pages show run data and logs: never keep them in a shared cache.
      'cache-control': 'no-store',
    });
    next();
  };
}
