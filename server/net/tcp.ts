import type { Socket } from 'node:net';
import { createRequire } from 'node:module';

// The two TCP socket calls Node has no API for, made through koffi (a prebuilt FFI, no compiler):
// TCP_NOTSENT_LOWAT, which caps the bytes the kernel holds unsent for a socket, and the kernel's
// view of a connection (Linux TCP_INFO, macOS TCP_CONNECTION_INFO). Windows: Node exposes no socket
// handle, so neither is available there and callers go on without them.

/** The kernel's view of one connection, as far as the platform tells it. */
export interface TcpInfo {
  /** Smoothed round-trip time, µs. */
  rttUs: number;
  /** Sent and not yet acknowledged, bytes. */
  inFlightBytes: number;
  /** Written by the program and not yet sent, bytes. */
  unsentBytes: number;
  /** The kernel's estimate of what the connection delivers, bytes per second; 0 before it has one. */
  deliveryRate: number;
}

interface Platform {
  lowat: number;
  info: number;
  infoBytes: number;
  parse(info: Buffer, length: number): TcpInfo;
}

const IPPROTO_TCP = 6;

// Offsets in struct tcp_info (include/uapi/linux/tcp.h). The kernel fills as much as it has and
// says how much: notsent_bytes came in 4.6, delivery_rate in 4.9; older kernels give 0 for those.
const LINUX: Platform = {
  lowat: 25,
  info: 11,
  infoBytes: 232,
  parse(b, length) {
    const mss = b.readUInt32LE(16);
    // tcp_packets_in_flight(): unacked - (sacked + lost) + retransmitted, in segments.
    const segments = b.readUInt32LE(24) - b.readUInt32LE(28) - b.readUInt32LE(32) + b.readUInt32LE(36);
    return {
      rttUs: b.readUInt32LE(68),
      inFlightBytes: Math.max(0, segments) * mss,
      unsentBytes: length >= 148 ? b.readUInt32LE(144) : 0,
      deliveryRate: length >= 168 ? Number(b.readBigUInt64LE(160)) : 0,
    };
  },
};

// struct tcp_connection_info (xnu bsd/netinet/tcp.h, macOS 10.11+). It gives the send buffer as
// one figure (in flight and unsent together) and no delivery rate: cwnd per RTT stands in for it.
const MACOS: Platform = {
  lowat: 0x201,
  info: 0x106,
  infoBytes: 112,
  parse(b) {
    const cwnd = b.readUInt32LE(24);
    const queued = b.readUInt32LE(32);
    const srttMs = b.readUInt32LE(44);
    const inFlight = Math.min(queued, cwnd, b.readUInt32LE(28));
    return { rttUs: srttMs * 1000, inFlightBytes: inFlight, unsentBytes: queued - inFlight, deliveryRate: srttMs > 0 ? (cwnd * 1000) / srttMs : 0 };
  },
};

interface Calls {
  platform: Platform;
  setsockopt: (fd: number, level: number, name: number, value: Buffer, length: number) => number;
  getsockopt: (fd: number, level: number, name: number, value: Buffer, length: Buffer) => number;
}

let calls: Calls | string | undefined;

/** The socket calls, or why this platform has none; loaded once, on first use. */
function load(): Calls | string {
  if (calls !== undefined) return calls;
  const platform = process.platform === 'linux' ? LINUX : process.platform === 'darwin' ? MACOS : null;
  if (!platform) return (calls = `${process.platform} exposes no socket handle to Node`);
  try {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    // The running process: libc's symbols, whichever libc (glibc, musl, libSystem) it links.
    const self = koffi.load(null);
    calls = {
      platform,
      setsockopt: self.func('int setsockopt(int fd, int level, int name, void *value, uint32_t length)'),
      getsockopt: self.func('int getsockopt(int fd, int level, int name, void *value, uint32_t *length)'),
    };
  } catch (err) {
    calls = `the FFI library did not load (${(err as Error).message})`;
  }
  return calls;
}

/** Why this platform cannot tune sockets, or null if it can. */
export function tcpUnavailable(): string | null {
  const c = load();
  return typeof c === 'string' ? c : null;
}

/** The socket's descriptor, where Node has one (not on Windows, not for a socket already closed). */
export function socketFd(socket: Socket): number | null {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

// Scratch buffers for the calls: one call at a time, as JavaScript runs.
const lengthBuffer = Buffer.alloc(4);
const intBuffer = Buffer.alloc(4);
let infoBuffer = Buffer.alloc(0);

/** Caps the bytes the kernel keeps unsent for this socket; false where that cannot be done. */
export function setUnsentLimit(fd: number, bytes: number): boolean {
  const c = load();
  if (typeof c === 'string') return false;
  intBuffer.writeInt32LE(bytes);
  return c.setsockopt(fd, IPPROTO_TCP, c.platform.lowat, intBuffer, 4) === 0;
}

/** The socket's cap on unsent bytes as the kernel reports it (getsockopt), or null. */
export function unsentLimit(fd: number): number | null {
  const c = load();
  if (typeof c === 'string') return null;
  lengthBuffer.writeUInt32LE(4);
  return c.getsockopt(fd, IPPROTO_TCP, c.platform.lowat, intBuffer, lengthBuffer) === 0 ? intBuffer.readInt32LE() : null;
}

/** The kernel's view of the connection now, or null where the platform or socket cannot tell. */
export function tcpInfo(fd: number): TcpInfo | null {
  const c = load();
  if (typeof c === 'string') return null;
  const { platform } = c;
  if (infoBuffer.length !== platform.infoBytes) infoBuffer = Buffer.alloc(platform.infoBytes);
  lengthBuffer.writeUInt32LE(platform.infoBytes);
  if (c.getsockopt(fd, IPPROTO_TCP, platform.info, infoBuffer, lengthBuffer) !== 0) return null;
  return platform.parse(infoBuffer, lengthBuffer.readUInt32LE());
}
