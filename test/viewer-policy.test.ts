import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { partLayout } from '../server/hub/multipart.js';
import { KEEPALIVE_MS, SEND_TIMEOUT_MS, Viewer } from '../server/hub/viewer.js';
import type { Frame } from '../server/types.js';

/**
 * A real Writable that, stalled, accepts a chunk only when told to: a viewer on a stalled
 * network. Like a kernel's send buffer, it takes the stream's small opening at once.
 */
class StalledSocket extends Writable {
  received: Buffer[] = [];
  private held: (() => void)[] = [];
  constructor(private readonly stalled: boolean) {
    super({ highWaterMark: 16 * 1024 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.received.push(chunk);
    if (this.stalled && this.received.length > 1) this.held.push(done);
    else done();
  }
  releaseAll(): void {
    while (this.held.length) this.held.shift()!();
  }
  /** Writes that carried this JPEG (each frame is one write: the JPEG, then what follows it). */
  count(jpeg: Buffer): number {
    return this.received.filter((c) => c.subarray(0, jpeg.length).equals(jpeg)).length;
  }
  /** The first byte of each frame written, in order. */
  frameBytes(): number[] {
    return this.received.filter((c) => c.length > 1000).map((c) => c[0]);
  }
}

const frame = (seq: number, bytes = 50_000): Frame => ({
  seq,
  jpeg: Buffer.alloc(bytes, seq % 256),
  width: 640,
  height: 480,
  at: Date.now(),
});

function viewerOn(socket: Writable, o: { minIntervalMs?: number; dual?: boolean; sendTimeoutMs?: number; keepAliveMs?: number } = {}): Viewer {
  return new Viewer(socket, {
    info: { id: 1, ip: '127.0.0.1', userAgent: 'test', since: Date.now(), via: 'stream', guest: null, tier: { auto: false, width: null, quality: null } },
    layout: partLayout('B', 'advance'),
    minIntervalMs: o.minIntervalMs ?? 0,
    dualFinalFrame: o.dual ?? false,
    sendTimeoutMs: o.sendTimeoutMs ?? SEND_TIMEOUT_MS,
    keepAliveMs: o.keepAliveMs ?? KEEPALIVE_MS,
    link: null,
  });
}

test('a fast viewer gets every frame, in order, none dropped', async () => {
  const socket = new StalledSocket(false);
  const viewer = viewerOn(socket);
  const frames = Array.from({ length: 20 }, (_, i) => frame(i + 1));
  for (const f of frames) {
    viewer.offer(f);
    await new Promise((r) => setImmediate(r));
  }
  viewer.close();
  assert.equal(viewer.info.framesSent, 20);
  assert.equal(viewer.info.framesSkipped, 0);
  assert.deepEqual(
    socket.frameBytes(),
    frames.map((f) => f.seq % 256),
  );
});

test('a stalled viewer holds at most one waiting frame, skips to the newest and counts the rest', () => {
  const socket = new StalledSocket(true);
  const viewer = viewerOn(socket);
  const frames = Array.from({ length: 100 }, (_, i) => frame(i + 1));
  for (const f of frames) viewer.offer(f);
  // Written to the socket: only the first frame; the buffer did not grow with the other 99.
  assert.ok(socket.writableLength < 60_000, `socket buffer grew to ${socket.writableLength}`);
  assert.equal(viewer.info.framesSent, 1);
  assert.equal(viewer.info.framesSkipped, 98);
  socket.releaseAll();
  // Drained: the newest frame goes out, the 98 in between never do.
  assert.equal(viewer.info.framesSent, 2);
  assert.equal(socket.count(frames[99].jpeg), 1);
  assert.equal(socket.count(frames[50].jpeg), 0);
  viewer.close();
});

test('older or repeated frames are ignored', () => {
  const socket = new StalledSocket(false);
  const viewer = viewerOn(socket);
  viewer.offer(frame(5));
  viewer.offer(frame(5));
  viewer.offer(frame(3));
  viewer.close();
  assert.equal(viewer.info.framesSent, 1);
});

test('?fps caps one viewer: frames in between are skipped and counted', async () => {
  const socket = new StalledSocket(false);
  const viewer = viewerOn(socket, { minIntervalMs: 100 });
  for (let seq = 1; seq <= 50; seq++) {
    viewer.offer(frame(seq, 1000));
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 120));
  viewer.close();
  // ~600 ms of frames at 10 fps: about 6 sent (the clock is coarse on a busy machine).
  assert.ok(viewer.info.framesSent >= 4 && viewer.info.framesSent <= 9, `sent ${viewer.info.framesSent}`);
  assert.equal(viewer.info.framesSent + viewer.info.framesSkipped, 50);
});

test('dual final frame: the last frame is sent again when no newer one follows', async () => {
  const socket = new StalledSocket(false);
  const viewer = viewerOn(socket, { dual: true });
  const only = frame(1, 1000);
  viewer.offer(only);
  assert.equal(socket.count(only.jpeg), 1);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(socket.count(only.jpeg), 2, 'repeated once');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(socket.count(only.jpeg), 2, 'and only once');
  viewer.close();
});

test('no repeat without dual mode, until the keep-alive re-sends the frame', async () => {
  const socket = new StalledSocket(false);
  // A shorter keep-alive than KEEPALIVE_MS, the same rule.
  const keepAliveMs = 1000;
  const viewer = viewerOn(socket, { keepAliveMs });
  const only = frame(1, 1000);
  viewer.offer(only);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(socket.count(only.jpeg), 1);
  await new Promise((r) => setTimeout(r, keepAliveMs));
  assert.equal(socket.count(only.jpeg), 2, 'keep-alive after its silence');
  assert.equal(viewer.info.framesSent, 1, 'a repeat is not a new frame');
  viewer.close();
});

test('send timeout: a viewer whose socket takes nothing for that long is dropped', async (t) => {
  const socket = new StalledSocket(true);
  const viewer = viewerOn(socket, { sendTimeoutMs: 300 });
  t.after(() => viewer.close());
  viewer.offer(frame(1));
  viewer.offer(frame(2));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(socket.destroyed, false, 'not before the timeout');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(socket.destroyed, true, 'dropped once nothing drained for 300 ms');
});

test('send timeout: a slow viewer that keeps draining is not dropped', async (t) => {
  const socket = new StalledSocket(true);
  const viewer = viewerOn(socket, { sendTimeoutMs: 300 });
  t.after(() => viewer.close());
  // Each frame takes 200 ms to go out: slower than the stream, but the socket makes progress.
  for (let seq = 1; seq <= 8; seq++) {
    viewer.offer(frame(seq));
    await new Promise((r) => setTimeout(r, 200));
    socket.releaseAll();
  }
  assert.equal(socket.destroyed, false);
  assert.ok(viewer.info.framesSent >= 7, `sent ${viewer.info.framesSent}`);
});
