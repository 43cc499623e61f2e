// The types that cross module boundaries in the core: source -> encoder -> hub -> http.

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

export type SourceState = 'stopped' | 'running' | 'waiting' | 'error';

export interface SourceStatus {
  kind: string;
  state: SourceState;
  /** Why the source is waiting or failing, in words for the user (it may name files and devices). */
  error?: string;
  /**
   * The same for viewers, when `error` says more than they should see (paths, system errors);
   * without it viewers are shown `error` (see server/http/status.ts).
   */
  viewerError?: string;
  /** Inputs rejected since start (half-written or unreadable files). */
  failures?: number;
}

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

export type Rotation = 0 | 90 | 180 | 270;

export type { EncodeSettings } from '../shared/settings-table.js';

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

/** One look at a viewer's connection (server/hub/link.ts): what it carries, and what is queued for it. */
export interface LinkSample {
  /** Round-trip time, ms. */
  rttMs: number;
  /** What the connection delivers, bits per second (the kernel's estimate); 0 until it has one. */
  deliveryBitsPerSecond: number;
  /** Sent and not yet acknowledged, bytes. */
  inFlightBytes: number;
  /** Written and not yet sent, bytes: in the kernel and in PushCam's own socket buffer. */
  unsentBytes: number;
  /** How long the connection needs to deliver what is queued for this viewer now, ms: how far behind it is. */
  behindMs: number;
}

/**
 * A picture besides the main one (server/hub/tiers.ts): at most `width` pixels wide, height by
 * the aspect ratio, never upscaled; encoded at `quality`. null = as the main picture is.
 */
export interface TierSpec {
  width: number | null;
  quality: number | null;
}

/** The picture a viewer gets now: the main one when width and quality are both null. */
export interface ViewerTier extends TierSpec {
  /** PushCam picks the tier by what the viewer's link carries (`?quality=auto`). */
  auto: boolean;
}

export interface ViewerInfo {
  id: number;
  ip: string;
  userAgent: string;
  since: number;
  /** The guest link it came through (its id, server/config/guest-links.ts); null: the main key. */
  guest: string | null;
  /** How it watches: the push stream, or long-polled snapshots (a page whose stream cannot get through). */
  via: 'stream' | 'snapshots';
  framesSent: number;
  framesDropped: number;
  bytesSent: number;
  /** Where the platform tells (Linux, macOS); null elsewhere. */
  link: LinkSample | null;
  tier: ViewerTier;
}
