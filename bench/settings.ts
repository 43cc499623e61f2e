// What the bench measures and for how long (docs/benchmarks.md says why). The whole run must stay
// under 8 minutes on a 2-core machine: about 50 s of encoding, 8 fan-out rows of about 16 s and
// 6 slow-link rows of about 18 s, re-runs of disturbed rows until RETRY_UNTIL_MS, then the
// camera's two rows of about 25 s.

export const QUALITY = 80;
export const SIZES = [
  [640, 480],
  [1280, 720],
  [1920, 1080],
] as const;
// Per frame size: 7 rounds, each of 8 timed encodes of every case taking turns, then one short
// tjbench run and one of the live path; so 56 timed encodes per cell and medians of 7 runs.
export const ENCODE_BUDGET = { warmupPasses: 3, rounds: 7, perRound: 8 };
export const TJBENCH_SECONDS = 0.2;
export const LIVE_PATH_MS = 300;
export const OVERLAY = { timestamp: true, text: 'Front door' };
export const ORIENT = { mirror: true, rotate: 90 } as const;

export const RING_FRAMES = 30;
export const FPS = 30;
export const FANOUT_RUN = { warmupMs: 2000, measureMs: 10_000 };
export const VIEWER_ROWS = [
  { healthy: 1, stalled: 0 },
  { healthy: 100, stalled: 0 },
  { healthy: 200, stalled: 0 },
  { healthy: 180, stalled: 20 },
] as const;

/** Every variant over every link, one viewer each; a new way of watching is one more line in SLOW_LINK_VARIANTS. */
export const SLOW_LINKS = [
  { mbitPerSecond: 8, queueMs: 500 },
  { mbitPerSecond: 2, queueMs: 500 },
] as const;
export const SLOW_LINK_VARIANTS = [
  { label: 'PushCam, main picture', server: 'pushcam', query: '' },
  { label: 'PushCam, auto', server: 'pushcam', query: '?quality=auto' },
  { label: 'mjpeg-server 0.3.1', server: 'mjpeg-server', query: '' },
] as const;
/** 1280x720 camera-like frames at q50 are about 84 KB, as a webcam's are. */
export const SLOW_LINK_PICTURE = { width: 1280, height: 720, quality: 50 };
export const SLOW_LINK_RUN = { warmupMs: 5000, measureMs: 10_000 };

export const CAMERA_RUN = { size: '1280x720', intervalMs: 33, viewers: 10, warmupMs: 3000, measureMs: 10_000 } as const;

/** Other work using more than this much of a core during a measurement makes it "disturbed". */
export const DISTURBED_PERCENT = 50;
/** Disturbed measurements run again only while the run is younger than this. */
export const RETRY_UNTIL_MS = 280_000;
/** The camera's rows run again only while its part of the run is younger than this, so it stays under 2 minutes. */
export const CAMERA_RETRY_UNTIL_MS = 80_000;
/** The run ends by itself after this long, whatever hangs. */
export const DEADLINE_MS = 600_000;
