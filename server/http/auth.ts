import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { GuestKeys } from '../config/guest-links.js';
import type { GuestLink } from '../../shared/contract.js';
import { HttpError } from './errors.js';
import { KeyFailures } from './key-failures.js';
import { peerAddress } from './per-address.js';
import type { KeyPage } from './viewer-page.js';

/** The access key, or null for an open server; the cookie the viewer page keeps it in; the guest links' keys. */
export interface Access {
  key: string | null;
  cookieName: string;
  guests?: GuestKeys;
}

/** Which key let a request in: the main key (or an open server), or a guest link's. */
type KeyHolder = 'main' | { guest: GuestLink };

const holders = new WeakMap<Request, GuestLink>();

/** The guest link a request came in by (requireKey decided), or null for the main key. */
export function guestOf(req: Request): GuestLink | null {
  return holders.get(req) ?? null;
}

/** Which key among those presented opens this server; 'expired' when the only one that would is an expired guest link's. */
function holderOf(access: Access, presented: string[]): KeyHolder | 'expired' | null {
  const key = access.key;
  if (key === null || presented.some((given) => keyMatches(key, given))) return 'main';
  let expired = false;
  for (const given of presented) {
    const match = access.guests?.match(given) ?? null;
    if (match === 'expired') expired = true;
    else if (match) return { guest: match.link };
  }
  return expired ? 'expired' : null;
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

/**
 * The key in `?key=` as a person may have typed or pasted it: spaces around it dropped, and the
 * key taken out of a whole link (keys are letters, digits and . _ ~ -, so never contain "key=").
 */
function keyFromQuery(req: Request): string | undefined {
  const raw = req.query.key;
  if (typeof raw !== 'string') return undefined;
  const text = raw.trim();
  if (!text.includes('key=')) return text;
  try {
    return new URL(text, 'http://pushcam.invalid/').searchParams.get('key')?.trim() ?? text;
  } catch {
    return text;
  }
}

/** Every key the request presents: `?key=`, the HTTP Basic password, the viewer cookie. */
function presentedKeys(req: Request, cookieName: string): string[] {
  const keys: string[] = [];
  const query = keyFromQuery(req);
  if (query !== undefined) keys.push(query);
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
const LINK_EXPIRED = 'This guest link has expired: ask the broadcaster for a new one.';

/**
 * Lets a request through only with the right key (or when the server is open). Programs (ffmpeg,
 * VLC, Home Assistant: no Sec-Fetch-Mode header) get the Basic challenge they know how to answer.
 * Browsers get none: it would stall a page's own fetches, or ask a person for a user name PushCam
 * does not have. A browser that navigates here gets a page that says what to do instead, and one
 * that came with a pasted link or spaces around the key goes on to the address with the bare key.
 */
export function requireKey(access: Access, page: KeyPage, failures = new KeyFailures()): RequestHandler {
  return (req, res, next) => {
    if (access.key === null) return next();
    const presented = presentedKeys(req, access.cookieName);
    const mode = req.get('sec-fetch-mode');
    const navigating = mode === 'navigate';
    const address = peerAddress(req.socket);
    const wait = presented.length > 0 ? failures.waitFor(address) : 0;
    if (wait > 0) {
      res.set('Retry-After', String(Math.ceil(wait / 1000)));
      if (navigating) return void res.status(429).set('Content-Security-Policy', page.csp).type('html').send(page.html('slow'));
      throw new HttpError(429, 'too many wrong keys from your address; wait a few seconds (Retry-After) before the next try');
    }
    const holder = holderOf(access, presented);
    if (holder !== null && holder !== 'expired') {
      if (holder !== 'main') holders.set(req, holder.guest);
      const query = keyFromQuery(req);
      if (!navigating || query === undefined || query === req.query.key) return next();
      return void res.redirect(303, addressWithKey(req, query));
    }
    // An expired guest link's key was once given out, not guessed.
    if (holder === null && presented.length > 0) failures.failed(address, presented);
    if (mode === undefined) res.set('WWW-Authenticate', 'Basic realm="PushCam", charset="UTF-8"');
    if (navigating) {
      res.status(401).set('Content-Security-Policy', page.csp).type('html').send(page.html(holder ?? (presented.length > 0 ? 'wrong' : 'missing')));
      return;
    }
    throw new HttpError(401, holder === 'expired' ? LINK_EXPIRED : `${KEY_NEEDED} (?key=...)`);
  };
}

/** The same path and query with the bare key; a path like //host stays on this server. */
function addressWithKey(req: Request, key: string): string {
  const params = new URLSearchParams(req.url.split('?')[1] ?? '');
  params.set('key', key);
  return `/${req.path.replace(/^\/+/, '')}?${params.toString()}`;
}

/** After a visit with `?key=`, the page's own requests (stream, snapshot, status) carry the cookie. */
export function rememberKey(req: Request, res: Response, access: Access): void {
  const given = keyFromQuery(req);
  const holder = given === undefined ? null : holderOf(access, [given]);
  if (access.key === null || given === undefined || holder === null || holder === 'expired') return;
  res.cookie(access.cookieName, given, {
    httpOnly: true,
    sameSite: 'strict',
    // Over HTTPS the browser must never send it over plain HTTP (where this port only redirects).
    secure: req.secure,
    path: '/',
    maxAge: 365 * 24 * 3600 * 1000,
  });
}
