import { EventEmitter } from 'node:events';
import type { Frame, ViewerInfo } from '../types.js';
import type { Viewer } from './viewer.js';

interface HubEvents {
  /** How many want frames now (viewers plus waiting snapshot requests). */
  demand: [count: number];
  frame: [frame: Frame];
  joined: [viewer: ViewerInfo];
  left: [viewer: ViewerInfo];
}

/** A kicked viewer (same address and client) is refused this long, so its page cannot just come back. */
export const KICK_REFUSE_MS = 60_000;

interface Waiter {
  after: number;
  resolve(frame: Frame | null): void;
}

/**
 * The meeting point of the pipeline and the viewers: holds the newest encoded frame, hands each
 * new one to every viewer (each decides for itself when to write it), and answers requests that
 * wait for a frame newer than one they have.
 */
export class Hub extends EventEmitter<HubEvents> {
  private newest: Frame | null = null;
  private readonly viewers = new Set<Viewer>();
  private readonly waiters = new Set<Waiter>();
  private holds = 0;
  /** "ip user-agent" of kicked viewers, and until when they are refused. */
  private readonly refused = new Map<string, number>();

  get latest(): Frame | null {
    return this.newest;
  }

  get demand(): number {
    return this.viewers.size + this.waiters.size + this.holds;
  }

  /** Wants frames without being a viewer (the window's preview); call the result to let go. */
  hold(): () => void {
    this.holds++;
    this.emit('demand', this.demand);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.emit('demand', this.demand);
    };
  }

  get viewerCount(): number {
    return this.viewers.size;
  }

  viewerList(): ViewerInfo[] {
    return [...this.viewers].map((v) => v.snapshot());
  }

  publish(image: { jpeg: Buffer; width: number; height: number }): Frame {
    const frame: Frame = { ...image, seq: (this.newest?.seq ?? 0) + 1, at: Date.now() };
    this.newest = frame;
    this.emit('frame', frame);
    for (const viewer of this.viewers) viewer.offer(frame);
    const answered = [...this.waiters].filter((w) => frame.seq > w.after);
    for (const waiter of answered) {
      this.waiters.delete(waiter);
      waiter.resolve(frame);
    }
    if (answered.length > 0) this.emit('demand', this.demand);
    return frame;
  }

  /** Adds a viewer and gives it the newest frame at once. */
  add(viewer: Viewer): void {
    this.viewers.add(viewer);
    if (this.newest) viewer.offer(this.newest);
    this.emit('joined', { ...viewer.info });
    this.emit('demand', this.demand);
  }

  remove(viewer: Viewer): void {
    if (!this.viewers.delete(viewer)) return;
    viewer.close();
    this.emit('left', { ...viewer.info });
    this.emit('demand', this.demand);
  }

  /** Ends one viewer's stream (the window's "kick"); false if there is no such viewer. */
  kick(id: number): boolean {
    const viewer = [...this.viewers].find((v) => v.info.id === id);
    if (!viewer) return false;
    this.refused.set(`${viewer.info.ip} ${viewer.info.userAgent}`, Date.now() + KICK_REFUSE_MS);
    viewer.disconnect();
    return true;
  }

  /** Whether this client was kicked less than KICK_REFUSE_MS ago. */
  isRefused(ip: string, userAgent: string): boolean {
    const key = `${ip} ${userAgent}`;
    const until = this.refused.get(key);
    if (until !== undefined && until <= Date.now()) this.refused.delete(key);
    return until !== undefined && until > Date.now();
  }

  /** Ends every stream (a new key, or shutting down). */
  disconnectAll(): void {
    for (const viewer of this.viewers) viewer.disconnect();
  }

  /**
   * The first frame with seq > `after`, or null after `timeoutMs` or when `signal` aborts.
   * A waiting request counts as demand, so it starts an idle source.
   */
  waitForFrame(after: number, timeoutMs: number, signal?: AbortSignal): Promise<Frame | null> {
    if (this.newest && this.newest.seq > after) return Promise.resolve(this.newest);
    return new Promise((resolve) => {
      const finish = (frame: Frame | null): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.waiters.delete(waiter)) this.emit('demand', this.demand);
        resolve(frame);
      };
      const waiter: Waiter = { after, resolve: finish };
      const onAbort = (): void => finish(null);
      const timer = setTimeout(onAbort, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.emit('demand', this.demand);
    });
  }
}
