import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type RequestHandler } from 'express';
import { packageRoot } from '../config/paths.js';
import { type Access, rememberKey } from './auth.js';

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join('; ');

/** Where the built viewer page lives; fails with what to do when it was never built. */
export function viewerPageDir(): string {
  const dir = join(packageRoot(), 'dist/renderer/viewer');
  if (!existsSync(join(dir, 'index.html'))) {
    throw new Error(`the viewer page is not built (${dir}); run \`npm run build\` in the PushCam folder`);
  }
  return dir;
}

/** GET /: the viewer page; with `?key=` it also sets the cookie its own requests then carry. */
export function viewerPageRoute(dir: string, access: Access): RequestHandler {
  return (req, res) => {
    rememberKey(req, res, access);
    res.set({ 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' });
    res.sendFile(join(dir, 'index.html'), { headers: { 'Cache-Control': 'no-cache' } });
  };
}

/** The page's script and style sheet; nothing else from that folder. */
export function viewerAssets(dir: string): RequestHandler {
  return express.static(dir, { index: false, redirect: false, fallthrough: true, dotfiles: 'deny' });
}
