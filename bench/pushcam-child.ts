// A child process running PushCam fed by a RingSource of pre-encoded frames, so the fan-out is
// what the bench measures and the CPU the parent reads from /proc is PushCam's own.
import { startPushCam } from '../server/pushcam.js';
import { AGENT, exitWithParent, isMessage, type Listening, type ServerStats } from './messages.js';
import { loadRing, RingSource } from './ring-source.js';

const [framesDir, fpsText] = process.argv.slice(2);
exitWithParent();
const frames = await loadRing(framesDir);
const cam = await startPushCam({
  source: new RingSource(frames, Number(fpsText)),
  key: null,
  host: '127.0.0.1',
  port: 0,
  // The default caps are 32 viewers and 32 connections per address; the bench connects up to 200, all from 127.0.0.1.
  maxViewers: 1000,
  maxPerAddress: 1000,
  log: () => {},
});
const ready: Listening = { type: 'listening', port: cam.port, path: '/stream.mjpg' };
process.send?.(ready);

// Frames PushCam skipped for healthy viewers (it counts them itself, per viewer).
process.on('message', (message: unknown) => {
  if (!isMessage(message, 'stats')) return;
  const healthy = cam.hub.viewerList().filter((v) => v.userAgent === AGENT.healthy);
  const stats: ServerStats = { type: 'stats', skippedFrames: healthy.reduce((n, v) => n + v.framesSkipped, 0), queuedBytes: null, encodes: cam.encoder.frames, published: cam.hub.latest?.seq ?? 0 };
  process.send?.(stats);
});
