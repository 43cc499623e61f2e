// A child process serving the same pre-encoded frames with the npm package mjpeg-server, used
// as its README shows: one handler per request, handler.write(jpeg) to every client per frame.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createReqHandler, type MjpegReqHandler } from 'mjpeg-server';
import { Ticker } from '../server/source/ticker.js';
import { exitWithParent, isMessage, type Listening, type ServerStats } from './messages.js';
import { loadRing, nextFrame } from './ring-source.js';

const [framesDir, fpsText] = process.argv.slice(2);
exitWithParent();
const frames = await loadRing(framesDir);
const clients = new Map<MjpegReqHandler, ServerResponse>();

const server = createServer((req, res) => {
  const handler = createReqHandler(req, res);
  clients.set(handler, res);
  res.on('close', () => clients.delete(handler));
});

// Same pacing as PushCam's sources (its Ticker), so both servers get frames on the same schedule.
let next = 0;
const ticker = new Ticker(1000 / Number(fpsText), async () => {
  const jpeg = nextFrame(frames, next++);
  for (const handler of clients.keys()) handler.write(jpeg);
});

server.listen({ host: '127.0.0.1', port: 0 }, () => {
  ticker.start();
  const ready: Listening = { type: 'listening', port: (server.address() as AddressInfo).port, path: '/' };
  process.send?.(ready);
});

// What the responses hold that their sockets have not taken: the package never waits for 'drain'.
process.on('message', (message: unknown) => {
  if (!isMessage(message, 'stats')) return;
  let queued = 0;
  for (const res of clients.values()) queued += res.writableLength;
  const stats: ServerStats = { type: 'stats', skippedFrames: null, queuedBytes: queued, encodes: 0, published: next };
  process.send?.(stats);
});
