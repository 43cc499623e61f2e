import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { HttpError } from './errors.js';

/** The access key, or null for an open server; and the cookie the viewer page keeps it in. */
export interface Access {
  key: string | null;
  cookieName: string;
}

/** Cookies are not kept apart by port, so two PushCams on one host need two names. */
export function cookieNameFor(port: number): string {
  return `pushcam_key_${port}`;
}

/** Constant-time: hashing first makes the comparison independent of where the strings differ and of their lengths. */
export function keyMatches(expected: string, given: string): boolean {
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

/** Every key the request presents: `?key=`, the HTTP Basic password, the viewer cookie. */
function presentedKeys(req: Request, cookieName: string): string[] {
  const keys: string[] = [];
  if (typeof req.query.key === 'string') keys.push(req.query.key);
  const auth = req.headers.authorization;
  if (auth?.startsWith('Basic ')) {
    const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) keys.push(decoded.slice(colon + 1));
  }
  for (const pair of (req.headers.cookie ?? '').split(';')) {
    const [name, ...value] = pair.trim().split('=');
    if (name === cookieName) keys.push(value.join('='));
  }
  return keys;
}

const KEY_NEEDED = 'This PushCam needs its access key: open the full link you were given.';

/** What a person who opened a link without its key sees: the reason, and a field to paste the key. */
const KEY_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="color-scheme" content="light dark">
<title>PushCam: access key needed</title></head>
<body><h1>PushCam</h1><p data-testid="message">${KEY_NEEDED}</p>
<form method="get" action="/"><label>Access key <input name="key" autocomplete="off" required></label>
<button type="submit">Open</button></form></body></html>
`;

/**
 * Lets a request through only with the right key (or when the server is open). Programs (ffmpeg,
 * VLC, Home Assistant: no Sec-Fetch-Mode header) get the Basic challenge they know how to answer.
 * Browsers get none: it would stall a page's own fetches, or ask a person for a user name PushCam
 * does not have. A browser that navigates here gets a page that says what to do instead.
 */
export function requireKey(access: Access): RequestHandler {
  return (req, res, next) => {
    if (access.key === null) return next();
    const key = access.key;
    if (presentedKeys(req, access.cookieName).some((given) => keyMatches(key, given))) return next();
    const mode = req.get('sec-fetch-mode');
    if (mode === undefined) res.set('WWW-Authenticate', 'Basic realm="PushCam", charset="UTF-8"');
    if (mode === 'navigate') {
      res.status(401).set('Content-Security-Policy', "default-src 'none'; form-action 'self'").type('html').send(KEY_PAGE);
      return;
    }
    throw new HttpError(401, `${KEY_NEEDED} (?key=...)`);
  };
}

/** After a visit with `?key=`, the page's own requests (stream, snapshot, status) carry the cookie. */
export function rememberKey(req: Request, res: Response, access: Access): void {
  const given = req.query.key;
  if (access.key === null || typeof given !== 'string' || !keyMatches(access.key, given)) return;
  res.cookie(access.cookieName, given, {
    httpOnly: true,
    sameSite: 'strict',
    path: '/',
    maxAge: 365 * 24 * 3600 * 1000,
  });
}
