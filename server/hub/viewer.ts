import type { Writable } from 'node:stream';
import type { Frame, ViewerInfo } from '../types.js';
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
 * One connected stream and its send policy (after µStreamer): a viewer holds at most one
 * frame, the newest. A frame is written only when the socket has drained and its link has
 * delivered nearly all that was sent before (server/hub/link.ts); a viewer that falls behind
 * skips to the newest frame and counts what it skipped. Nothing queues per viewer, so a slow
 * or stalled viewer costs at most one frame of memory and never delays the others.
 */
export class Viewer {
  readonly info: ViewerInfo;
  private pending: Frame | null = null;
  private last: Frame | null = null;
  private lastWriteAt = 0;
  private draining = false;
  private closed = false;
  /** Waiting out the ?fps cap or the link before the next write. */
  private waitTimer: NodeJS.Timeout | null = null;
  private dualTimer: NodeJS.Timeout | null = null;
  /** Runs while the viewer cannot take data; it is dropped if that lasts sendTimeoutMs. */
  private stallTimer: NodeJS.Timeout | null = null;
  private readonly keepAliveTimer: NodeJS.Timeout;

  constructor(
    private readonly out: Writable,
    private readonly options: ViewerOptions,
  ) {
    this.info = { ...options.info, framesSent: 0, framesSkipped: 0, bytesSent: 0, link: null };
    this.keepAliveTimer = setTimeout(() => this.repeatLast(), options.keepAliveMs);
    this.write(options.layout.opening);
  }

  /** The viewer's figures now, with a fresh look at its link. */
  snapshot(): ViewerInfo {
    return { ...this.info, link: this.options.link?.recentSample() ?? null };
  }

  /** The size of the last frame written; null before the first. */
  get sentSize(): { width: number; height: number } | null {
    return this.last && { width: this.last.width, height: this.last.height };
  }

  /** Offers a newer frame: written now if the socket and link have room, else kept as the next to send. */
  offer(frame: Frame): void {
    const newest = this.pending ?? this.last;
    if (this.closed || (newest && frame.seq <= newest.seq)) return;
    if (this.pending) this.info.framesSkipped++;
    this.pending = frame;
    this.flush();
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
    this.pending = null;
    for (const timer of [this.keepAliveTimer, this.waitTimer, this.dualTimer, this.stallTimer]) if (timer) clearTimeout(timer);
  }

  private flush(): void {
    if (this.closed || this.draining || !this.pending || this.waitTimer) return;
    const capWait = this.lastWriteAt + this.options.minIntervalMs - Date.now();
    const wait = capWait > 0 ? capWait : (this.options.link?.waitMs() ?? 0);
    if (wait > 0) {
      if (capWait <= 0) this.stalled();
      this.waitTimer = setTimeout(() => {
        this.waitTimer = null;
        this.flush();
      }, wait);
      return;
    }
    this.progressed();
    const frame = this.pending;
    this.pending = null;
    this.info.framesSent++;
    this.writeFrame(frame);
  }

  private writeFrame(frame: Frame): void {
    this.write(this.options.layout.part(frame.jpeg));
    this.last = frame;
    this.lastWriteAt = Date.now();
    this.keepAliveTimer.refresh();
    if (this.options.dualFinalFrame) {
      if (this.dualTimer) clearTimeout(this.dualTimer);
      this.dualTimer = setTimeout(() => this.repeatLast(), DUAL_FINAL_MS);
    }
  }

  /** Keep-alive and WebKit's dual final frame: the same picture again, if the socket is idle. */
  private repeatLast(): void {
    if (this.closed || !this.last || this.draining || this.pending || this.waitTimer || (this.options.link?.waitMs() ?? 0) > 0) {
      this.keepAliveTimer.refresh();
      return;
    }
    this.writeFrame(this.last);
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
    this.flush();
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
