import express, { type Express, type RequestHandler } from 'express';
import type { Pipeline } from '../pipeline.js';
import { type Access, requireKey } from './auth.js';
import { enumParam, errorHandler, methodNotAllowed, notFound } from './errors.js';
import { checkHost } from './hosts.js';
import { type StatusContext, statusRoute } from './page-status.js';
import { securityHeaders } from './security-headers.js';
import { snapshotRoute } from './snapshot.js';
import { NO_CACHE, type StreamContext, streamRoute } from './stream.js';
import { keyPage, viewerAssets, viewerPageRoute } from './viewer-page.js';

export interface AppContext extends StreamContext, StatusContext {
  pipeline: Pipeline;
  access: Access;
  pageDir: string;
  /** Names besides this machine's own that the Host header may give (--allow-host, the mDNS name). */
  allowHosts: () => readonly string[];
  /** How long `/snapshot.jpg?after=` waits for a frame; default SNAPSHOT_WAIT_MS. */
  snapshotWaitMs?: number;
}

/** The viewer-facing HTTP API. */
export function createApp(ctx: AppContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use(securityHeaders);

  const stream = streamRoute(ctx);
  const snapshot = snapshotRoute(ctx.hub, ctx.pipeline, ctx.maxViewers, ctx.snapshotWaitMs);
  const page = viewerPageRoute(ctx.pageDir, ctx.access, ctx.name);
  const readOnly = methodNotAllowed('GET, HEAD');

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').set(NO_CACHE).send('ok');
  });
  app.all('/healthz', readOnly);

  // After /healthz, which tells a monitor "ok" by whatever name it knows this machine (a DNS
  // alias, a container's service name) and tells a rebinding page nothing else.
  app.use(checkHost(ctx.allowHosts));
  app.use(requireKey(ctx.access, keyPage(ctx.pageDir)));

  // mjpg-streamer's URLs, which OctoPrint, Home Assistant and many scripts are written for.
  const root: RequestHandler = (req, res, next) => {
    const action = enumParam(req, 'action', ['stream', 'snapshot'] as const);
    const route = action === 'stream' ? stream : action === 'snapshot' ? snapshot : page;
    return route(req, res, next);
  };
  app.get('/', root);
  app.get('/index.html', page);
  app.get('/stream.mjpg', stream);
  app.get('/snapshot.jpg', snapshot);
  app.get('/status.json', statusRoute(ctx));
  for (const path of ['/', '/index.html', '/stream.mjpg', '/snapshot.jpg', '/status.json']) app.all(path, readOnly);

  app.use(viewerAssets(ctx.pageDir));
  app.use(notFound);
  app.use(errorHandler(ctx.log));
  return app;
}
