import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { RequestHandler } from 'express';
import { VIEWER_CSP } from '../../shared/page-csp.js';
import { packageRoot } from '../config/paths.js';
import { type Access, rememberKey } from './auth.js';

/** Where the built viewer page lives; fails with what to do when it was never built. */
export function viewerPageDir(): string {
  const dir = join(packageRoot(), 'dist/renderer/viewer');
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`the viewer page is not built (${dir}); run \`npm run build\` in the PushCam folder`);
  }
  return dir;
}

/**
 * The words of the key page: a browser came without a key, with one that is not (or no longer)
 * right, with an expired guest link's, or after too many wrong ones.
 */
export type KeyProblem = 'missing' | 'wrong' | 'expired' | 'slow';

const KEY_WORDS: Record<KeyProblem, string> = {
  missing: 'This PushCam needs its access key. Paste the key, or the whole link you were given.',
  wrong: 'That access key is not right, or no longer: the broadcaster may have made a new one. Paste the new key or link.',
  expired: 'This guest link has expired. Ask the broadcaster for a new link, and paste it here.',
  slow: 'Too many wrong access keys came from your address: wait a few seconds, then paste the key or link again.',
};

export interface KeyPage {
  html(problem: KeyProblem): string;
  csp: string;
}

/**
 * The page a browser gets without the right key. It has the viewer page's look because it is
 * styled by the same sheet, inlined (its requests would need the key): the sheet's hash in the
 * CSP lets that one style element in and nothing else. No script: the field has autofocus, and
 * the server trims and unpacks what is pasted (see auth.ts).
 */
export function keyPage(dir: string): KeyPage {
  const css = readFileSync(join(dir, 'viewer.css'), 'utf8');
  const template = replaceOnce(readFileSync(join(dir, 'key.html'), 'utf8'), '<link rel="stylesheet" href="viewer.css">', `<style>${css}</style>`);
  const hash = createHash('sha256').update(css).digest('base64');
  return {
    html: (problem) => replaceOnce(template, '<!--message-->', KEY_WORDS[problem]),
    csp: `default-src 'none'; style-src 'sha256-${hash}'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  };
}

/** GET /: the viewer page, titled with the camera's name; with `?key=` it also sets the cookie its own requests then carry. */
export function viewerPageRoute(dir: string, access: Access, name: () => string): RequestHandler {
  const page = readFileSync(join(dir, 'index.html'), 'utf8');
  const titled = (title: string): string => replaceOnce(page, '<title>PushCam</title>', `<title>${escapeHtml(title)}</title>`);
  titled('PushCam'); // a page without its title marker fails now, not at the first visitor
  return (req, res) => {
    rememberKey(req, res, access);
    res.set({ 'Content-Security-Policy': VIEWER_CSP, 'Cache-Control': 'no-cache' });
    res.type('html').send(titled(name() || 'PushCam'));
  };
}

const VIEWER_ASSETS = ['/viewer.js', '/viewer.css'];

/**
 * The page's script and style sheet; nothing else from that folder (not its source map, not the
 * key page's template). Read once, like the page, not streamed from the file per request
 * (express.static): Node never answers a request pipelined behind one whose connection dropped,
 * and such a file stream was never closed, keeping its descriptor for good.
 */
export function viewerAssets(dir: string): RequestHandler {
  const files = new Map(VIEWER_ASSETS.map((path) => [path, readFileSync(join(dir, path))]));
  return (req, res, next) => {
    const body = files.get(req.path);
    if (!body || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    res.set('Cache-Control', 'no-cache').type(extname(req.path)).send(body);
  };
}

/** `text` with `marker` replaced; the marker must be there (the page and this code change together). */
function replaceOnce(text: string, marker: string, by: string): string {
  if (!text.includes(marker)) throw new Error(`the viewer page has no ${marker}; rebuild PushCam (npm run build)`);
  return text.replace(marker, () => by);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
