import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Log } from '../log.js';
import { PerAddress, peerAddress } from './per-address.js';
import { SECURITY_HEADERS } from './security-headers.js';

/** A client's mistakes are logged at most once per address this often. */
const CLIENT_ERROR_LOG_MS = 60_000;
/** Addresses remembered for that; past it the oldest is forgotten (and may be logged again). */
const REMEMBERED = 1000;

/** Node's parser errors, as a status and words for the client. */
function answerFor(code: string): [number, string] {
  if (code === 'HPE_HEADER_OVERFLOW') return [431, 'Request Header Fields Too Large'];
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'Request Timeout'];
  return [400, 'Bad Request'];
}

/**
 * A request Node cannot parse, or that came too slowly, is the client's mistake, not PushCam's:
 * it gets a 400, 431 or 408 with the security headers, and the log a line about the client, at
 * most once per address a minute. A client that went away (a reset) or failed its TLS handshake
 * gets nothing, and no line.
 */
export function answerClientErrors(server: Server, log: Log): void {
  // An Expect header other than 100-continue: Node would answer 417 itself, without the security headers.
  server.on('checkExpectation', (_req, res) => void res.writeHead(417, { ...SECURITY_HEADERS, Connection: 'close' }).end());
  const lastLogged = new PerAddress<number>(REMEMBERED);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? '';
    // Only HTTP can be answered in HTTP. An HTTPS server reports failed TLS handshakes here too
    // (a stall, a client that does not trust the certificate): text written to such a socket
    // would never leave it, and the socket would stay open.
    const http = code.startsWith('HPE_') || code === 'ERR_HTTP_REQUEST_TIMEOUT';
    if (!http || !socket.writable || answering(socket)) {
      socket.destroy();
      return;
    }
    const [status, reason] = answerFor(code);
    const address = peerAddress(socket);
    const now = Date.now();
    const last = lastLogged.get(address);
    if (status !== 408 && (last === undefined || now - last >= CLIENT_ERROR_LOG_MS)) {
      lastLogged.set(address, now);
      log(`client ${address} sent a malformed request (${code || err.message}); answered ${status}; more from it this minute are not logged`);
    }
    const body = JSON.stringify({ error: `${reason.toLowerCase()}: ${status === 408 ? 'the request did not arrive in time' : 'PushCam could not read this request'}` });
    const headers = Object.entries({ ...SECURITY_HEADERS, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' });
    socket.end(`HTTP/1.1 ${status} ${reason}\r\n${headers.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n${body}`);
  });
}

/** A response is under way on the socket (the error is in a request pipelined after it): no second head can go out. */
function answering(socket: Socket): boolean {
  // Node's own handler looks at the same field: the ServerResponse the socket is writing.
  return (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
}
