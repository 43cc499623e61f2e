import type { Hub } from '../hub/hub.js';
import type { Pipeline } from '../pipeline.js';
import type { Status, ViewerInfo, ViewerStatus } from '../../shared/status.js';

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
    clients: hub.viewerList().map((viewer) => ({ ...viewer, framesDropped: viewer.framesSkipped })),
    tiers: hub.tierStatus(),
  };
}

/** Who asks for the status, as far as forViewer needs to know. */
export interface Asker {
  /** For a viewer page (`?viewer=TOKEN`): the id of the viewer it watches as, null while it watches not. Absent: the request names no page. */
  pageViewer?: number | null;
  ip: string;
  userAgent: string;
  /** The guest link the request came by (its id); null: the main key. */
  guest: string | null;
}

/**
 * The status as anyone with a viewer key (the main one or a guest link's) may see it: how many
 * watch, and of the viewer list only the asker's own entries. The other viewers' addresses and
 * browsers, and the source's reasons that name files, are for the broadcaster, who sees them
 * through the control channel.
 */
export function forViewer(status: Status, asker: Asker): ViewerStatus {
  const { viewerError, ...source } = status.source;
  if (viewerError !== undefined) source.error = viewerError;
  return {
    ...status,
    source,
    viewers: status.clients.length,
    clients: status.clients.filter((viewer) => isOwn(viewer, asker)),
  };
}

/**
 * A page's own entry is the viewer it watches as; a client that names no page (a program) owns the
 * viewers from its address and client: its own device. Never one that came by another key.
 */
function isOwn(viewer: ViewerInfo, asker: Asker): boolean {
  if (viewer.guest !== asker.guest) return false;
  if (asker.pageViewer !== undefined) return viewer.id === asker.pageViewer;
  return viewer.ip === asker.ip && viewer.userAgent === asker.userAgent;
}
