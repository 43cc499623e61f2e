// A child process running PushCam fed by a RingSource of pre-encoded frames, so the fan-out is
// what the bench measures and the CPU the parent reads from /proc is PushCam's own.
import { startPushCam } from '../server/pushcam.js';
import { isMessage, type Listening, type ServerStats, STALLED_AGENT } from './messages.js';
import { loadRing, RingSource } from './ring-source.js';
import { exitWithParent } from './child-life.js';

const [framesDir, fpsText] = process.argv.slice(2);
exitWithParent();
const frames = await loadRing(framesDir);
const cam = await startPushCam({
  source: new RingSource(frames, Number(fpsText)),
  key: null,
  host: '127.0.0.1',
  port: 0,
  // The default cap is 32 viewers; the bench asks for up to 220.
  maxClients: 1000,
  log: () => {},
});
const ready: Listening = { type: 'listening', port: cam.port, path: '/stream.mjpg' };
process.send?.(ready);

// Frames PushCam skipped for healthy viewers (it counts them itself, per viewer).
process.on('message', (message: unknown) => {
  if (!isMessage(message, 'stats')) return;
  const healthy = cam.hub.viewerList().filter((v) => v.userAgent !== STALLED_AGENT);
  const stats: ServerStats = { type: 'stats', skippedFrames: healthy.reduce((n, v) => n + v.framesDropped, 0), queuedBytes: null, encodes: cam.encoder.frames };
  process.send?.(stats);
});
import { monitorEventLoopDelay } from 'node:perf_hooks';
const h = monitorEventLoopDelay({ resolution: 5 });
h.enable();
const t0 = Date.now();
setInterval(() => {
  const m = process.memoryUsage();
  const vl = cam.hub.viewerList();
  const dropped = vl.reduce((n, v) => n + v.framesDropped, 0);
  const sent = vl.reduce((n, v) => n + v.framesSent, 0);
  process.stderr.write(`diag t=${((Date.now()-t0)/1000).toFixed(0)} viewers=${vl.length} lag p50=${(h.percentile(50)/1e6).toFixed(1)} max=${(h.max/1e6).toFixed(1)} rss=${(m.rss/2**20).toFixed(0)} heap=${(m.heapUsed/2**20).toFixed(0)}/${(m.heapTotal/2**20).toFixed(0)} ext=${(m.external/2**20).toFixed(0)} ab=${(m.arrayBuffers/2**20).toFixed(0)} sent=${sent} dropped=${dropped}\n`);
  h.reset();
}, 3000).unref();
