import type { RequestHandler } from 'express';
import type { Hub } from '../hub/hub.js';
import { isMain, tierKey } from '../hub/tiers.js';
import type { Pipeline } from '../pipeline.js';
import { HttpError, intParam, pageParam } from './errors.js';
import { guestOf } from './auth.js';
import { clientIp, refuseFull, refuseGuestInUse, refuseKicked } from './stream.js';
import { refuseTier, tierParam } from './tier-param.js';

/** How long `?after=SEQ` (and a snapshot of an idle source) waits for a frame. */
const SNAPSHOT_WAIT_MS = 10_000;

/**
 * GET /snapshot.jpg: the newest frame, ETag = its seq. `?after=SEQ` waits for a newer frame
 * (long-polling for viewers that cannot show the stream) and answers 304 if none comes; such a
 * client is a viewer (a SnapshotViewer), counted, listed and kickable like a stream.
 */
export function snapshotRoute(hub: Hub, pipeline: Pipeline, maxViewers: number, waitMs = SNAPSHOT_WAIT_MS): RequestHandler {
  return async (req, res) => {
    const after = intParam(req, 'after', 0, Number.MAX_SAFE_INTEGER);
    const page = pageParam(req);
    const tier = tierParam(req, hub.latest, { stream: false });
    refuseKicked(hub, req);
    if (after !== undefined) refuseGuestInUse(hub, req, page);
    if (!hub.hasRoomFor(tier)) refuseTier(res);
    const viewer = { ip: clientIp(req), userAgent: req.get('user-agent') ?? '', guest: guestOf(req)?.id ?? null, tier };
    const snapshotViewer = after === undefined ? null : hub.snapshotViewerFor(page, viewer, maxViewers);
    if (after !== undefined && !snapshotViewer) refuseFull(res, maxViewers);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const kicked = snapshotViewer?.ask();
    // An idle source's last frame may be old: start it and wait for a fresh one.
    const since = after ?? (pipeline.isRunning ? (hub.latest?.seq ?? 0) - 1 : (hub.latest?.seq ?? 0));
    const frame = await hub.waitForFrame(since, waitMs, kicked ? AbortSignal.any([gone.signal, kicked]) : gone.signal, tier);
    snapshotViewer?.answered(since, frame);
    // Kicked while it waited: told so, like every request of a kicked viewer.
    refuseKicked(hub, req);
    if (gone.signal.aborted && !frame) return;
    if (!frame) {
      if (after !== undefined) {
        res.status(304).set('X-Frame-Seq', String(after)).end();
        return;
      }
      throw new HttpError(503, 'no picture yet: the source has not produced a frame; see /status.json');
    }
    // One frame has other bytes in each tier.
    const etag = isMain(tier) ? `"${frame.seq}"` : `"${frame.seq}-${tierKey(tier)}"`;
    res.set({
      'Cache-Control': 'no-cache',
      ETag: etag,
      'X-Frame-Seq': String(frame.seq),
      'Last-Modified': new Date(frame.at).toUTCString(),
    });
    if (req.get('if-none-match') === etag) {
      res.status(304).end();
      return;
    }
    res.type('image/jpeg').send(frame.jpeg);
  };
}
