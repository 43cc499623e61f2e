/** How long to wait before restarting something that stopped: 1 s, 2 s, 4 s ... at most 30 s, and 1 s again once it ran a minute. */
export interface BackoffOptions {
  firstMs: number;
  maxMs: number;
  /** A run this long counts as a success: the next failure waits firstMs again. */
  stableMs: number;
}

const RESTART_BACKOFF: BackoffOptions = { firstMs: 1000, maxMs: 30_000, stableMs: 60_000 };

export class Backoff {
  private delay: number;
  private startedAt = 0;

  constructor(private readonly o: BackoffOptions = RESTART_BACKOFF) {
    this.delay = o.firstMs;
  }

  /** The thing (re)started now. */
  started(): void {
    this.startedAt = Date.now();
  }

  /** The wait before the next start, after it stopped. */
  next(): number {
    if (Date.now() - this.startedAt >= this.o.stableMs) this.delay = this.o.firstMs;
    const wait = this.delay;
    this.delay = Math.min(this.delay * 2, this.o.maxMs);
    return wait;
  }
}

/** "1 s", "2.5 s": a wait as the log says it. */
export function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
