import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { setUnsentLimit, socketFd, type TcpInfo, tcpInfo, tcpUnavailable } from '../net/tcp.js';
import type { LinkSample } from '../../shared/status.js';

/**
 * The kernel keeps at most this much unsent per viewer (TCP_NOTSENT_LOWAT): a fraction of a
 * frame, so that 'drain' comes when a frame is nearly sent. Chosen by measurement: see
 * docs/benchmarks.md.
 */
export const UNSENT_LIMIT_BYTES = 16 * 1024;
/** A frame goes out when what the link still holds takes at most this long to deliver. */
export const LEAD_MS = 40;
/** ... or is at most this many bytes, whatever the rate (a few segments keep the link busy). */
export const MIN_LEAD_BYTES = 4096;
// While a viewer waits for its link, it looks again after the time the link needs to get down
// to the lead, but no sooner and no later than these.
const MIN_POLL_MS = 2;
const MAX_POLL_MS = 100;
/** A link's figures in the viewer list are at most this old (the panel's table is refreshed every second). */
export const SAMPLE_MS = 250;
/** A link that keeps up is looked at before every 2nd, 4th, then 8th frame only. */
const MAX_FRAMES_UNLOOKED = 8;

/**
 * A viewer's connection as the kernel sees it (TCP_INFO). The kernel's unsent-bytes cap
 * (server/net/tcp.ts) makes 'drain' mean "the kernel has sent nearly everything"; what it has
 * sent may still wait in the network's own queues (a slow Wi-Fi link's buffer holds seconds).
 * So a viewer that is backed up writes its next frame only when what is in flight and unsent
 * would be delivered within LEAD_MS: the link holds about one frame, the newest, and a viewer
 * on a slow link is late by one frame's transfer, not by a queue of them. A viewer whose link
 * keeps up is looked at only every few frames (a look is a system call), and at once when the
 * kernel would not take a whole frame.
 */
export class Link {
  /** Bytes per second, the kernel's latest estimate. */
  private rate = 0;
  /** Looks in a row that found the link idle without waiting for it; 0 = look before every frame. */
  private keptUp = 0;
  private framesUnlooked = 0;
  private waited = false;
  private sampled: { at: number; sample: LinkSample | null } | null = null;

  constructor(
    private readonly fd: number,
    private readonly out: Writable,
  ) {}

  /** After each frame written; if the kernel did not take all of it, the link is behind. */
  wrote(): void {
    this.framesUnlooked++;
    if (this.out.writableLength > 0) this.keptUp = 0;
  }

  /** How long the next frame should wait, ms; 0 = write it now. */
  waitMs(): number {
    if (this.keptUp > 0 && this.framesUnlooked < Math.min(2 ** this.keptUp, MAX_FRAMES_UNLOOKED)) return 0;
    this.framesUnlooked = 0;
    const info = this.look();
    if (!info) return 0;
    const excess = info.inFlightBytes + info.unsentBytes - Math.max(MIN_LEAD_BYTES, (this.rate * LEAD_MS) / 1000);
    if (excess <= 0 || this.rate === 0) {
      // A link that was idle only after a wait is as slow as the stream or slower: keep looking.
      this.keptUp = this.waited ? 0 : Math.min(this.keptUp + 1, Math.log2(MAX_FRAMES_UNLOOKED));
      this.waited = false;
      return 0;
    }
    this.keptUp = 0;
    this.waited = true;
    return Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, (excess / this.rate) * 1000));
  }

  /** The link as it is now (a look: one system call). */
  sample(): LinkSample | null {
    const info = this.look();
    return info && this.describe(info);
  }

  /**
   * The link for the viewer list: a sample at most SAMPLE_MS old. Every answer of /status.json
   * lists every viewer, and viewer pages' long-polls are answered together (they all started when
   * PushCam did): 1,000 of them with 400 viewers made 400,000 TCP_INFO calls at once, which held
   * PushCam up for 3 s (measured by the soak).
   */
  recentSample(): LinkSample | null {
    const now = performance.now();
    if (this.sampled && now - this.sampled.at < SAMPLE_MS) return this.sampled.sample;
    this.sampled = { at: now, sample: this.sample() };
    return this.sampled.sample;
  }

  private describe(info: TcpInfo): LinkSample {
    const unsent = info.unsentBytes + this.out.writableLength;
    const queued = info.inFlightBytes + unsent;
    return {
      rttMs: info.rttUs / 1000,
      deliveryBitsPerSecond: this.rate * 8,
      inFlightBytes: info.inFlightBytes,
      unsentBytes: unsent,
      behindMs: this.rate > 0 ? (queued / this.rate) * 1000 + info.rttUs / 2000 : 0,
    };
  }

  private look(): TcpInfo | null {
    // A closed socket's descriptor number may already belong to another connection.
    if (this.out.destroyed) return null;
    const info = tcpInfo(this.fd);
    if (info && info.deliveryRate > 0) this.rate = info.deliveryRate;
    return info;
  }
}

let warned = false;

/**
 * Caps what the kernel keeps unsent for a viewer's socket and opens its Link. Where the platform
 * cannot (Windows, or a socket without a descriptor), says so once through `log` and returns
 * null: the viewer then goes on as before, with 'drain' as its only signal.
 */
export function openLink(socket: Socket, log: (line: string) => void): Link | null {
  const fd = socketFd(socket);
  const why = tcpUnavailable() ?? (fd === null ? 'the socket has no descriptor' : setUnsentLimit(fd, UNSENT_LIMIT_BYTES) ? null : 'setsockopt refused it');
  if (why === null && fd !== null) return new Link(fd, socket);
  if (!warned) log(`pushcam: cannot bound each viewer's send queue here (${why}); viewers on slow links may fall seconds behind`);
  warned = true;
  return null;
}
