import type { RequestHandler } from 'express';

/**
 * Sent with every answer of the viewer server, errors and Node's own answers included. The
 * viewer page and the key page replace the CSP with their own, which keep frame-ancestors.
 * no-referrer: a link with ?key= must never travel on in a Referer header.
 */
export const SECURITY_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
} as const;

export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set(SECURITY_HEADERS);
  next();
};
