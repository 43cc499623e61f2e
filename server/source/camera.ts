import type { CameraReport } from '../../shared/contract.js';
import { type CameraFrame, MIN_FRAME_SIDE } from '../../shared/frame-format.js';
import type { FrameSource, SourceImage } from '../types.js';
import type { SourceStatus } from '../../shared/status.js';
import { PLACEHOLDER_SIZE, placeholderImage } from './placeholder.js';

// The camera is captured elsewhere (the window, or a headless capture page) and its frames are
// pushed in here, checked where they came in (shared/frame-format.ts). This source only
// asks for capture while it runs (onDemand), and turns the capture side's fault reports into a
// picture viewers see.

const WAITING = 'waiting for the camera';

interface CameraSourceOptions {
  /** Called with true on start() and false on stop(): the capture side should capture or not. */
  onDemand: (active: boolean) => void;
  log?: (line: string) => void;
}

export class CameraSource implements FrameSource {
  readonly kind = 'camera';
  private readonly onDemand: (active: boolean) => void;
  private readonly log: (line: string) => void;
  // A new object for every start(), so a placeholder drawn for an earlier run is dropped.
  private run: { emit: (image: SourceImage) => void } | undefined;
  private camera: CameraReport = { state: 'idle' };
  /** Frames came since the last report, which may still be on its way. */
  private receiving = false;
  // The placeholder takes the size of the last frame, so viewers' layout does not jump.
  private lastSize = PLACEHOLDER_SIZE;
  private drawing = false;
  private drawAgain = false;

  constructor({ onDemand, log = () => undefined }: CameraSourceOptions) {
    this.onDemand = onDemand;
    this.log = log;
  }

  start(emit: (image: SourceImage) => void): void {
    this.run = { emit };
    this.onDemand(true);
    if (this.camera.state === 'error') void this.showUnavailable();
  }

  stop(): void {
    this.run = undefined;
    this.receiving = false;
    this.onDemand(false);
  }

  /** What the capture side said last: capturing (with the size the camera really gives), idle, or its fault. */
  get lastReport(): CameraReport {
    return this.camera;
  }

  status(): SourceStatus {
    if (!this.run) return { kind: this.kind, state: 'stopped' };
    if (this.camera.state === 'error') return { kind: this.kind, state: 'error', error: this.camera.message };
    if (this.camera.state === 'capturing' || this.receiving) return { kind: this.kind, state: 'running' };
    return { kind: this.kind, state: 'waiting', error: WAITING };
  }

  /** One checked frame (pixels or a JPEG) from the capture side. */
  acceptFrame(frame: CameraFrame): void {
    // A frame that was on its way when the camera failed must not replace the "unavailable" picture.
    if (!this.run || this.camera.state === 'error') return;
    this.receiving = true;
    this.lastSize = { width: frame.meta.width, height: frame.meta.height };
    this.run.emit(sourceImage(frame));
  }

  report(report: CameraReport): void {
    this.camera = report;
    this.receiving = false;
    // A camera that does not say its size (0) leaves the last one.
    if (report.state === 'capturing' && report.width >= MIN_FRAME_SIDE && report.height >= MIN_FRAME_SIDE) this.lastSize = { width: report.width, height: report.height };
    if (report.state === 'error') void this.showUnavailable();
  }

  /**
   * Draws the "camera unavailable" picture for the newest fault while the source runs. One
   * drawing at a time, the newest report drawn last: a burst of reports costs one frame's
   * memory, not one per report.
   */
  private async showUnavailable(): Promise<void> {
    if (this.drawing) {
      this.drawAgain = true;
      return;
    }
    this.drawing = true;
    try {
      do {
        this.drawAgain = false;
        const { run, camera } = this;
        if (!run || camera.state !== 'error') break;
        try {
          // A fault of our own naming is told in our words; any other message is the capture side's
          // or a library's, for the broadcaster's window and log, not for viewers.
          const why = camera.fault === 'other' ? [] : [camera.message];
          const image = await placeholderImage(this.lastSize.width, this.lastSize.height, ['Camera unavailable', ...why]);
          if (run === this.run && camera === this.camera) run.emit({ kind: 'raw', image });
        } catch (err) {
          this.log(`cannot draw the "camera unavailable" picture: ${(err as Error).message}`);
        }
      } while (this.drawAgain);
    } finally {
      this.drawing = false;
    }
  }
}

/**
 * A JPEG stays a JPEG, with its size, so that the encoder can pass it through untouched when no
 * setting needs its pixels. The bytes are not copied: a Buffer over the same memory.
 */
function sourceImage({ meta, data }: CameraFrame): SourceImage {
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (meta.format === 'jpeg') return { kind: 'jpeg', data: bytes, width: meta.width, height: meta.height };
  return { kind: 'raw', image: { width: meta.width, height: meta.height, channels: meta.channels, data: bytes } };
}
