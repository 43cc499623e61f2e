// What /status.json says, and the parts of it the window sees too (its viewer list and source,
// shared/contract.ts): declared once for the server that writes it (server/http/status.ts,
// page-status.ts) and the viewer page that reads it.

import type { Farewell } from './farewell.js';

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
  framesSkipped: number;
  bytesSent: number;
  /** Where the platform tells (Linux, macOS); null elsewhere. */
  link: LinkSample | null;
  tier: ViewerTier;
}

/** What /status.json says about each tier being made. */
export interface TierStatus extends TierSpec {
  /** Stream viewers and waiting snapshot requests. */
  members: number;
  encodes: number;
  avgMs: number;
}

/**
 * A viewer as /status.json lists it. `framesDropped` is what `framesSkipped` was called before,
 * kept (the same number) so programs that read the old name go on working.
 */
export interface StatusViewer extends ViewerInfo {
  framesDropped: number;
}

/**
 * Everything about the broadcast, viewers included: for the broadcaster. Its viewer list is
 * `clients` (`viewers` is how many watch, and programs read both).
 */
export interface Status {
  source: SourceStatus;
  frame: { seq: number; width: number; height: number; bytes: number; at: number } | null;
  encoder: { frames: number; avgMs: number; skipped: number };
  clients: StatusViewer[];
  /** The picture tiers being made besides the main picture (?width, ?quality). */
  tiers: TierStatus[];
}

/** What a viewer may see of the status (server/http/status.ts, forViewer). */
export interface ViewerStatus extends Omit<Status, 'source'> {
  source: Omit<SourceStatus, 'viewerError'>;
  /** How many watch. */
  viewers: number;
}

/** GET /status.json while the viewing goes on: the status as a viewer may see it, and the camera's name. */
export interface PageStatus extends ViewerStatus {
  /** The viewer page's title ('' = none). */
  name: string;
  /** For a viewer page (`?viewer=TOKEN`): how the server sees it watching, and the size of the last picture it sent it. */
  you?: { watching: ViewerInfo['via'] | null; picture: { width: number; height: number } | null };
}

/** The body of GET /status.json: the status, or, once this page's viewing has ended, why. */
export type StatusJson = PageStatus | { ended: Farewell };
