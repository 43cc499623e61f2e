import { performance } from 'node:perf_hooks';

/**
 * Runs `work` at once on start() and then every `intervalMs` until stop(). The schedule is
 * fixed (each tick is planned from the previous plan, not from when the work ended), so slow
 * work does not make the rate drift; a tick that finds the previous work still running is
 * skipped, and ticks missed while the event loop was busy are dropped, not caught up in a burst.
 * `work` must handle its own errors.
 */
export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  // A new object for every start(), so a tick of an earlier run can tell it is stale.
  private run: object | undefined;

  constructor(
    private readonly intervalMs: number,
    private readonly work: () => Promise<void>,
  ) {
    if (!(intervalMs > 0 && Number.isFinite(intervalMs))) {
      throw new RangeError(`the interval must be a positive number of milliseconds, not ${intervalMs}`);
    }
  }

  start(): void {
    this.stop();
    const run = {};
    this.run = run;
    let due = performance.now();
    let busy = false;
    const tick = (): void => {
      if (!busy) {
        busy = true;
        void this.work().finally(() => {
          busy = false;
        });
      }
      // work() may have called stop() before its first await.
      if (this.run !== run) return;
      const now = performance.now();
      due += this.intervalMs;
      if (due < now) due += Math.ceil((now - due) / this.intervalMs) * this.intervalMs;
      this.timer = setTimeout(tick, due - now);
    };
    tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.run = undefined;
  }
}
