// What the bench's processes say to each other over the fork() IPC channel.

/** A server under test is listening; the parent points the viewers at `path` on `port`. */
export interface Listening {
  type: 'listening';
  port: number;
  path: string;
}

export interface ConnectViewers {
  type: 'connect';
  port: number;
  path: string;
  healthy: number;
  stalled: number;
}

export interface ViewersConnected {
  type: 'connected';
  healthy: number;
  stalled: number;
  /** Why viewers that did not get a stream failed, e.g. "HTTP 503" (counted by reason). */
  failures: Record<string, number>;
}

/** The reading viewers' counters at one moment (answers a 'mark'); the parent takes two and divides by the time between. */
export interface Counters {
  type: 'counters';
  at: number;
  /** Frames each viewer has seen so far. */
  frames: number[];
  /** Age, ms, of every frame the viewers read since the previous mark. */
  ages: number[];
}

/** What a server under test says of itself (answers a 'stats'). */
export interface ServerStats {
  type: 'stats';
  /** PushCam: frames skipped for healthy viewers so far (it holds one frame per viewer). */
  skippedFrames: number | null;
  /** mjpeg-server: bytes its responses hold that the sockets have not taken (it queues everything). */
  queuedBytes: number | null;
  /** Frames PushCam's encoder re-encoded instead of passing through: must stay 0. */
  encodes: number;
  /** Frames the server has sent out to its viewers so far. */
  published: number;
}

/** The User-Agent of each kind of viewer, so the server's own stats can tell them apart. */
export const AGENT = { healthy: 'pushcam-bench', stalled: 'pushcam-bench-stalled' } as const;

export function isMessage<T extends { type: string }>(value: unknown, type: T['type']): value is T {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === type;
}

/** A child of the bench ends when the parent goes, however it goes: no server left holding ports and CPU. */
export function exitWithParent(): void {
  process.on('disconnect', () => process.exit(0));
}
