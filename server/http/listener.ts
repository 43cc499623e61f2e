import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { Log } from '../log.js';
import { HEADERS_TIMEOUT_MS, SERVER_OPTIONS } from './connections.js';
import { SECURITY_HEADERS } from './security-headers.js';

// The socket a PushCam listens on. Plain HTTP: one http.Server. With the user's certificate:
// a plain TCP server in front that looks at the first byte of each connection and hands the
// socket to an https.Server (a TLS ClientHello starts with 0x16) or to an http.Server that
// answers with a redirect to https, so an old http:// link still lands on the stream. Both get
// the raw socket, so the per-viewer socket options (server/net/tcp.ts) still apply to it.

/** The user's certificate and key, PEM files (mkcert, Let's Encrypt, a company CA). */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** A certificate or key that cannot be used, with one line that says which file and what to do. */
export class TlsFileError extends Error {}

export interface Listener {
  /** What listens on the port and is closed to stop. */
  readonly front: NetServer;
  /** The server viewers' requests arrive on: the app listens to its 'request'. */
  readonly viewers: HttpServer;
  /** Every server requests arrive on: the limits and timeouts of HTTP apply to each. */
  readonly servers: readonly HttpServer[];
  readonly secure: boolean;
  /** Once `front` listens: starts the inner servers' timeout checks (Node starts them on 'listening'). */
  listening(): void;
  /** Stops watching the certificate files and closes the inner servers. */
  close(): void;
}

/** The certificate and key as TLS options; throws TlsFileError when a file is missing, unreadable, not PEM, or the two do not match. */
export function loadTls(files: TlsFiles): { cert: Buffer; key: Buffer } {
  const cert = readPem(files.cert, 'certificate');
  const key = readPem(files.key, 'key');
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new TlsFileError(tlsProblem(err as NodeJS.ErrnoException & { reason?: string }, files));
  }
  return { cert, key };
}

function readPem(file: string, what: 'certificate' | 'key'): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'not readable by PushCam' : code === 'EISDIR' ? 'a folder, not a file' : (code ?? (err as Error).message);
    throw new TlsFileError(`TLS ${what} ${file}: ${why}`);
  }
  if (!data.includes('-----BEGIN ')) throw new TlsFileError(`TLS ${what} ${file}: not a PEM file (it should start with -----BEGIN)`);
  return data;
}

function tlsProblem(err: NodeJS.ErrnoException & { reason?: string }, files: TlsFiles): string {
  if (err.code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH' || /key values mismatch/i.test(err.message)) {
    return `TLS key ${files.key} does not belong to the certificate ${files.cert}`;
  }
  return `TLS certificate ${files.cert} or key ${files.key} cannot be used (${err.reason ?? err.message.split('\n')[0]})`;
}

/** How often renewed certificate files are looked for; stat only, which also follows symlinks (certbot's live/ folder). */
const WATCH_INTERVAL_MS = 1000;
/** Renewals write the certificate and the key one after the other: the pair is loaded once both have settled. */
const SETTLE_MS = 300;

export function createListener(tls: TlsFiles | null, log: Log): Listener {
  if (!tls) {
    const server = createHttpServer(SERVER_OPTIONS);
    return { front: server, viewers: server, servers: [server], secure: false, listening: () => undefined, close: () => undefined };
  }
  // A TLS handshake that stalls is given no longer than a request's head (Node's default: 120 s).
  const https = createHttpsServer({ ...SERVER_OPTIONS, handshakeTimeout: HEADERS_TIMEOUT_MS, ...loadTls(tls) });
  const redirect = createHttpServer(SERVER_OPTIONS, redirectToHttps);
  const front = createNetServer((socket) => handOver(socket, https, redirect));
  const stopWatching = watchCertificate(tls, https, log);
  return {
    front,
    viewers: https,
    servers: [https, redirect],
    secure: true,
    listening: () => {
      https.emit('listening');
      redirect.emit('listening');
    },
    close: () => {
      stopWatching();
      https.close();
      redirect.close();
    },
  };
}

/** TLS records start with 0x16 (handshake); anything else is taken for plain HTTP. */
const TLS_HANDSHAKE = 0x16;

/** A connection that says nothing for this long is closed before it is handed over (as headersTimeout would). */
const FIRST_BYTE_MS = HEADERS_TIMEOUT_MS;

function handOver(socket: Socket, https: HttpsServer, http: HttpServer): void {
  const silent = (): void => void socket.destroy();
  const broken = (): void => void socket.destroy();
  socket.setTimeout(FIRST_BYTE_MS, silent);
  // Until it is handed over, nobody else listens for its errors (a reset before the first byte).
  socket.once('error', broken);
  socket.once('data', (first) => {
    socket.setTimeout(0);
    socket.off('timeout', silent).off('error', broken);
    socket.pause();
    // Put the bytes back: the TLS and HTTP servers read whatever the socket has buffered first.
    socket.unshift(first);
    (first[0] === TLS_HANDSHAKE ? https : http).emit('connection', socket);
    process.nextTick(() => socket.resume());
  });
}

/** Plain HTTP on the HTTPS port: the same address over https. A Host that is not a plain host[:port] gets 400. */
function redirectToHttps(req: IncomingMessage, res: ServerResponse): void {
  const host = req.headers.host ?? '';
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) {
    res.writeHead(400, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end('This PushCam speaks HTTPS: open the link with https://.\n');
    return;
  }
  const target = `https://${host}${req.url?.startsWith('/') ? req.url : '/'}`;
  res.writeHead(308, { ...SECURITY_HEADERS, Location: target, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' }).end(`This PushCam speaks HTTPS: ${target}\n`);
}

/** Loads the pair again when either file changes; a pair that does not load is said once and the one in use stays. */
function watchCertificate(files: TlsFiles, https: HttpsServer, log: Log): () => void {
  let timer: NodeJS.Timeout | null = null;
  let problem = '';
  const reload = (): void => {
    timer = null;
    try {
      https.setSecureContext(loadTls(files));
      problem = '';
      log(`TLS certificate ${files.cert} reloaded`);
    } catch (err) {
      const line = `${(err as Error).message}; still serving the certificate loaded before`;
      if (line !== problem) log(line);
      problem = line;
    }
  };
  const changed = (now: { mtimeMs: number; size: number }, before: { mtimeMs: number; size: number }): void => {
    if (now.mtimeMs === before.mtimeMs && now.size === before.size) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, SETTLE_MS);
  };
  const paths = [...new Set([files.cert, files.key])];
  for (const path of paths) watchFile(path, { interval: WATCH_INTERVAL_MS, persistent: false }, changed);
  return () => {
    if (timer) clearTimeout(timer);
    for (const path of paths) unwatchFile(path, changed);
  };
}
