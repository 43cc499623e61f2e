import type { Writable } from 'node:stream';
import type { Frame, ViewerInfo } from '../types.js';
import type { PartLayout } from './multipart.js';

/** With no new frame for this long, the last one is sent again so proxies keep the connection. */
export const KEEPALIVE_MS = 5000;
/** WebKit shows a part only when the next one starts: repeat the last frame if none follows. */
export const DUAL_FINAL_MS = 150;

export interface ViewerOptions {
  info: Omit<ViewerInfo, 'framesSent' | 'framesDropped' | 'bytesSent'>;
  layout: PartLayout;
  /** From `?fps=N`: at most one frame per this many ms. 0 = as fast as frames come. */
  minIntervalMs: number;
  dualFinalFrame: boolean;
}

/**
 * One connected stream and its send policy (after µStreamer): a viewer holds at most one
 * frame, the newest. A frame is written only when the socket has drained; a viewer that falls
 * behind skips to the newest frame and counts what it skipped. Nothing queues per viewer, so a
 * slow or stalled viewer costs at most one frame of memory and never delays the others.
 */
export class Viewer {
  readonly info: ViewerInfo;
  private pending: Frame | null = null;
  private last: Frame | null = null;
  private lastWriteAt = 0;
  private draining = false;
  private closed = false;
  private capTimer: NodeJS.Timeout | null = null;
  private dualTimer: NodeJS.Timeout | null = null;
  private readonly keepAliveTimer: NodeJS.Timeout;

  constructor(
    private readonly out: Writable,
    private readonly options: ViewerOptions,
  ) {
    this.info = { ...options.info, framesSent: 0, framesDropped: 0, bytesSent: 0 };
    this.keepAliveTimer = setTimeout(() => this.repeatLast(), KEEPALIVE_MS);
    // One listener for the viewer's life: a frame is larger than the socket's high-water mark, so
    // nearly every write ends in a 'drain', and a listener per write costs more than the write.
    out.on('drain', () => {
      this.draining = false;
      this.flush();
    });
    this.send([options.layout.opening]);
  }

  /** Offers a newer frame: written now if the socket has room, else kept as the next to send. */
  offer(frame: Frame): void {
    const newest = this.pending ?? this.last;
    if (this.closed || (newest && frame.seq <= newest.seq)) return;
    if (this.pending) this.info.framesDropped++;
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
    const { layout } = this.options;
    const before = layout.before(jpeg);
    this.out.end(Buffer.concat(before ? [before, jpeg, layout.closing] : [jpeg, layout.closing]));
    return closed;
  }

  /** Drops the connection at once. */
  disconnect(): void {
    this.out.destroy();
  }

  close(): void {
    this.closed = true;
    this.pending = null;
    clearTimeout(this.keepAliveTimer);
    if (this.capTimer) clearTimeout(this.capTimer);
    if (this.dualTimer) clearTimeout(this.dualTimer);
  }

  private flush(): void {
    if (this.closed || this.draining || !this.pending || this.capTimer) return;
    const wait = this.lastWriteAt + this.options.minIntervalMs - Date.now();
    if (wait > 0) {
      this.capTimer = setTimeout(() => {
        this.capTimer = null;
        this.flush();
      }, wait);
      return;
    }
    const frame = this.pending;
    this.pending = null;
    this.info.framesSent++;
    this.writeFrame(frame);
  }

  private writeFrame(frame: Frame): void {
    const { layout } = this.options;
    const before = layout.before(frame.jpeg);
    this.send(before ? [before, frame.jpeg, layout.after] : [frame.jpeg, layout.after]);
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
    if (this.closed || this.draining || this.pending || !this.last) {
      this.keepAliveTimer.refresh();
      return;
    }
    this.writeFrame(this.last);
    if (this.dualTimer) clearTimeout(this.dualTimer);
  }

  /** Writes chunks as one writev; past the socket's high-water mark, waits for 'drain'. */
  private send(chunks: Buffer[]): void {
    this.out.cork();
    let room = true;
    for (const chunk of chunks) {
      if (chunk.length === 0) continue;
      room = this.out.write(chunk) && room;
      this.info.bytesSent += chunk.length;
    }
    this.out.uncork();
    if (!room) this.draining = true;
  }
}
