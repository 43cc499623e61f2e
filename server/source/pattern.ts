import { performance } from 'node:perf_hooks';
import type { FrameSource, RawImage, SourceImage } from '../types.js';
import type { SourceState, SourceStatus } from '../../shared/status.js';
import { drawLabel, labelSizeFor, renderLabel } from '../encoder/text.js';
import { Ticker } from './ticker.js';

// Layout, top to bottom, as shares of the height: colour bars with the title, a dark lane the
// box sweeps along, a grey ramp, and a dark band with the clock. The box never enters the band,
// so the only thing that changes there is the clock and counter label.
const BARS_END = 0.55;
const LANE_END = 0.75;
const RAMP_END = 0.8;
const BOX_SHARE_OF_LANE = 0.7;
// The box crosses the lane and comes back in two of these.
const SWEEP_MS = 2000;
const DARK = 24;
const BOX_LEVEL = 255;
// 75 % SMPTE colour bars: white, yellow, cyan, green, magenta, red, blue.
const BARS: ReadonlyArray<readonly [number, number, number]> = [
  [191, 191, 191],
  [191, 191, 0],
  [0, 191, 191],
  [0, 191, 0],
  [191, 0, 191],
  [191, 0, 0],
  [0, 0, 191],
];

interface PatternOptions {
  width: number;
  height: number;
  intervalMs: number;
}

interface Layout {
  lane: { top: number; height: number };
  box: { side: number; top: number };
  band: { top: number; height: number };
}

/**
 * A test card that needs no camera: colour bars and a grey ramp, a box sweeping across, and the
 * local time with a frame counter, so a viewer can see at a glance that frames arrive and how late.
 */
export class PatternSource implements FrameSource {
  readonly kind = 'pattern';
  private readonly width: number;
  private readonly height: number;
  private readonly layout: Layout;
  private readonly ticker: Ticker;
  // Drawn once, on the first start: the part of the card that never changes.
  private background: Promise<Buffer> | undefined;
  private readonly origin = performance.now();
  private frames = 0;
  // A new object for every start(), so a frame that was being made when stop() came is dropped.
  private run: { emit: (image: SourceImage) => void } | undefined;
  private state: SourceState = 'stopped';
  private error: string | undefined;

  constructor({ width, height, intervalMs }: PatternOptions) {
    if (!isPositiveInteger(width) || !isPositiveInteger(height)) {
      const size = `${width}x${height}`;
      throw new RangeError(`a test pattern needs a whole number of pixels across and down, not ${size}`);
    }
    this.width = width;
    this.height = height;
    this.layout = layoutFor(width, height);
    this.ticker = new Ticker(intervalMs, () => this.produce());
  }

  start(emit: (image: SourceImage) => void): void {
    this.run = { emit };
    this.state = 'running';
    this.error = undefined;
    this.ticker.start();
  }

  stop(): void {
    this.ticker.stop();
    this.run = undefined;
    this.state = 'stopped';
  }

  status(): SourceStatus {
    const status: SourceStatus = { kind: this.kind, state: this.state };
    if (this.error) status.error = this.error;
    return status;
  }

  private async produce(): Promise<void> {
    const run = this.run;
    try {
      const image = await this.nextFrame();
      if (run !== this.run || !run) return;
      this.state = 'running';
      this.error = undefined;
      run.emit({ kind: 'raw', image });
    } catch (err) {
      if (run !== this.run) return;
      this.state = 'error';
      this.error = `cannot draw the test pattern: ${(err as Error).message}`;
    }
  }

  private async nextFrame(): Promise<RawImage> {
    const now = new Date();
    this.frames += 1;
    const [background, label] = await Promise.all([
      this.backgroundPixels(),
      renderLabel(`${clockText(now)}   frame ${this.frames}`, this.captionSize()),
    ]);
    const image: RawImage = { width: this.width, height: this.height, channels: 3, data: Buffer.from(background) };
    this.drawBox(image, performance.now() - this.origin);
    const { band } = this.layout;
    drawLabel(image, label, Math.round(this.width * 0.04), band.top + (band.height - label.height) / 2);
    return image;
  }

  private captionSize(): number {
    return Math.round(labelSizeFor({ width: this.width, height: this.height }) * 1.5);
  }

  private backgroundPixels(): Promise<Buffer> {
    this.background ??= this.drawBackground().catch((err: unknown) => {
      this.background = undefined;
      throw err;
    });
    return this.background;
  }

  private async drawBackground(): Promise<Buffer> {
    const { width, height } = this;
    const image: RawImage = { width, height, channels: 3, data: Buffer.alloc(width * height * 3, DARK) };
    const barsEnd = Math.round(height * BARS_END);
    fillRows(image, 0, barsEnd, barsRow(width));
    fillRows(image, Math.round(height * LANE_END), Math.round(height * RAMP_END), rampRow(width));
    const title = await renderLabel(`PushCam test pattern ${width}x${height}`, this.captionSize());
    drawLabel(image, title, (width - title.width) / 2, (barsEnd - title.height) / 2);
    return image.data;
  }

  /** The bright box, at a place that depends on the time, so its speed does not depend on the rate. */
  private drawBox(image: RawImage, elapsedMs: number): void {
    const { lane, box } = this.layout;
    const phase = (elapsedMs % (2 * SWEEP_MS)) / SWEEP_MS;
    const travel = phase < 1 ? phase : 2 - phase;
    const left = Math.round(travel * (image.width - box.side));
    const right = Math.min(image.width, left + box.side);
    const bottom = Math.min(lane.top + lane.height, box.top + box.side);
    for (let y = box.top; y < bottom; y++) {
      const row = y * image.width * 3;
      image.data.fill(BOX_LEVEL, row + left * 3, row + right * 3);
    }
  }
}

function isPositiveInteger(n: number): boolean {
  return Number.isInteger(n) && n > 0;
}

function layoutFor(width: number, height: number): Layout {
  const laneTop = Math.round(height * BARS_END);
  const laneHeight = Math.round(height * LANE_END) - laneTop;
  const side = Math.min(width, Math.round(laneHeight * BOX_SHARE_OF_LANE));
  const bandTop = Math.round(height * RAMP_END);
  return {
    lane: { top: laneTop, height: laneHeight },
    box: { side, top: laneTop + Math.floor((laneHeight - side) / 2) },
    band: { top: bandTop, height: height - bandTop },
  };
}

function barsRow(width: number): Buffer {
  const row = Buffer.alloc(width * 3);
  for (let x = 0; x < width; x++) row.set(BARS[Math.floor((x * BARS.length) / width)], x * 3);
  return row;
}

function rampRow(width: number): Buffer {
  const row = Buffer.alloc(width * 3);
  const span = Math.max(1, width - 1);
  for (let x = 0; x < width; x++) row.fill(Math.round((x * 255) / span), x * 3, x * 3 + 3);
  return row;
}

function fillRows(image: RawImage, fromRow: number, toRow: number, row: Buffer): void {
  for (let y = fromRow; y < toRow; y++) row.copy(image.data, y * row.length);
}

function clockText(now: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const ms = String(now.getMilliseconds()).padStart(3, '0');
  return `${two(now.getHours())}:${two(now.getMinutes())}:${two(now.getSeconds())}.${ms}`;
}
