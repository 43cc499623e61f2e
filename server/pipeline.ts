import { availableParallelism } from 'node:os';
import type { Encoder } from './encoder/encoder.js';
import type { Hub } from './hub/hub.js';
import type { FrameSource, SourceImage } from './types.js';
import type { SourceStatus } from '../shared/status.js';

/** After the last viewer leaves, the source runs this much longer: a reload or a snapshot viewer doesn't restart it. */
export const LINGER_MS = 3000;

/**
 * How many frames are encoded at once. Each encode is one libvips call on threads of its own,
 * and one at a time left a 2-core machine partly idle (libvips hands each frame's strips
 * between its threads): two in flight gave 1.3-1.4x the frames per second at 720p
 * (bench/live-path.ts, load 2). Three gave no more on two cores and only lengthen each frame's
 * way through when the cores are shared. A 720p camera at 30 fps seldom has two in flight; a
 * slower machine or a faster source does.
 */
export const FRAMES_IN_FLIGHT = Math.min(2, availableParallelism());

/**
 * Source -> encoder -> hub, on demand: the source runs only while somebody wants frames. Up to
 * `framesInFlight` encodes at once; a source image that arrives while all are busy replaces the
 * one waiting (so the encoder never falls behind the source, it skips and counts). Frames reach
 * the hub in the order the source made them: one that finishes after a newer one was published
 * is skipped and counted too, never published late.
 */
export class Pipeline {
  /** Source images received, and those skipped: replaced while waiting, or finished after a newer one. */
  received = 0;
  skipped = 0;
  private running = false;
  private inFlight = 0;
  private waiting: SourceImage | null = null;
  /** Encodes are numbered as they start; the newest published, and the first of the current run. */
  private started = 0;
  private newestPublished = 0;
  private firstOfRun = 1;
  private stopTimer: NodeJS.Timeout | null = null;
  private lastError = '';

  constructor(
    private source: FrameSource,
    readonly encoder: Encoder,
    private readonly hub: Hub,
    private readonly log: (line: string) => void,
    readonly framesInFlight = FRAMES_IN_FLIGHT,
  ) {
    if (!Number.isInteger(framesInFlight) || framesInFlight < 1) throw new Error(`frames in flight must be a whole number of at least 1, not ${framesInFlight}`);
    hub.on('demand', (count) => this.onDemand(count));
  }

  get isRunning(): boolean {
    return this.running;
  }

  sourceStatus(): SourceStatus {
    const status = this.source.status();
    return this.lastError && status.state === 'running' ? { ...status, state: 'error', error: this.lastError } : status;
  }

  /** Swaps the source (a new camera, file or size); a running pipeline keeps running. */
  replaceSource(source: FrameSource): void {
    const wasRunning = this.running;
    this.stop();
    this.source = source;
    if (wasRunning) this.start();
  }

  close(): void {
    if (this.stopTimer) clearTimeout(this.stopTimer);
    this.stopTimer = null;
    this.stop();
  }

  private onDemand(count: number): void {
    if (count > 0) {
      if (this.stopTimer) clearTimeout(this.stopTimer);
      this.stopTimer = null;
      if (!this.running) this.start();
    } else if (this.running && !this.stopTimer) {
      this.stopTimer = setTimeout(() => {
        this.stopTimer = null;
        this.stop();
      }, LINGER_MS);
    }
  }

  private start(): void {
    this.running = true;
    // Frames still being encoded for the previous run (an old source or size) are not published.
    this.firstOfRun = this.started + 1;
    this.source.start((image) => this.accept(image));
  }

  private stop(): void {
    if (!this.running) return;
    this.running = false;
    this.waiting = null;
    this.source.stop();
  }

  private accept(image: SourceImage): void {
    if (!this.running) return;
    this.received++;
    if (this.inFlight < this.framesInFlight) {
      void this.encode(image);
      return;
    }
    if (this.waiting) this.skipped++;
    this.waiting = image;
  }

  private async encode(image: SourceImage): Promise<void> {
    this.inFlight++;
    const order = ++this.started;
    try {
      const encoded = await this.encoder.encode(image);
      if (this.running && order >= this.firstOfRun) this.publishInOrder(order, encoded);
      this.lastError = '';
    } catch (err) {
      const message = `could not encode a frame: ${(err as Error).message}`;
      if (message !== this.lastError) this.log(message);
      this.lastError = message;
    } finally {
      this.inFlight--;
      const next = this.waiting;
      this.waiting = null;
      if (next && this.running) void this.encode(next);
    }
  }

  private publishInOrder(order: number, encoded: Parameters<Hub['publish']>[0]): void {
    if (order < this.newestPublished) {
      this.skipped++;
      return;
    }
    this.newestPublished = order;
    this.hub.publish(encoded);
  }
}
