import type { Encoder } from './encoder/encoder.js';
import type { Hub } from './hub/hub.js';
import type { FrameSource, SourceImage, SourceStatus } from './types.js';

/** After the last viewer leaves, the source runs this much longer: a reload or a snapshot poller doesn't restart it. */
export const LINGER_MS = 3000;

/**
 * Source -> encoder -> hub, on demand: the source runs only while somebody wants frames. One
 * encode at a time; a source image that arrives while the encoder is busy replaces the one
 * waiting (so the encoder never falls behind the source, it drops and counts).
 */
export class Pipeline {
  /** Source images received, and those dropped because the encoder was still busy with an earlier one. */
  received = 0;
  skipped = 0;
  private running = false;
  private encoding = false;
  private waiting: SourceImage | null = null;
  private stopTimer: NodeJS.Timeout | null = null;
  private lastError = '';

  constructor(
    private source: FrameSource,
    readonly encoder: Encoder,
    private readonly hub: Hub,
    private readonly log: (line: string) => void,
  ) {
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
    if (!this.encoding) {
      void this.encode(image);
      return;
    }
    if (this.waiting) this.skipped++;
    this.waiting = image;
  }

  private async encode(image: SourceImage): Promise<void> {
    this.encoding = true;
    try {
      const encoded = await this.encoder.encode(image);
      if (this.running) this.hub.publish(encoded);
      this.lastError = '';
    } catch (err) {
      const message = `could not encode a frame: ${(err as Error).message}`;
      if (message !== this.lastError) this.log(message);
      this.lastError = message;
    } finally {
      this.encoding = false;
      const next = this.waiting;
      this.waiting = null;
      if (next && this.running) void this.encode(next);
    }
  }
}
