import { createServer } from 'node:http';
import type { Server, Socket } from 'node:net';
import type { GuestKeys } from './config/guest-links.js';
import { DEFAULT_SETTINGS, SETTING_RANGES } from '../shared/settings-table.js';
import { Encoder } from './encoder/encoder.js';
import { encodeTier } from './encoder/tiers.js';
import { createApp } from './http/app.js';
import { cookieNameFor } from './http/auth.js';
import { answerClientErrors } from './http/client-errors.js';
import { LISTEN_BACKLOG, limitConnections } from './http/connections.js';
import { createListener, type Listener, type TlsFiles } from './http/listener.js';
import { viewerPageDir } from './http/viewer-page.js';
import type { Farewell } from '../shared/farewell.js';
import { Hub } from './hub/hub.js';
import { newBoundary } from './hub/multipart.js';
import { Pipeline } from './pipeline.js';
import type { Log } from './log.js';
import type { FrameSource } from './types.js';
import type { EncodeSettings } from '../shared/settings-table.js';

/** Where and to whom the HTTP server answers. */
export interface HttpOptions {
  /** Address to listen on; default all interfaces. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The access key; null opens the server to anyone who can reach it. */
  key: string | null;
  /** Guest links' keys, which open it too (server/config/guest-links.ts). */
  guests?: GuestKeys;
  maxViewers?: number;
  /** A viewer whose connection takes no data for this long is dropped; default 15 s (SEND_TIMEOUT_MS). */
  sendTimeoutMs?: number;
  /** How long `/snapshot.jpg?after=` (and a snapshot of an idle source) waits for a frame; default 10 s (SNAPSHOT_WAIT_MS). */
  snapshotWaitMs?: number;
  /** The camera's name, the viewer page's title; read on every request, so a rename shows at once. */
  name?: () => string;
  /** Connections one client address may hold at once; default MAX_PER_ADDRESS (32). */
  maxPerAddress?: number;
  /** Names besides this machine's own that viewers may reach it by (the Host header: --allow-host, the mDNS name); read on every request. */
  allowHosts?: () => readonly string[];
  /** The user's certificate: HTTPS on the port, and plain HTTP there redirected to it. */
  tls?: TlsFiles | null;
}

export interface PushCamOptions extends HttpOptions {
  source: FrameSource;
  encode?: Partial<EncodeSettings>;
  log?: (line: string) => void;
}

/** Source, encoder, pipeline and hub: everything but HTTP. */
export interface Core {
  hub: Hub;
  pipeline: Pipeline;
  encoder: Encoder;
}

export interface HttpServer {
  port: number;
  /** HTTPS (with the user's certificate) or plain HTTP. */
  secure: boolean;
  /** Ends every viewer with a last picture that says why (default: stopped), then stops listening. */
  close(reason?: Farewell): Promise<void>;
}

export interface PushCam extends Core, HttpServer {
  key: string | null;
}

export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly suggestion: number | null,
  ) {
    super(`port ${port} is in use; ${suggestion ? `try --port ${suggestion}, which is free` : 'try another with --port, or --port 0 for any free one'}`);
  }
}

export function createCore(source: FrameSource, encode: Partial<EncodeSettings>, log: (line: string) => void): Core {
  const encoder = new Encoder(encode);
  const hub = new Hub({ encodeTier: (main, spec) => encodeTier(main, spec, encoder.settings.quality), log });
  return { hub, encoder, pipeline: new Pipeline(source, encoder, hub, log) };
}

/** Serves a core's frames over HTTP. Closing ends every stream; the core keeps running. */
export async function serveHttp(core: Core, o: HttpOptions, log: (line: string) => void): Promise<HttpServer> {
  let ending: Farewell | null = null;
  // The certificate is read first: a bad one is said before anything listens.
  const listener = createListener(o.tls ?? null, log);
  const server = listener.front;
  const sockets = trackSockets(server);
  hardenServer(listener, o.maxPerAddress, log);
  let port: number;
  try {
    port = await listen(server, o.port ?? DEFAULT_SETTINGS.port, o.host);
  } catch (err) {
    listener.close();
    throw err;
  }
  listener.listening();
  const app = createApp({
    ...core,
    boundary: newBoundary(),
    maxViewers: o.maxViewers ?? DEFAULT_SETTINGS.maxViewers,
    sendTimeoutMs: o.sendTimeoutMs,
    snapshotWaitMs: o.snapshotWaitMs,
    access: { key: o.key, cookieName: cookieNameFor(port), guests: o.guests },
    pageDir: viewerPageDir(),
    allowHosts: o.allowHosts ?? (() => []),
    name: o.name ?? (() => ''),
    ending: () => ending,
    log,
  });
  listener.viewers.on('request', app);
  let closing: Promise<void> | null = null;
  const close = (reason: Farewell = 'stopped'): Promise<void> => {
    closing ??= (async () => {
      ending = reason;
      await core.hub.endAll(reason);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        listener.close();
        for (const socket of sockets) socket.destroy();
      });
    })();
    return closing;
  };
  return { port, secure: listener.secure, close };
}

/** The whole headless PushCam: core and HTTP server. Resolves once it is listening. */
export async function startPushCam(o: PushCamOptions): Promise<PushCam> {
  const log = o.log ?? ((line: string) => console.log(line));
  const core = createCore(o.source, o.encode ?? {}, log);
  const http = await serveHttp(core, o, log);
  const close = async (): Promise<void> => {
    core.pipeline.close();
    await http.close();
  };
  return { ...core, port: http.port, secure: http.secure, key: o.key, close };
}

/**
 * Limits that keep hostile or broken clients from holding resources: connections per address on
 * the listening socket; on each HTTP server behind it (created with SERVER_OPTIONS, its
 * timeouts), few headers and a client's answer to what it cannot parse.
 */
function hardenServer(listener: Listener, maxPerAddress: number | undefined, log: Log): void {
  limitConnections(listener.front, maxPerAddress);
  for (const server of listener.servers) {
    server.maxHeadersCount = 100;
    answerClientErrors(server, log);
  }
}

function trackSockets(server: Server): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return sockets;
}

function listen(server: Server, port: number, host: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code !== 'EADDRINUSE') return reject(err);
      void freePortNear(port, host).then((free) => reject(new PortInUseError(port, free)));
    };
    server.once('error', onError);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** The first free port among the next few, to suggest instead of a busy one. */
async function freePortNear(port: number, host?: string): Promise<number | null> {
  for (let candidate = port + 1; candidate <= Math.min(port + 20, SETTING_RANGES.port[1]); candidate++) {
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen({ port: candidate, host }, () => probe.close(() => resolve(true)));
    });
    if (free) return candidate;
  }
  return null;
}
