import type { Hub } from '../hub/hub.js';
import type { TierStatus } from '../hub/tiers.js';
import type { Pipeline } from '../pipeline.js';
import type { SourceStatus, ViewerInfo } from '../types.js';

export interface Status {
  source: SourceStatus;
  frame: { seq: number; width: number; height: number; bytes: number; at: number } | null;
  encoder: { frames: number; avgMs: number; skipped: number };
  clients: ViewerInfo[];
  /** The picture tiers being made besides the main picture (?width, ?quality). */
  tiers: TierStatus[];
}

/** What /status.json answers: a plain function, so the control channel can report the same. */
export function statusOf(hub: Hub, pipeline: Pipeline): Status {
  const f = hub.latest;
  return {
    source: pipeline.sourceStatus(),
    frame: f && { seq: f.seq, width: f.width, height: f.height, bytes: f.jpeg.length, at: f.at },
    encoder: {
      frames: pipeline.encoder.frames,
      avgMs: Math.round(pipeline.encoder.avgMs * 100) / 100,
      skipped: pipeline.skipped,
    },
    clients: hub.viewerList(),
    tiers: hub.tierStatus(),
  };
}
