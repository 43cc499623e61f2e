import { FRAME_HEADER_BYTES, MAX_FRAME, type CameraFrameMeta, type CameraReport } from '../control/contract.js';
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

  constructor({ onDemand, log = () => undefined }: CameraSourceOptions) {
    this.onDemand = onDemand;
    this.log = log;
  }

  start(emit: (image: SourceImage) => void): void {
    this.run = { emit };
    this.onDemand(true);
  }

  stop(): void {
    this.run = undefined;
    this.receiving = false;
    this.onDemand(false);
  }

  status(): SourceStatus {
    if (!this.run) return { kind: this.kind, state: 'stopped' };
    if (this.camera.state === 'error') return { kind: this.kind, state: 'error', error: this.camera.message };
    if (this.camera.state === 'capturing' || this.receiving) return { kind: this.kind, state: 'running' };
    return { kind: this.kind, state: 'waiting', error: WAITING };
  }

  /** One frame from the capture side; throws with a one-line reason when it is malformed. */
  acceptFrame(meta: CameraFrameMeta, pixels: Buffer): void {
    const { width, height, channels } = checkedMeta(meta.width, meta.height, meta.channels, pixels.length);
    // A frame that was on its way when the camera failed must not replace the "unavailable" picture.
    if (!this.run || this.camera.state === 'error') return;
    this.receiving = true;
    this.lastSize = { width, height };
    this.run.emit({ kind: 'raw', image: { width, height, channels, data: pixels } });
  }

  report(report: CameraReport): void {
    this.camera = report;
    this.receiving = false;
    if (report.state === 'capturing') this.lastSize = { width: report.width, height: report.height };
    if (report.state === 'error' && this.run) void this.showUnavailable(this.run, report.message);
  }

  private async showUnavailable(run: NonNullable<CameraSource['run']>, message: string): Promise<void> {
    try {
      const image = await placeholderImage(this.lastSize.width, this.lastSize.height, ['Camera unavailable', message]);
      if (run === this.run && this.camera.state === 'error') run.emit({ kind: 'raw', image });
    } catch (err) {
      this.log(`pushcam: cannot draw the "camera unavailable" picture: ${(err as Error).message}`);
    }
  }
}

/** Reads a frame in the WebSocket format: u32 LE width, height, channels, then the pixels. */
export function parseWireFrame(data: Buffer): { meta: CameraFrameMeta; pixels: Buffer } {
  if (data.length < FRAME_HEADER_BYTES) {
    throw new Error(`camera frame message is ${data.length} bytes, shorter than its ${FRAME_HEADER_BYTES}-byte header`);
  }
  const pixels = data.subarray(FRAME_HEADER_BYTES);
  const meta = checkedMeta(data.readUInt32LE(0), data.readUInt32LE(4), data.readUInt32LE(8), pixels.length);
  return { meta, pixels };
}

/** Reads a frame in the MessagePort format: `{ width, height, channels, pixels: ArrayBuffer }`. */
export function frameFromPortMessage(data: unknown): { meta: CameraFrameMeta; pixels: Buffer } {
  if (typeof data !== 'object' || data === null) throw new Error('camera frame message is not an object');
  const { width, height, channels, pixels } = data as Record<string, unknown>;
  if (typeof width !== 'number' || typeof height !== 'number' || typeof channels !== 'number') {
    throw new Error('camera frame message needs numbers width, height and channels');
  }
  const bytes = bufferOf(pixels);
  return { meta: checkedMeta(width, height, channels, bytes.length), pixels: bytes };
}

/** The pixels as a Buffer over the same memory: no copy of a 3.6 MB frame. */
function bufferOf(pixels: unknown): Buffer {
  if (pixels instanceof ArrayBuffer) return Buffer.from(pixels);
  if (ArrayBuffer.isView(pixels)) return Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  throw new Error('camera frame message needs its pixels as an ArrayBuffer');
}

/** The frame's size if `length` bytes of pixels fit it and it is one sharp should see. */
function checkedMeta(width: number, height: number, channels: number, length: number): CameraFrameMeta {
  checkSide('width', width, MAX_FRAME.width);
  checkSide('height', height, MAX_FRAME.height);
  if (channels !== 3 && channels !== 4) throw new Error(`camera frame has ${channels} channels; expected 3 or 4`);
  const expected = width * height * channels;
  if (length !== expected) {
    throw new Error(`camera frame of ${width}x${height}x${channels} needs ${expected} bytes of pixels, not ${length}`);
  }
  return { width, height, channels };
}

function checkSide(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < MIN_SIDE || value > max) {
    throw new Error(`camera frame ${name} ${value} is not a whole number from ${MIN_SIDE} to ${max}`);
  }
}
