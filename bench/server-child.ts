// A server under test, alone in a child process so the CPU and memory the parent reads from /proc
// are its own: PushCam (`pushcam`) or the npm package mjpeg-server (`mjpeg-server`), used as its
// README shows. Both send the same pre-encoded frames on the same schedule (PushCam's Ticker),
// each a new buffer, as a camera makes one per frame, stamped with the time it was made.
import { readdir, readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createReqHandler, type MjpegReqHandler } from 'mjpeg-server';
import { jpegSize } from '../shared/jpeg-info.js';
import { Ticker } from '../server/source/ticker.js';
import type { FrameSource, SourceImage } from '../server/types.js';
import { AGENT, exitWithParent, isMessage, type Listening, type ServerStats } from './messages.js';
import { stampJpeg } from './stamp.js';

const [kind, framesDir, fpsText] = process.argv.slice(2);
exitWithParent();
const names = (await readdir(framesDir)).filter((n) => n.endsWith('.jpg')).sort();
if (names.length === 0) throw new Error(`no frames in ${framesDir}`);
const ring = await Promise.all(names.map((n) => readFile(join(framesDir, n))));
let made = 0;
const nextFrame = (): Buffer => stampJpeg(ring[made++ % ring.length]);
const every = (send: () => void): Ticker => new Ticker(1000 / Number(fpsText), async () => send());

/**
 * PushCam fed by a source of the ready JPEGs: the encoder passes them through untouched (no
 * overlay or orientation), so the server spends its time on fan-out alone.
 */
async function pushcam(): Promise<{ listening: Listening; stats: () => ServerStats }> {
  // Imported here, so mjpeg-server's process does not load PushCam's modules into its memory.
  const { startPushCam } = await import('../server/pushcam.js');
  const size = jpegSize(ring[0]);
  if (!size) throw new Error(`${names[0]} is not a JPEG`);
  let emit: ((image: SourceImage) => void) | undefined;
  const ticker = every(() => emit?.({ kind: 'jpeg', data: nextFrame(), ...size }));
  const source: FrameSource = {
    kind: 'bench-ring',
    start(e) {
      emit = e;
      ticker.start();
    },
    stop() {
      ticker.stop();
      emit = undefined;
    },
    status: () => ({ kind: 'bench-ring', state: emit ? 'running' : 'stopped' }),
  };
  // The default caps are 32 viewers and 32 connections per address; the bench connects up to 200, all from 127.0.0.1.
  const cam = await startPushCam({ source, key: null, host: '127.0.0.1', port: 0, maxViewers: 1000, maxPerAddress: 1000, log: () => {} });
  const stats = (): ServerStats => {
    const healthy = cam.hub.viewerList().filter((v) => v.userAgent === AGENT.healthy);
    const skippedFrames = healthy.reduce((n, v) => n + v.framesSkipped, 0);
    return { type: 'stats', skippedFrames, queuedBytes: null, encodes: cam.encoder.frames, published: cam.hub.latest?.seq ?? 0 };
  };
  return { listening: { type: 'listening', port: cam.port, path: '/stream.mjpg' }, stats };
}

/** mjpeg-server: one handler per request, handler.write(jpeg) to every client per frame. */
async function mjpegServer(): Promise<{ listening: Listening; stats: () => ServerStats }> {
  const clients = new Map<MjpegReqHandler, ServerResponse>();
  const server = createServer((req, res) => {
    const handler = createReqHandler(req, res);
    clients.set(handler, res);
    res.on('close', () => clients.delete(handler));
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  every(() => {
    const jpeg = nextFrame();
    for (const handler of clients.keys()) handler.write(jpeg);
  }).start();
  // What the responses hold that their sockets have not taken: the package never waits for 'drain'.
  const stats = (): ServerStats => {
    const queuedBytes = [...clients.values()].reduce((n, res) => n + res.writableLength, 0);
    return { type: 'stats', skippedFrames: null, queuedBytes, encodes: 0, published: made };
  };
  return { listening: { type: 'listening', port: (server.address() as AddressInfo).port, path: '/' }, stats };
}

const { listening, stats } = kind === 'pushcam' ? await pushcam() : await mjpegServer();
process.send?.(listening);
process.on('message', (message: unknown) => {
  if (isMessage(message, 'stats')) process.send?.(stats());
});
