import { FRAME_HEADER_BYTES, MAX_FRAME, WIRE_FORMAT, type CameraFrameMeta, type CameraReport } from '../control/contract.js';
import { isCompleteJpeg, jpegSize } from '../encoder/jpeg-info.js';
import type { FrameSource, SourceImage, SourceStatus } from '../types.js';
import { placeholderImage } from './placeholder.js';

// The camera is captured elsewhere (the window, or a headless capture page) and its frames are
// pushed in here. This source only asks for capture while it runs (onDemand), checks every frame
// before sharp sees it, and turns the capture side's fault reports into a picture viewers see.

const MIN_SIDE = 16;
const DEFAULT_SIZE = { width: 1280, height: 720 };
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
  private lastSize = DEFAULT_SIZE;
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

  /** One frame (pixels or a JPEG) from the capture side; throws with a one-line reason when it is malformed. */
  acceptFrame(meta: CameraFrameMeta, data: Buffer): void {
    const checked = checkedFrame(meta, data);
    // A frame that was on its way when the camera failed must not replace the "unavailable" picture.
    if (!this.run || this.camera.state === 'error') return;
    this.receiving = true;
    this.lastSize = { width: checked.width, height: checked.height };
    this.run.emit(sourceImage(checked, data));
  }

  report(report: CameraReport): void {
    this.camera = report;
    this.receiving = false;
    // A camera that does not say its size (0) leaves the last one.
    if (report.state === 'capturing' && report.width >= MIN_SIDE && report.height >= MIN_SIDE) this.lastSize = { width: report.width, height: report.height };
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

/** Reads a frame in the WebSocket format: u32 LE width, height, channels, format, then the pixels or JPEG. */
export function parseWireFrame(message: Buffer): { meta: CameraFrameMeta; data: Buffer } {
  if (message.length < FRAME_HEADER_BYTES) {
    throw new Error(`camera frame message is ${message.length} bytes, shorter than its ${FRAME_HEADER_BYTES}-byte header`);
  }
  const data = message.subarray(FRAME_HEADER_BYTES);
  const width = message.readUInt32LE(0);
  const height = message.readUInt32LE(4);
  const channels = message.readUInt32LE(8);
  const format = message.readUInt32LE(12);
  if (format === WIRE_FORMAT.jpeg) {
    if (channels !== 0) throw new Error(`camera frame in JPEG has ${channels} channels in its header; expected 0`);
    return { meta: checkedJpeg(width, height, data), data };
  }
  if (format !== WIRE_FORMAT.pixels) throw new Error(`camera frame format ${format} is unknown; expected 0 (pixels) or 1 (JPEG)`);
  return { meta: checkedPixels(width, height, channels, data.length), data };
}

/** Reads a frame in the MessagePort format: `{ width, height, channels, pixels: ArrayBuffer }`. */
export function frameFromPortMessage(data: unknown): { meta: CameraFrameMeta; pixels: Buffer } {
  if (typeof data !== 'object' || data === null) throw new Error('camera frame message is not an object');
  const { width, height, channels, pixels } = data as Record<string, unknown>;
  if (typeof width !== 'number' || typeof height !== 'number' || typeof channels !== 'number') {
    throw new Error('camera frame message needs numbers width, height and channels');
  }
  const bytes = bufferOf(pixels);
  return { meta: checkedPixels(width, height, channels, bytes.length), pixels: bytes };
}

/** The pixels as a Buffer over the same memory: no copy of a 3.6 MB frame. */
function bufferOf(pixels: unknown): Buffer {
  if (pixels instanceof ArrayBuffer) return Buffer.from(pixels);
  if (ArrayBuffer.isView(pixels)) return Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  throw new Error('camera frame message needs its pixels as an ArrayBuffer');
}

function checkedFrame(meta: CameraFrameMeta, data: Buffer): CameraFrameMeta {
  return meta.format === 'jpeg' ? checkedJpeg(meta.width, meta.height, data) : checkedPixels(meta.width, meta.height, meta.channels, data.length);
}

/** The frame's size if `length` bytes of pixels fit it and it is one sharp should see. */
function checkedPixels(width: number, height: number, channels: number, length: number): CameraFrameMeta {
  checkSize(width, height);
  if (channels !== 3 && channels !== 4) throw new Error(`camera frame has ${channels} channels; expected 3 or 4`);
  const expected = width * height * channels;
  if (length !== expected) {
    throw new Error(`camera frame of ${width}x${height}x${channels} needs ${expected} bytes of pixels, not ${length}`);
  }
  return { format: 'pixels', width, height, channels };
}

/** The frame's size if `jpeg` is a whole JPEG of that size, one sharp should see. */
function checkedJpeg(width: number, height: number, jpeg: Buffer): CameraFrameMeta {
  checkSize(width, height);
  if (!isCompleteJpeg(jpeg)) throw new Error(`camera frame of ${jpeg.length} bytes is not a complete JPEG`);
  const size = jpegSize(jpeg);
  if (!size) throw new Error('camera frame JPEG has no readable size');
  if (size.width !== width || size.height !== height) {
    throw new Error(`camera frame JPEG is ${size.width}x${size.height}, but its header says ${width}x${height}`);
  }
  return { format: 'jpeg', width, height };
}

/** A JPEG stays a JPEG, so that the encoder can pass it through untouched when no setting needs its pixels. */
function sourceImage(meta: CameraFrameMeta, data: Buffer): SourceImage {
  if (meta.format === 'jpeg') return { kind: 'jpeg', data };
  return { kind: 'raw', image: { width: meta.width, height: meta.height, channels: meta.channels, data } };
}

function checkSize(width: number, height: number): void {
  checkSide('width', width, MAX_FRAME.width);
  checkSide('height', height, MAX_FRAME.height);
}

function checkSide(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < MIN_SIDE || value > max) {
    throw new Error(`camera frame ${name} ${value} is not a whole number from ${MIN_SIDE} to ${max}`);
  }
}
