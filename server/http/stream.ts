import type { Request, RequestHandler, Response } from 'express';
import { type Hub, newViewerId } from '../hub/hub.js';
import { partLayout, streamContentType } from '../hub/multipart.js';
import { Viewer } from '../hub/viewer.js';
import type { StreamCompat } from '../types.js';
import { enumParam, HttpError, intParam, pageParam } from './errors.js';

export interface StreamContext {
  hub: Hub;
  boundary: string;
  maxClients: number;
}

export const NO_CACHE = {
  'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
  Pragma: 'no-cache',
  Expires: '0',
};

/** WebKit (Safari, and every iOS browser) needs the dual final frame; see server/hub/viewer.ts. */
export function compatFor(userAgent: string): StreamCompat {
  const webkit = /AppleWebKit/.test(userAgent) && !/Chrome\/|Chromium\/|Edg\//.test(userAgent);
  return webkit || /CriOS|FxiOS|EdgiOS/.test(userAgent) ? 'dual' : 'advance';
}

/** Stream and snapshot refuse a viewer the broadcaster kicked, for a while. */
export function refuseKicked(hub: Hub, req: Request): void {
  if (hub.isRefused(clientIp(req), req.get('user-agent') ?? '')) {
    throw new HttpError(403, 'the broadcaster disconnected you; you can watch again in a minute');
  }
}

/** One viewer more than the limit gets 503 with a reason, stream or snapshot viewer alike. */
export function refuseFull(res: Response, maxClients: number): never {
  res.set('Retry-After', '10');
  throw new HttpError(503, `PushCam is at its limit of ${maxClients} viewers; try again later`);
}

/** GET /stream.mjpg: the push stream, open until the viewer leaves. */
export function streamRoute(ctx: StreamContext): RequestHandler {
  return (req, res) => {
    const userAgent = req.get('user-agent') ?? '';
    const compat = enumParam(req, 'compat', ['advance', 'dual', 'plain'] as const) ?? compatFor(userAgent);
    const fps = intParam(req, 'fps', 1, 120);
    const page = pageParam(req);
    refuseKicked(ctx.hub, req);
    if (ctx.hub.viewersBesides(page) >= ctx.maxClients) refuseFull(res, ctx.maxClients);
    // No chunked encoding: raw parts, as every MJPEG server sends them; the end is the connection's end.
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, {
      'Content-Type': streamContentType(ctx.boundary),
      ...NO_CACHE,
      Connection: 'close',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.socket?.setNoDelay(true);
    const viewer = new Viewer(res, {
      info: { id: newViewerId(), ip: clientIp(req), userAgent, since: Date.now(), via: 'stream' },
      layout: partLayout(ctx.boundary, compat),
      minIntervalMs: fps ? 1000 / fps : 0,
      dualFinalFrame: compat === 'dual',
    });
    res.on('close', () => ctx.hub.remove(viewer));
    ctx.hub.add(viewer, page);
  };
}

/** The peer's address, without the IPv4-mapped prefix of a dual-stack socket. */
export function clientIp(req: Request): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}
