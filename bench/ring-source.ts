import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jpegSize } from '../shared/jpeg-info.js';
import { Ticker } from '../server/source/ticker.js';
import type { FrameSource, SourceImage, SourceState, SourceStatus } from '../server/types.js';
import { stampJpeg } from './stamp.js';

/** The pre-encoded frames the parent wrote, in name order; both servers under test load the same. */
export async function loadRing(dir: string): Promise<Buffer[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.jpg')).sort();
  if (names.length === 0) throw new Error(`no frames in ${dir}`);
  return Promise.all(names.map((n) => readFile(join(dir, n))));
}

/**
 * A bench-only source that hands out ready JPEGs in a ring at a fixed rate. The encoder passes
 * a JPEG through untouched when no overlay or orientation is set, so a server fed by this spends
 * its time on fan-out alone, not on encoding.
 */
export class RingSource implements FrameSource {
  readonly kind = 'bench-ring';
  private next = 0;
  private state: SourceState = 'stopped';
  private emit: ((image: SourceImage) => void) | undefined;
  private readonly ticker: Ticker;

  constructor(
    private readonly frames: readonly Buffer[],
    fps: number,
  ) {
    this.ticker = new Ticker(1000 / fps, async () => this.tick());
  }

  start(emit: (image: SourceImage) => void): void {
    this.emit = emit;
    this.state = 'running';
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
    this.emit = undefined;
    this.state = 'stopped';
  }

  status(): SourceStatus {
    return { kind: this.kind, state: this.state };
  }

  private tick(): void {
    const data = nextFrame(this.frames, this.next++);
    const size = jpegSize(data);
    if (size) this.emit?.({ kind: 'jpeg', data, ...size });
  }
}

/**
 * Frame `n` of the ring as a new buffer, as a camera makes one per frame (a server that keeps old
 * frames for slow viewers then pays for each one it keeps, not for 30 shared buffers), stamped
 * with the time it was made so viewers can measure how late they see it.
 */
export function nextFrame(frames: readonly Buffer[], n: number): Buffer {
  return stampJpeg(frames[n % frames.length]);
}
