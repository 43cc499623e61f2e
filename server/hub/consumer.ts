import type { Frame } from '../types.js';

/** Where a consumer's frames go: a viewer's socket (./viewer.ts), or a window's preview (its WebSocket or IPC). */
export interface Sink {
  /** Takes one frame now. */
  send(frame: Frame): void;
  /**
   * How long the sink is still behind, in ms: 0 when it takes a frame now. Infinity: until it
   * calls its consumer's `caughtUp`.
   */
  behindMs(): number;
}

/** What a consumer counts; a viewer's figures in the viewer list. */
export interface SendCounts {
  framesSent: number;
  /** Frames replaced by a newer one before they could go. */
  framesSkipped: number;
}

/**
 * The send rules of whatever takes frames from the hub (after µStreamer): at most one frame
 * waits, the newest; at most one goes per `minIntervalMs`; and none goes while the sink is
 * behind, a newer one replacing the one that waits. Nothing queues, so a slow sink costs one
 * frame of memory and never delays the others, and the newest frame offered always goes out
 * once the rate cap and the sink allow.
 */
export class Consumer {
  private pending: Frame | null = null;
  private last: Frame | null = null;
  private lastSentAt = 0;
  /** Waiting out the rate cap, or a sink that said how long it is behind. */
  private waitTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly sink: Sink,
    /** At most one frame per this many ms; 0 = as fast as frames come. */
    private readonly minIntervalMs: number,
    /** Counted into: a viewer passes its ViewerInfo, so the viewer list shows them. */
    private readonly counts: SendCounts = { framesSent: 0, framesSkipped: 0 },
  ) {}

  /** The last frame sent; null before the first. */
  get lastSent(): Frame | null {
    return this.last;
  }

  /** Whether no frame waits to be sent. */
  get idle(): boolean {
    return !this.pending && !this.waitTimer;
  }

  /** Offers a newer frame: sent now if the cap and the sink allow, else kept as the next to send. */
  offer(frame: Frame): void {
    const newest = this.pending ?? this.last;
    if (this.closed || (newest && frame.seq <= newest.seq)) return;
    if (this.pending) this.counts.framesSkipped++;
    this.pending = frame;
    this.flush();
  }

  /** From a sink that was behind without saying for how long (Infinity): the waiting frame may go. */
  readonly caughtUp = (): void => this.flush();

  close(): void {
    this.closed = true;
    this.pending = null;
    if (this.waitTimer) clearTimeout(this.waitTimer);
  }

  private flush(): void {
    if (this.closed || !this.pending || this.waitTimer) return;
    const capWait = this.lastSentAt + this.minIntervalMs - Date.now();
    // The sink is asked only once the cap allows: asking may cost it a system call (./link.ts).
    const wait = capWait > 0 ? capWait : this.sink.behindMs();
    if (wait === Infinity) return;
    if (wait > 0) {
      this.waitTimer = setTimeout(() => {
        this.waitTimer = null;
        this.flush();
      }, wait);
      return;
    }
    const frame = this.pending;
    this.pending = null;
    this.last = frame;
    this.lastSentAt = Date.now();
    this.counts.framesSent++;
    this.sink.send(frame);
  }
}
