import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import { WebSocketServer, type WebSocket } from 'ws';
import { packageRoot } from '../config/paths.js';
import { keyMatches } from '../http/auth.js';
import { callCore, oneLine } from './calls.js';
import { CORE_EVENT_NAMES } from '../../shared/contract.js';
import { PANEL_CSP } from '../../shared/page-csp.js';
import { FRAME_ACK, FRAME_HEADER_BYTES, MAX_FRAME, parseWireFrame, previewMessage } from '../../shared/frame-format.js';
import type { ControlService, WindowPreview } from './service.js';
import { plainObject } from '../../shared/values.js';
import { type Log, onChange } from '../log.js';

// The browser adapter of the control contract: a server of its own, on loopback only, so that the
// control panel never shares a port with what the LAN can reach, and survives the broadcast
// stopping or moving to another port. Guarded three ways: loopback peers only, a Host header that
// names this server (no DNS rebinding), and a random admin token on both WebSockets.

export interface ControlServer {
  port: number;
  token: string;
  /** The control panel, with its token. */
  panelUrl: string;
  /** The headless capture page, with its token. */
  capturePageUrl: string;
  close(): Promise<void>;
}

/** A control socket holding this much unsent is behind: the preview's newest frame waits rather than queueing. */
const PREVIEW_BACKLOG = 512 * 1024;
/** ws tells nothing when its buffer empties, so a preview that waits on it looks again after this long. */
const PREVIEW_LOOK_MS = 20;
/**
 * The largest message each route takes; ws closes a socket that sends more (1009) before
 * buffering it. A JSON call is at most a few kilobytes (every setting at its longest); a camera
 * frame is at most MAX_FRAME of RGBA pixels after its header.
 */
const MAX_MESSAGE = { control: 16 * 1024, frames: FRAME_HEADER_BYTES + MAX_FRAME.width * MAX_FRAME.height * 4 } as const;

export interface ControlServerOptions {
  /** The port and token of the last run (`serve --ui`), so an open panel reconnects; another free port if that one is taken. */
  port?: number;
  token?: string;
  log: Log;
}

export async function startControlServer(service: ControlService, o: ControlServerOptions): Promise<ControlServer> {
  const token = o.token ?? randomBytes(16).toString('base64url');
  const server = createServer();
  const sockets = new Set<WebSocket>();
  const listen = (port: number): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: '127.0.0.1' }, () => {
        server.off('error', reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const port = await listen(o.port ?? 0).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE' || !o.port) throw err;
    return listen(0);
  });
  const hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const origins = new Set([...hosts].map((h) => `http://${h}`));

  server.on('request', staticPages(hosts));
  const routes = {
    '/control': { serve: serveControl, wss: new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE.control }) },
    '/frames': { serve: serveFrames, wss: new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE.frames }) },
  };
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const allowed = isLoopback(req) && hosts.has(req.headers.host ?? '') && (!req.headers.origin || origins.has(req.headers.origin));
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname as keyof typeof routes] : null;
    if (!allowed || !route || !keyMatches(token, url.searchParams.get('token') ?? '')) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    route.wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      // A message too big or a broken frame: ws closes the socket (1009, 1002) and reports it
      // here; unheard, the 'error' event would end PushCam.
      ws.on('error', () => undefined);
      route.serve(ws, service, o.log);
    });
  });

  const base = `http://127.0.0.1:${port}`;
  return {
    port,
    token,
    panelUrl: `${base}/app/#token=${token}`,
    capturePageUrl: `${base}/capture/#token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of sockets) ws.terminate();
        for (const route of Object.values(routes)) route.wss.close();
        server.close(() => resolve());
      }),
  };
}

function isLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress ?? '';
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}

/** The built pages (app, capture); their token comes in the URL fragment, never sent to a server. */
function staticPages(hosts: Set<string>): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    if (hosts.has(req.headers.host ?? '') && isLoopback(req)) return next();
    res.status(403).type('text/plain').send('forbidden: the control panel answers only on this computer\n');
  });
  app.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': PANEL_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    });
    next();
  });
  app.get('/', (_req, res) => res.redirect('/app/'));
  app.use(express.static(join(packageRoot(), 'dist/renderer'), { index: 'index.html', dotfiles: 'deny' }));
  app.use((_req, res) => res.status(404).type('text/plain').send('not found\n'));
  return app;
}

/**
 * The contract over JSON: `{id, call, args}` answered by `{id, result}` or `{id, error}`; events as
 * `{event, data}`. Calls are checked by callCore() before the service sees them.
 */
function serveControl(ws: WebSocket, service: ControlService): void {
  const relays = CORE_EVENT_NAMES.map((event) => {
    const relay = (data: unknown): void => ws.send(JSON.stringify({ event, data }));
    service.on(event, relay);
    return () => service.off(event, relay);
  });
  const preview = service.openPreview({
    send: (frame) => ws.send(Buffer.concat(previewMessage(frame))),
    behindMs: () => (ws.bufferedAmount < PREVIEW_BACKLOG ? 0 : PREVIEW_LOOK_MS),
  });
  ws.on('close', () => {
    for (const off of relays) off();
    preview.close();
  });
  ws.on('message', (raw, isBinary) => {
    if (isBinary) return ws.close(1003, 'binary messages go to /frames');
    void answer(ws, service, preview, raw.toString());
  });
}

async function answer(ws: WebSocket, service: ControlService, preview: WindowPreview, text: string): Promise<void> {
  let id: number | string | null = null;
  try {
    const message = plainObject(parseJson(text), 'a call');
    // Only an id the client can have made is echoed, so an answer is never larger than it must be.
    if (typeof message.id === 'number' || (typeof message.id === 'string' && message.id.length <= 64)) id = message.id;
    const result = await callCore(service, preview, message.call, message.args ?? []);
    // A call that answers nothing sends no result, so the client resolves with undefined.
    ws.send(JSON.stringify({ id, result }));
  } catch (err) {
    ws.send(JSON.stringify({ id, error: oneLine(err) }));
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('not a JSON message: a call is {"id": 1, "call": "getState", "args": []}');
  }
}

/** Camera frames, one in flight: each is answered with FRAME_ACK, accepted or not. */
function serveFrames(ws: WebSocket, service: ControlService, log: Log): void {
  const refused = onChange(log);
  ws.on('message', (data, isBinary) => {
    try {
      if (!isBinary) throw new Error('camera frames are binary messages');
      service.acceptFrame(parseWireFrame(data as Buffer));
      refused('');
    } catch (err) {
      refused(`camera frame refused: ${(err as Error).message}`);
    }
    ws.send(FRAME_ACK);
  });
}
