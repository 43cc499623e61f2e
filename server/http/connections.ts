import type { ServerOptions } from 'node:http';
import type { Server, Socket } from 'node:net';
import { peerAddress } from './per-address.js';

/** Connections one address may hold at once (--max-per-address). */
export const MAX_PER_ADDRESS = 32;
/**
 * All connections at once, from everyone: 300 viewers with a page each hold about 1,400 (the
 * soak's load); 1,024 refused new viewers there. Node raises its descriptor limit to the hard
 * limit at start, far above this on Linux and macOS.
 */
const MAX_CONNECTIONS = 4096;
/** A connection must have sent a request's whole head this long after it opened (or after its last answer). */
export const HEADERS_TIMEOUT_MS = 5_000;
/** How often Node looks for connections past HEADERS_TIMEOUT_MS; its default, 30 s, let them stay up to 35 s. */
const TIMEOUT_CHECK_MS = 1_000;
/** A kept-alive connection that asks nothing more for this long is closed. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Connections waiting to be accepted, for bursts of viewers (Linux caps it at net.core.somaxconn). */
export const LISTEN_BACKLOG = 4096;

/**
 * For createServer (http or https): no client holds a connection it does not use. A connection
 * that sends nothing, or a request's head too slowly, gets 408 HEADERS_TIMEOUT_MS after it
 * opened; so does a kept-alive one that starts a request and stalls. A stream or a long poll,
 * once its request has arrived, is not timed here (the send timeout looks after streams).
 */
export const SERVER_OPTIONS = {
  headersTimeout: HEADERS_TIMEOUT_MS,
  connectionsCheckingInterval: TIMEOUT_CHECK_MS,
  requestTimeout: 30_000,
  keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  // The Host header is checked against this machine's names (hosts.ts), which answers its absence with the security headers.
  requireHostHeader: false,
} as const satisfies ServerOptions;

/**
 * One address cannot take the connections everyone needs (a slowloris): a connection over its
 * address's cap is closed as it arrives, before a byte of it is read. `server` is what listens:
 * the HTTP server, or the TCP server in front of HTTPS (listener.ts).
 */
export function limitConnections(server: Server, maxPerAddress = MAX_PER_ADDRESS): void {
  server.maxConnections = MAX_CONNECTIONS;
  const open = new Map<string, number>();
  server.prependListener('connection', (socket: Socket) => {
    const address = peerAddress(socket);
    const count = open.get(address) ?? 0;
    if (count >= maxPerAddress) {
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}
