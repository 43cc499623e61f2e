import type { Hub } from '../hub/hub.js';
import type { Pipeline } from '../pipeline.js';
import type { SourceStatus, ViewerInfo } from '../types.js';

/** Everything about the broadcast, viewers included: for the broadcaster. */
export interface Status {
  source: SourceStatus;
  frame: { seq: number; width: number; height: number; bytes: number; at: number } | null;
  encoder: { frames: number; avgMs: number; skipped: number };
  clients: ViewerInfo[];
}

/** What a viewer may see of the status (see forViewer). */
export interface ViewerStatus extends Omit<Status, 'source'> {
  source: Omit<SourceStatus, 'viewerError'>;
  /** How many watch. */
  viewers: number;
}

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
  };
}

/**
 * The status as anyone with the viewer key may see it: how many watch, and of the viewer list only
 * the asking viewer's own entry (`ownId`; none when it is not known). The other viewers'
 * addresses and browsers, and the source's reasons that name files, are for the broadcaster,
 * who sees them through the control channel.
 */
export function forViewer(status: Status, ownId: number | null): ViewerStatus {
  const { viewerError, ...source } = status.source;
  if (viewerError !== undefined) source.error = viewerError;
  return {
    ...status,
    source,
    viewers: status.clients.length,
    clients: status.clients.filter((viewer) => viewer.id === ownId),
  };
}
