import type { Writable } from 'node:stream';
import type { Frame } from '../types.js';
import type { ViewerInfo } from '../../shared/status.js';
import { Consumer, type Sink } from './consumer.js';
import type { Link } from './link.js';
import type { PartLayout } from './multipart.js';

/** With no new frame for this long, the last one is sent again so proxies keep the connection. */
export const KEEPALIVE_MS = 5000;
/** WebKit shows a part only when the next one starts: repeat the last frame if none follows. */
export const DUAL_FINAL_MS = 150;
/**
 * A viewer whose connection takes no data for this long is dropped: a stalled reader would hold
 * a viewer slot for ever. Long enough for one big frame over a very slow link (300 KB at
 * 256 kbit/s takes about 10 s), which makes progress and is not dropped.
 */
export const SEND_TIMEOUT_MS = 15_000;

export interface ViewerOptions {
  info: Omit<ViewerInfo, 'framesSent' | 'framesSkipped' | 'bytesSent' | 'link'>;
  layout: PartLayout;
  /** From `?fps=N`: at most one frame per this many ms. 0 = as fast as frames come. */
  minIntervalMs: number;
  dualFinalFrame: boolean;
  sendTimeoutMs: number;
  /** Silence after which the last frame is sent again; KEEPALIVE_MS but in tests. */
  keepAliveMs: number;
  /** The connection as the kernel sees it; null where the platform cannot tell. */
  link: Link | null;
}

/**
 * One connected stream: a hub consumer (./consumer.ts, the send rules: the newest frame only,
 * the ?fps cap, skip when behind) whose sink is the socket. The socket is behind while a write
 * is still in Node, and while its link has not delivered nearly all that was sent before
 * (server/hub/link.ts). Nothing queues per viewer, so a slow or stalled viewer costs at most one
 * frame of memory and never delays the others.
 */
export class Viewer {
  readonly info: ViewerInfo;
  private readonly feed: Consumer;
  private draining = false;
  private closed = false;
  private dualTimer: NodeJS.Timeout | null = null;
  /** Runs while the viewer cannot take data; it is dropped if that lasts sendTimeoutMs. */
  private stallTimer: NodeJS.Timeout | null = null;
  private readonly keepAliveTimer: NodeJS.Timeout;

  constructor(
    private readonly out: Writable,
    private readonly options: ViewerOptions,
  ) {
    this.info = { ...options.info, framesSent: 0, framesSkipped: 0, bytesSent: 0, link: null };
    this.feed = new Consumer(this.socket, options.minIntervalMs, this.info);
    this.keepAliveTimer = setTimeout(() => this.repeatLast(), options.keepAliveMs);
    this.write(options.layout.opening);
  }

  /** The viewer's figures now, with a fresh look at its link. */
  infoNow(): ViewerInfo {
    return { ...this.info, link: this.options.link?.recentSample() ?? null };
  }

  /** The size of the last frame written; null before the first. */
  get sentSize(): { width: number; height: number } | null {
    const last = this.feed.lastSent;
    return last && { width: last.width, height: last.height };
  }

  /** Offers a newer frame: written now if the socket and link have room, else kept as the next to send. */
  offer(frame: Frame): void {
    this.feed.offer(frame);
  }

  /**
   * Ends the stream with a last picture (one that says why) and the closing boundary, so every
   * browser shows it at once. Resolves when the connection has closed.
   */
  finish(jpeg: Buffer): Promise<void> {
    if (this.closed || this.out.closed) return Promise.resolve();
    this.close();
    const closed = new Promise<void>((resolve) => this.out.once('close', resolve));
    this.out.end(this.options.layout.last(jpeg));
    return closed;
  }

  /** Drops the connection at once. */
  disconnect(): void {
    this.out.destroy();
  }

  close(): void {
    this.closed = true;
    this.feed.close();
    for (const timer of [this.keepAliveTimer, this.dualTimer, this.stallTimer]) if (timer) clearTimeout(timer);
  }

  /** The consumer's sink: the socket, behind while a write is in Node or its link holds too much. */
  private readonly socket: Sink = {
    send: (frame) => {
      this.progressed();
      this.writeFrame(frame);
    },
    behindMs: () => {
      if (this.draining) return Infinity;
      const wait = this.options.link?.waitMs() ?? 0;
      if (wait > 0) this.stalled();
      return wait;
    },
  };

  private writeFrame(frame: Frame): void {
    this.write(this.options.layout.part(frame.jpeg));
    this.keepAliveTimer.refresh();
    if (this.options.dualFinalFrame) {
      if (this.dualTimer) clearTimeout(this.dualTimer);
      this.dualTimer = setTimeout(() => this.repeatLast(), DUAL_FINAL_MS);
    }
  }

  /** Keep-alive and WebKit's dual final frame: the same picture again, if the socket is idle. */
  private repeatLast(): void {
    const last = this.feed.lastSent;
    if (this.closed || !last || this.draining || !this.feed.idle || (this.options.link?.waitMs() ?? 0) > 0) {
      this.keepAliveTimer.refresh();
      return;
    }
    this.writeFrame(last);
    if (this.dualTimer) clearTimeout(this.dualTimer);
  }

  /** One write. The kernel usually takes it whole; if not, the rest waits in Node until `written`. */
  private write(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.out.write(bytes, this.written);
    this.info.bytesSent += bytes.length;
    this.options.link?.wrote();
    if (this.out.writableLength === 0) return;
    this.draining = true;
    this.stalled();
  }

  /**
   * After each write has left Node; once nothing is left there, the next frame may go. Not
   * 'drain': that comes only after a write above the high-water mark, and a TLS socket finishes
   * every write later (after encrypting it), so a small frame would wait for a 'drain' that never comes.
   */
  private readonly written = (): void => {
    if (!this.draining || this.out.writableLength > 0) return;
    this.draining = false;
    this.progressed();
    this.feed.caughtUp();
  };

  private stalled(): void {
    this.stallTimer ??= setTimeout(() => this.disconnect(), this.options.sendTimeoutMs);
  }

  private progressed(): void {
    if (!this.stallTimer) return;
    clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }
}
