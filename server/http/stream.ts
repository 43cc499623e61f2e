import type { Request, RequestHandler, Response } from 'express';
import { type AutoHub, AutoTier } from '../hub/auto-tier.js';
import { type Hub, newViewerId } from '../hub/hub.js';
import { guestOf } from './auth.js';
import { openLink } from '../hub/link.js';
import { type PartLayout, partLayout, streamContentType } from '../hub/multipart.js';
import { KEEPALIVE_MS, SEND_TIMEOUT_MS, Viewer } from '../hub/viewer.js';
import type { StreamCompat } from '../types.js';
import { enumParam, HttpError, intParam, pageParam } from './errors.js';
import { peerAddress } from './per-address.js';
import { refuseTier, tierParam } from './tier-param.js';

export interface StreamContext {
  hub: Hub;
  boundary: string;
  maxViewers: number;
  /** A viewer that takes no data for this long is dropped; default SEND_TIMEOUT_MS. */
  sendTimeoutMs?: number;
  log: (line: string) => void;
}

export const NO_CACHE = {
  'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
  Pragma: 'no-cache',
  Expires: '0',
};

/**
 * The layout a request gets unless it asks (?compat=). WebKit (Safari, and every iOS browser)
 * needs the dual final frame (server/hub/viewer.ts). A request with no User-Agent at all is a
 * bare script or library (Node's http.get, mjpeg-consumer), which may need Content-Length; so
 * is libavformat (ffmpeg, ffplay, OpenCV, mpv: "Lavf/..."), whose JPEG parser, without a length,
 * holds each frame until the next one starts (measured: one frame late). Everything else gets
 * advance headers: programs such as Home Assistant hand the stream on to a browser's <img>,
 * where the length layout would show each frame one frame late.
 */
function compatFor(userAgent: string | undefined): StreamCompat {
  if (userAgent === undefined || userAgent.startsWith('Lavf/')) return 'length';
  const webkit = /AppleWebKit/.test(userAgent) && !/Chrome\/|Chromium\/|Edg\//.test(userAgent);
  return webkit || /CriOS|FxiOS|EdgiOS/.test(userAgent) ? 'dual' : 'advance';
}

/** Stream and snapshot refuse a viewer the broadcaster kicked, for a while. */
export function refuseKicked(hub: Hub, req: Request): void {
  if (hub.isRefused(clientIp(req), req.get('user-agent') ?? '')) {
    throw new HttpError(403, 'the broadcaster disconnected you; you can watch again in a minute');
  }
}

/**
 * A guest link for one viewer at a time that another page watches through gets 409 (the viewer
 * page waits for its turn); the same page switching between stream and snapshots is one viewer.
 */
export function refuseGuestInUse(hub: Hub, req: Request, page: string | undefined): void {
  const guest = guestOf(req);
  if (guest?.oneViewer && hub.guestViewersBesides(guest.id, page) > 0) {
    throw new HttpError(409, 'this guest link is for one viewer at a time, and someone is watching through it; try again later');
  }
}

/** One viewer more than the limit gets 503 with a reason, stream or snapshot viewer alike. */
export function refuseFull(res: Response, maxViewers: number): never {
  res.set('Retry-After', '10');
  throw new HttpError(503, `PushCam is at its limit of ${maxViewers} viewers; try again later`);
}

/** GET /stream.mjpg: the push stream, open until the viewer leaves. */
export function streamRoute(ctx: StreamContext): RequestHandler {
  // One of each layout for every viewer: each frame's part is then built once per layout.
  const layouts = new Map<StreamCompat, PartLayout>();
  const layoutFor = (compat: StreamCompat): PartLayout => {
    const bytes = compat === 'dual' ? 'advance' : compat;
    let layout = layouts.get(bytes);
    if (!layout) layouts.set(bytes, (layout = partLayout(ctx.boundary, bytes)));
    return layout;
  };
  return (req, res) => {
    const userAgent = req.get('user-agent') ?? '';
    const compat = enumParam(req, 'compat', ['advance', 'dual', 'length', 'plain'] as const) ?? compatFor(req.get('user-agent'));
    const fps = intParam(req, 'fps', 1, 120);
    const page = pageParam(req);
    const tier = tierParam(req, ctx.hub.latest, { stream: true });
    refuseKicked(ctx.hub, req);
    refuseGuestInUse(ctx.hub, req, page);
    if (ctx.hub.viewersBesides(page) >= ctx.maxViewers) refuseFull(res, ctx.maxViewers);
    if (!ctx.hub.hasRoomFor(tier)) refuseTier(res);
    // No chunked encoding: raw parts, as every MJPEG server sends them; the end is the connection's end.
    res.useChunkedEncodingByDefault = false;
    res.writeHead(200, {
      'Content-Type': streamContentType(ctx.boundary),
      ...NO_CACHE,
      Connection: 'close',
      'X-Accel-Buffering': 'no',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // After the head, frames go to the socket itself: one write each, without the response
    // object's work per write. (A request pipelined behind another has no socket yet.)
    res.flushHeaders();
    const socket = res.socket;
    socket?.setNoDelay(true);
    const link = socket ? openLink(socket, ctx.log) : null;
    const minIntervalMs = fps ? 1000 / fps : 0;
    const viewer = new Viewer(socket ?? res, {
      info: { id: newViewerId(), ip: clientIp(req), userAgent, since: Date.now(), via: 'stream', guest: guestOf(req)?.id ?? null, tier },
      layout: layoutFor(compat),
      minIntervalMs,
      dualFinalFrame: compat === 'dual',
      sendTimeoutMs: ctx.sendTimeoutMs ?? SEND_TIMEOUT_MS,
      keepAliveMs: KEEPALIVE_MS,
      link,
    });
    // Where the link cannot be seen (no TCP_INFO), an auto viewer keeps the main picture.
    const auto = tier.auto && link ? new AutoTier(autoHub(ctx.hub, viewer, minIntervalMs), link) : null;
    res.on('close', () => {
      auto?.stop();
      ctx.hub.remove(viewer);
    });
    ctx.hub.add(viewer, page);
  };
}

function autoHub(hub: Hub, viewer: Viewer, minIntervalMs: number): AutoHub {
  return {
    move: (spec) => hub.move(viewer, spec),
    newestBytes: (spec) => hub.newestBytes(spec),
    fps: () => (minIntervalMs > 0 ? Math.min(hub.fps, 1000 / minIntervalMs) : hub.fps),
  };
}

/** The viewer's address, as listed and as kicked. */
export function clientIp(req: Request): string {
  return peerAddress(req.socket);
}
