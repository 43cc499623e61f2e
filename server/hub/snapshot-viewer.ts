import type { Frame } from '../types.js';
import type { ViewerInfo } from '../../shared/status.js';

/** A snapshot viewer that has not asked again this long after its last answer has left. */
export const POLL_GONE_MS = 5000;

/**
 * A viewer that watches by long-polling `snapshot.jpg?after=SEQ` (a page whose stream cannot get
 * through): one a person sees in the viewer table and can kick like any other, for as long as it
 * keeps asking. It holds no frame; each answer is the newest one.
 */
export class SnapshotViewer {
  readonly info: ViewerInfo;
  private asking = 0;
  private goneTimer: NodeJS.Timeout | null = null;
  private readonly ended = new AbortController();

  constructor(
    info: Omit<ViewerInfo, 'via' | 'framesSent' | 'framesSkipped' | 'bytesSent' | 'link'>,
    private readonly onGone: () => void,
  ) {
    this.info = { ...info, via: 'snapshots', framesSent: 0, framesSkipped: 0, bytesSent: 0, link: null };
  }

  /** A request begins; its signal aborts when the viewer is disconnected. */
  ask(): AbortSignal {
    this.asking++;
    if (this.goneTimer) clearTimeout(this.goneTimer);
    this.goneTimer = null;
    return this.ended.signal;
  }

  /** A request was answered with `frame` (asked for one after `after`), or without one. */
  answered(after: number, frame: Frame | null): void {
    this.asking--;
    if (frame) {
      this.info.framesSent++;
      this.info.bytesSent += frame.jpeg.length;
      // Frames published between two requests are frames this viewer never saw.
      if (after > 0) this.info.framesSkipped += Math.max(0, frame.seq - after - 1);
    }
    if (this.asking === 0 && !this.ended.signal.aborted) this.goneTimer = setTimeout(this.onGone, POLL_GONE_MS);
  }

  /** Ends the waits under way (the kick); the hub has already let go of it. */
  disconnect(): void {
    if (this.goneTimer) clearTimeout(this.goneTimer);
    this.ended.abort();
  }
}
