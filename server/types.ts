// The types that cross module boundaries in the core: source -> encoder -> hub -> http. Those the
// window and the viewer page see too are declared in shared/ (status.ts, settings-table.ts).

import type { SourceStatus } from '../shared/status.js';

/** Tightly packed pixels, as sharp reads and writes them with `{ raw }`. */
export interface RawImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Buffer;
}

/**
 * What a source hands to the encoder: pixels, or a JPEG it read. A JPEG is already checked to
 * be complete (starts with FFD8, ends with FFD9), carries the size its frame header says, and is
 * passed through as it is when no overlay or orientation asks for a re-encode. Other image
 * formats are decoded by the source to `raw`.
 */
export type SourceImage = { kind: 'raw'; image: RawImage } | { kind: 'jpeg'; data: Buffer; width: number; height: number };

/**
 * A producer of pictures. It runs only between start() and stop(): the pipeline starts it
 * when somebody watches and stops it when nobody does, so an idle PushCam costs nothing.
 */
export interface FrameSource {
  readonly kind: string;
  start(emit: (image: SourceImage) => void): void;
  stop(): void;
  status(): SourceStatus;
}

/** One encoded picture, shared by every viewer. */
export interface Frame {
  /** 1, 2, 3... in publish order; also the snapshot ETag. */
  seq: number;
  jpeg: Buffer;
  width: number;
  height: number;
  /** When it was published, ms since the epoch. */
  at: number;
}

/** How a stream lays out its parts; see server/hub/multipart.ts. */
export type StreamCompat = 'advance' | 'dual' | 'length' | 'plain';
