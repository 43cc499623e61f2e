// How camera frames travel from the capture side to the core, and preview frames from the core to
// the window: the one definition both ends import. Written on Uint8Array and DataView, without
// Node types, so that the capture worker and the renderer use it as the core does. A camera frame
// is checked here, once, where it enters; what passes is a CameraFrame the core takes as it is.

import { isCompleteJpeg, jpegSize } from './jpeg-info.js';

/**
 * The core answers every camera frame with this message, accepted or not; the capture side sends
 * the next frame only after it, so nothing ever queues between capture and core.
 */
export const FRAME_ACK = 'ack';
/** Larger frames are refused before they reach sharp. */
export const MAX_FRAME = { width: 3840, height: 2160 };
/** Smaller frames are refused too. */
export const MIN_FRAME_SIDE = 16;

/** One camera frame: tightly packed RGB or RGBA (or RGBX) pixels, or a whole JPEG. */
export type CameraFrameMeta =
  | { format: 'pixels'; width: number; height: number; channels: 3 | 4 }
  | { format: 'jpeg'; width: number; height: number };

/** A camera frame that passed checkedFrame(): its pixels are as many as its size says, its JPEG is whole and of that size. */
export interface CameraFrame {
  meta: CameraFrameMeta;
  data: Uint8Array;
}

/**
 * A WebSocket camera frame is binary: FRAME_HEADER_BYTES of little-endian u32 width, height,
 * channels, format (a WIRE_FORMAT), then the body: the pixels (channels 3 or 4), or a JPEG
 * (channels 0). A MessagePort frame is raw pixels, `{ width, height, channels, pixels: ArrayBuffer }`.
 */
export const FRAME_HEADER_BYTES = 16;
export const WIRE_FORMAT = { pixels: 0, jpeg: 1 } as const;

/** The header of a WebSocket camera frame; its body follows it in the same message. */
export function frameHeader(meta: CameraFrameMeta): Uint8Array<ArrayBuffer> {
  const header = new DataView(new ArrayBuffer(FRAME_HEADER_BYTES));
  const [channels, format] = meta.format === 'jpeg' ? [0, WIRE_FORMAT.jpeg] : [meta.channels, WIRE_FORMAT.pixels];
  [meta.width, meta.height, channels, format].forEach((value, i) => header.setUint32(i * 4, value, true));
  return new Uint8Array(header.buffer);
}

/** A WebSocket camera frame, checked; its body stays where it is in `message`. Throws with a one-line reason. */
export function parseWireFrame(message: Uint8Array): CameraFrame {
  if (message.length < FRAME_HEADER_BYTES) {
    throw new Error(`camera frame message is ${message.length} bytes, shorter than its ${FRAME_HEADER_BYTES}-byte header`);
  }
  const header = new DataView(message.buffer, message.byteOffset, FRAME_HEADER_BYTES);
  const [width, height, channels, format] = [0, 1, 2, 3].map((i) => header.getUint32(i * 4, true));
  const data = message.subarray(FRAME_HEADER_BYTES);
  if (format === WIRE_FORMAT.jpeg) {
    if (channels !== 0) throw new Error(`camera frame in JPEG has ${channels} channels in its header; expected 0`);
    return checkedFrame({ format: 'jpeg', width, height }, data);
  }
  if (format !== WIRE_FORMAT.pixels) throw new Error(`camera frame format ${format} is unknown; expected 0 (pixels) or 1 (JPEG)`);
  return checkedFrame({ format: 'pixels', width, height, channels: channels as 3 | 4 }, data);
}

/** A MessagePort camera frame, checked, its pixels not copied. Throws with a one-line reason. */
export function frameFromPortMessage(message: unknown): CameraFrame {
  if (typeof message !== 'object' || message === null) throw new Error('camera frame message is not an object');
  const { width, height, channels, pixels } = message as Record<string, unknown>;
  if (typeof width !== 'number' || typeof height !== 'number' || typeof channels !== 'number') {
    throw new Error('camera frame message needs numbers width, height and channels');
  }
  return checkedFrame({ format: 'pixels', width, height, channels: channels as 3 | 4 }, bytesOf(pixels));
}

function bytesOf(pixels: unknown): Uint8Array {
  if (pixels instanceof ArrayBuffer) return new Uint8Array(pixels);
  if (ArrayBuffer.isView(pixels)) return new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  throw new Error('camera frame message needs its pixels as an ArrayBuffer');
}

/** The frame, if it is one sharp should see; throws with a one-line reason when it is not. */
export function checkedFrame(meta: CameraFrameMeta, data: Uint8Array): CameraFrame {
  checkSide('width', meta.width, MAX_FRAME.width);
  checkSide('height', meta.height, MAX_FRAME.height);
  if (meta.format === 'jpeg') checkJpeg(meta, data);
  else checkPixels(meta, data.length);
  return { meta, data };
}

function checkPixels({ width, height, channels }: Extract<CameraFrameMeta, { format: 'pixels' }>, length: number): void {
  if (channels !== 3 && channels !== 4) throw new Error(`camera frame has ${channels} channels; expected 3 or 4`);
  const expected = width * height * channels;
  if (length !== expected) {
    throw new Error(`camera frame of ${width}x${height}x${channels} needs ${expected} bytes of pixels, not ${length}`);
  }
}

function checkJpeg({ width, height }: CameraFrameMeta, jpeg: Uint8Array): void {
  if (!isCompleteJpeg(jpeg)) throw new Error(`camera frame of ${jpeg.length} bytes is not a complete JPEG`);
  const size = jpegSize(jpeg);
  if (!size) throw new Error('camera frame JPEG has no readable size');
  if (size.width !== width || size.height !== height) {
    throw new Error(`camera frame JPEG is ${size.width}x${size.height}, but its header says ${width}x${height}`);
  }
}

function checkSide(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < MIN_FRAME_SIDE || value > max) {
    throw new Error(`camera frame ${name} ${value} is not a whole number from ${MIN_FRAME_SIDE} to ${max}`);
  }
}

/** The newest encoded frame, for the window's preview (what viewers get). */
export interface PreviewFrame {
  seq: number;
  width: number;
  height: number;
  jpeg: Uint8Array;
}

/** Preview frames are binary messages: u32 seq, width, height (little-endian), then the JPEG. */
const PREVIEW_HEADER_BYTES = 12;

/** A preview frame's message, in two parts: its header, then its JPEG as it is (not copied here). */
export function previewMessage(frame: PreviewFrame): [Uint8Array<ArrayBuffer>, Uint8Array] {
  const header = new DataView(new ArrayBuffer(PREVIEW_HEADER_BYTES));
  [frame.seq, frame.width, frame.height].forEach((value, i) => header.setUint32(i * 4, value, true));
  return [new Uint8Array(header.buffer), frame.jpeg];
}

export function parsePreview(message: ArrayBuffer): PreviewFrame {
  const header = new DataView(message, 0, PREVIEW_HEADER_BYTES);
  const [seq, width, height] = [0, 1, 2].map((i) => header.getUint32(i * 4, true));
  return { seq, width, height, jpeg: new Uint8Array(message, PREVIEW_HEADER_BYTES) };
}
