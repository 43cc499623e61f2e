// Serves app://pushcam/<path> from the built pages (dist/renderer), with the app's CSP on every
// response. Plain Node (fs + fetch's Response), so it is tested without Electron; main.ts hands
// it to protocol.handle. fs reads inside app.asar too when Electron runs it.
import { readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { APP_CSP } from '../shared/page-csp.js';
import { isAppUrl } from './window.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};

/** The file an app URL names inside `root`, or null when it is not one of ours or leaves root. */
export function appFilePath(url: string, root: string): string | null {
  if (!isAppUrl(url)) return null;
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
  const file = join(root, path);
  const inside = relative(root, file);
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || path.includes('\0')) return null;
  return file;
}

export async function serveAppRequest(url: string, root: string): Promise<Response> {
  const file = appFilePath(url, root);
  const type = file === null ? undefined : CONTENT_TYPES[extname(file).toLowerCase()];
  if (file === null || type === undefined || !(await isFile(file))) return notFound();
  return new Response(await readFile(file), { status: 200, headers: headers(type) });
}

function headers(type: string): Record<string, string> {
  return {
    'Content-Type': type,
    'Content-Security-Policy': APP_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  };
}

function notFound(): Response {
  return new Response('not found', { status: 404, headers: headers('text/plain; charset=utf-8') });
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
