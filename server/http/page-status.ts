import type { RequestHandler } from 'express';
import type { Status, StatusJson } from '../../shared/status.js';
import type { Farewell } from '../../shared/farewell.js';
import type { Hub } from '../hub/hub.js';
import type { Pipeline } from '../pipeline.js';
import { guestOf } from './auth.js';
import { intParam, pageParam } from './errors.js';
import { forViewer, statusOf } from './status.js';
import { clientIp, NO_CACHE } from './stream.js';

export interface StatusContext {
  hub: Hub;
  pipeline: Pipeline;
  /** The camera's name, the viewer page's title ('' = none). */
  name: () => string;
  /** Why this server is closing, while it closes. */
  ending: () => Farewell | null;
}

/** The longest a status request may be held (`?wait=MS`). */
const MAX_WAIT_MS = 10_000;

/**
 * GET /status.json: what statusOf says as a viewer may see it (forViewer), the camera's name, and
 * for a viewer page (`?viewer=TOKEN`) how PushCam sees it watching. `?wait=MS` holds the answer that long, and
 * answers `{ ended: reason }` at once when the page's viewing ends (a kick, a stop, a restart, a
 * new key): no browser tells a page that an <img>'s stream ended, so this is how the page hears
 * why. A viewer page always has one such request open, which costs the server nothing but a socket.
 */
export function statusRoute(ctx: StatusContext): RequestHandler {
  const status = onePerBurst(() => statusOf(ctx.hub, ctx.pipeline));
  return async (req, res) => {
    const page = pageParam(req);
    const wait = intParam(req, 'wait', 0, MAX_WAIT_MS) ?? 0;
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    const guest = guestOf(req);
    const ended = ctx.ending() ?? (wait > 0 ? await ctx.hub.waitForFarewell(page, wait, gone.signal, guest?.id ?? null) : null);
    if (gone.signal.aborted) return;
    res.set(NO_CACHE);
    if (ended) {
      res.json({ ended } satisfies StatusJson);
      return;
    }
    const asker = {
      ...(page === undefined ? {} : { pageViewer: ctx.hub.viewerIdOf(page) }),
      ip: clientIp(req),
      userAgent: req.get('user-agent') ?? '',
      guest: guest?.id ?? null,
    };
    res.json({
      ...forViewer(status(), asker),
      name: ctx.name(),
      ...(page === undefined ? {} : { you: { watching: ctx.hub.watching(page), picture: ctx.hub.pictureOf(page) } }),
    } satisfies StatusJson);
  };
}

/**
 * The status built once for all answers given in one turn of the event loop: a thousand held
 * requests that end together built a thousand viewer lists before, and stalled every stream
 * (measured: 3.2 s of the loop with 400 viewers).
 */
function onePerBurst(build: () => Status): () => Status {
  let current: Status | null = null;
  return () => {
    if (current === null) {
      current = build();
      setImmediate(() => (current = null));
    }
    return current;
  };
}
