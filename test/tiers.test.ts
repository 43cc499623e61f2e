import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import test from 'node:test';
import sharp from 'sharp';
import { Encoder } from '../server/encoder/encoder.js';
import { jpegComments, jpegSize } from '../shared/jpeg-info.js';
import { encodeTier, tierSize } from '../server/encoder/tiers.js';
import { Hub } from '../server/hub/hub.js';
import { partLayout } from '../server/hub/multipart.js';
import { MAX_TIERS, tierKey } from '../server/hub/tiers.js';
import { KEEPALIVE_MS, Viewer } from '../server/hub/viewer.js';
import type { TierSpec } from '../shared/status.js';
import type { Status } from '../shared/status.js';
import { statusOf } from '../server/http/status.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually, startTestServer, type TestServer } from './helpers/server.js';

// Picture tiers: ?width and ?quality on the stream, the snapshot and mjpg-streamer's URLs,
// made once per frame for all their viewers, on demand, at most MAX_TIERS at once. The test
// server's pattern is 160x120.

async function sizeOf(jpeg: Buffer): Promise<string> {
  const { width, height } = await sharp(jpeg).metadata();
  return `${width}x${height}`;
}

/** The broadcaster's view (every viewer); /status.json gives a viewer only its own entry. */
async function status(s: TestServer): Promise<Status> {
  return statusOf(s.hub, s.pipeline);
}

async function open(t: test.TestContext, s: TestServer, path: string): Promise<MjpegClient> {
  const client = await MjpegClient.open(s.url(path));
  t.after(() => client.close());
  return client;
}

test('a tier is as wide as asked, height by the aspect ratio, and never wider than the main picture', async (t) => {
  const s = await startTestServer(t);
  for (const [path, size] of [
    ['/stream.mjpg?width=80', '80x60'],
    ['/stream.mjpg?width=100&quality=40', '100x75'],
    ['/?action=stream&width=40', '40x30'],
    ['/stream.mjpg?width=1000', '160x120'],
    ['/stream.mjpg?quality=20', '160x120'],
  ] as const) {
    const client = await open(t, s, path);
    assert.equal(client.response.statusCode, 200, path);
    const parts = await client.waitForParts(2);
    assert.equal(await sizeOf(parts[1].body), size, path);
    client.close();
  }
  const snapshot = await fetch(s.url('/snapshot.jpg?width=64'));
  assert.equal(snapshot.status, 200);
  assert.equal(await sizeOf(Buffer.from(await snapshot.arrayBuffer())), '64x48');
  assert.match(snapshot.headers.get('etag') ?? '', /^"\d+-64\/main"$/);
  const legacy = await fetch(s.url('/?action=snapshot&width=32&quality=50'));
  assert.equal(await sizeOf(Buffer.from(await legacy.arrayBuffer())), '32x24');
  assert.equal(tierSize({ width: 5000, quality: null }, { width: 1280, height: 720 }).width, 1280);
  assert.deepEqual(tierSize({ width: 1, quality: null }, { width: 1280, height: 720 }), { width: 1, height: 1 });
});

test('a lower quality gives the same size in fewer bytes', async (t) => {
  const s = await startTestServer(t);
  const main = Buffer.from(await (await fetch(s.url('/snapshot.jpg'))).arrayBuffer());
  const low = Buffer.from(await (await fetch(s.url('/snapshot.jpg?quality=10'))).arrayBuffer());
  assert.equal(await sizeOf(low), await sizeOf(main));
  assert.ok(low.length < main.length * 0.8, `q10 ${low.length} bytes, main ${main.length}`);
});

test('viewers of one tier share one encode per frame; the tier stops with its last viewer', async (t) => {
  const s = await startTestServer(t);
  const a = await open(t, s, '/stream.mjpg?width=80');
  const b = await open(t, s, '/stream.mjpg?width=80');
  const c = await open(t, s, '/stream.mjpg?width=80&quality=30');
  const main = await open(t, s, '/stream.mjpg');
  await Promise.all([a.waitForParts(8), b.waitForParts(8), c.waitForParts(8), main.waitForParts(8)]);
  const published = s.hub.latest?.seq ?? 0;
  const { tiers, clients } = await status(s);
  assert.deepEqual(
    tiers.map((tier) => [tier.width, tier.quality, tier.members]),
    [
      [80, null, 2],
      [80, 30, 1],
    ],
  );
  // Each tier encodes each main frame at most once, however many watch it.
  for (const tier of tiers) assert.ok(tier.encodes <= published, `${tier.encodes} encodes of ${published} frames`);
  const seen = new Set(b.parts.map((p) => p.body.toString('base64')));
  assert.ok(a.parts.filter((p) => seen.has(p.body.toString('base64'))).length >= 5, 'the two viewers got the same bytes');
  assert.deepEqual(clients.map((v) => v.tier).sort((x, y) => (x.width ?? 0) - (y.width ?? 0) || (x.quality ?? 0) - (y.quality ?? 0)), [
    { auto: false, width: null, quality: null },
    { auto: false, width: 80, quality: null },
    { auto: false, width: 80, quality: null },
    { auto: false, width: 80, quality: 30 },
  ]);
  a.close();
  await eventually(async () => (await status(s)).tiers.find((tier) => tier.quality === null)?.members === 1, 'one viewer left on the tier');
  b.close();
  c.close();
  await eventually(async () => (await status(s)).tiers.length === 0, 'the tiers to stop');
  // The main picture went on for its viewer throughout.
  const before = main.parts.length;
  await main.waitForParts(before + 2);
});

test(`at most ${MAX_TIERS} tiers at once: the next is refused with a reason, a running one is shared, the main picture always`, async (t) => {
  const s = await startTestServer(t);
  const widths = [40, 50, 60, 70].slice(0, MAX_TIERS);
  const viewers = await Promise.all(widths.map((w) => open(t, s, `/stream.mjpg?width=${w}`)));
  await Promise.all(viewers.map((v) => v.waitForParts(1)));
  const refused = await fetch(s.url('/stream.mjpg?width=90'));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get('retry-after'), '10');
  assert.match(((await refused.json()) as { error: string }).error, /already makes 4 picture sizes/);
  assert.equal((await fetch(s.url('/snapshot.jpg?width=90'))).status, 503);
  const shared = await open(t, s, '/stream.mjpg?width=40');
  assert.equal(shared.response.statusCode, 200);
  const main = await open(t, s, '/stream.mjpg');
  assert.equal(main.response.statusCode, 200);
  // A tier as wide as the main picture is the main picture.
  assert.equal((await fetch(s.url('/snapshot.jpg?width=160'))).status, 200);
  viewers[3].close();
  await eventually(async () => (await status(s)).tiers.length === MAX_TIERS - 1, 'the 70 wide tier to stop');
  const next = await open(t, s, '/stream.mjpg?width=90');
  assert.equal(next.response.statusCode, 200);
  assert.equal(await sizeOf((await next.waitForParts(1))[0].body), '90x68');
});

test('bad width or quality: 400 with a one-line reason', async (t) => {
  const s = await startTestServer(t);
  for (const [query, reason] of [
    ['width=abc', /width must be a whole number from 16 to 65535/],
    ['width=0', /width must be/],
    ['width=8', /width must be/],
    ['width=100&width=200', /width must be/],
    ['quality=0', /quality must be a whole number from 1 to 100, or auto/],
    ['quality=101', /quality must be/],
    ['quality=high', /quality must be/],
  ] as const) {
    for (const path of ['/stream.mjpg', '/snapshot.jpg', '/']) {
      const action = path === '/' ? 'action=stream&' : '';
      const res = await fetch(s.url(`${path}?${action}${query}`));
      assert.equal(res.status, 400, `${path} ${query}`);
      const { error } = (await res.json()) as { error: string };
      assert.match(error, reason, `${path} ${query}`);
      assert.ok(!error.includes('\n'));
    }
  }
  const autoWidth = await fetch(s.url('/stream.mjpg?quality=auto&width=100'));
  assert.equal(autoWidth.status, 400);
  assert.match(((await autoWidth.json()) as { error: string }).error, /quality=auto picks the width itself; leave out width/);
  const auto = await fetch(s.url('/snapshot.jpg?quality=auto'));
  assert.equal(auto.status, 400);
  assert.match(((await auto.json()) as { error: string }).error, /quality=auto is for streams/);
});

test('a tier of a JPEG passed through keeps its comments; one from pixels is their resize', async () => {
  const raw = { width: 64, height: 32, channels: 3 as const, data: Buffer.alloc(64 * 32 * 3, 90) };
  const plain = await sharp(raw.data, { raw }).jpeg().toBuffer();
  const comment = Buffer.from([0xff, 0xfe, 0, 7, ...Buffer.from('hello')]);
  const stamped = Buffer.concat([plain.subarray(0, 2), comment, plain.subarray(2)]);
  assert.deepEqual(jpegComments(stamped), [comment]);
  assert.deepEqual(jpegComments(plain), []);
  const fromJpeg = await encodeTier({ jpeg: stamped, width: 64, height: 32, pixels: null }, { width: 32, quality: null }, 80);
  assert.deepEqual(jpegComments(fromJpeg.jpeg), [comment]);
  assert.equal(await sizeOf(fromJpeg.jpeg), '32x16');
  const fromPixels = await encodeTier({ jpeg: stamped, width: 64, height: 32, pixels: raw }, { width: 16, quality: 50 }, 80);
  assert.equal(await sizeOf(fromPixels.jpeg), '16x8');
  // As wide as the main picture at the main's quality: the main JPEG itself, no encode.
  assert.equal((await encodeTier({ jpeg: stamped, width: 64, height: 32, pixels: raw }, { width: 64, quality: null }, 80)).jpeg, stamped);
});

/** A viewer socket that takes everything and keeps the width of each frame written. */
class Sink extends Writable {
  readonly widths: number[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const size = jpegSize(chunk);
    if (size) this.widths.push(size.width);
    done();
  }
}

const LAYOUT = partLayout('B', 'advance');

/** A stream viewer of `spec` on a Sink, added to `hub` and removed when the test ends. */
function sinkViewer(t: test.TestContext, hub: Hub, spec: TierSpec): { viewer: Viewer; sink: Sink } {
  const sink = new Sink();
  const viewer = new Viewer(sink, {
    info: { id: 0, ip: '127.0.0.1', userAgent: 'test', since: 0, via: 'stream', guest: null, tier: { auto: false, ...spec } },
    layout: LAYOUT,
    minIntervalMs: 0,
    dualFinalFrame: false,
    sendTimeoutMs: 60_000,
    keepAliveMs: KEEPALIVE_MS,
    link: null,
  });
  hub.add(viewer);
  t.after(() => hub.remove(viewer));
  return { viewer, sink };
}

test('the hub: one encode per tier and frame however many watch; a moved viewer gets its new tier; main viewers as before', async (t) => {
  const encodes: string[] = [];
  const hub = new Hub({
    encodeTier: (main, spec) => {
      encodes.push(tierKey(spec));
      return encodeTier(main, spec, 80);
    },
  });
  const encoder = new Encoder();
  const viewerOf = (spec: TierSpec): { viewer: Viewer; sink: Sink } => sinkViewer(t, hub, spec);
  const small = { width: 40, quality: null };
  const [a, b, c] = [viewerOf(small), viewerOf(small), viewerOf(small)];
  const main = viewerOf({ width: null, quality: null });
  let shade = 0;
  /** Publishes a frame and waits until each of the four viewers has been written one more. */
  const publish = async (): Promise<void> => {
    shade += 20;
    const image = { width: 160, height: 120, channels: 3 as const, data: Buffer.alloc(160 * 120 * 3, shade) };
    const sinks = [a, b, c, main].map((v) => v.sink);
    const counts = sinks.map((sink) => sink.widths.length);
    hub.publish(await encoder.encode({ kind: 'raw', image }));
    await eventually(() => sinks.every((sink, i) => sink.widths.length > counts[i]), 'every viewer to get the frame');
  };
  for (let i = 0; i < 5; i++) await publish();
  assert.deepEqual(encodes, Array(5).fill('40/main'));
  for (const { sink } of [a, b, c]) assert.deepEqual(sink.widths, [40, 40, 40, 40, 40]);
  assert.deepEqual(main.sink.widths, [160, 160, 160, 160, 160]);

  // Moved: its new tier starts from the newest frame at once, and it gets that tier from then on.
  assert.equal(hub.move(c.viewer, { width: 80, quality: null }), true);
  await publish();
  assert.deepEqual(encodes.slice(5).sort(), ['40/main', '80/main', '80/main']);
  assert.equal(c.sink.widths.at(-1), 80);
  assert.equal(a.sink.widths.at(-1), 40);
  assert.deepEqual(c.viewer.info.tier, { auto: false, width: 80, quality: null });

  // Both others to the main picture: the 40 wide tier stops and costs nothing more.
  hub.move(a.viewer, { width: null, quality: null });
  hub.move(b.viewer, { width: null, quality: null });
  assert.deepEqual(hub.tierStatus().map((tier) => tier.width), [80]);
  const before = encodes.length;
  await publish();
  assert.deepEqual(encodes.slice(before), ['80/main']);
  assert.equal(a.sink.widths.at(-1), 160);
  assert.equal(main.sink.widths.length, 7);

  // No room for a fifth tier: the move is refused and the viewer stays where it was.
  for (const width of [20, 24, 28]) viewerOf({ width, quality: null });
  assert.equal(hub.hasRoomFor({ width: 32, quality: null }), false);
  assert.equal(hub.move(a.viewer, { width: 32, quality: null }), false);
  assert.deepEqual(a.viewer.info.tier, { auto: false, width: null, quality: null });
});

test('a tier that cannot be made is said once, not on every frame; its viewer and the main picture go on', async (t) => {
  const logs: string[] = [];
  let tries = 0;
  const hub = new Hub({
    encodeTier: () => {
      tries++;
      return Promise.reject(new Error('no memory'));
    },
    log: (line) => logs.push(line),
  });
  const { sink } = sinkViewer(t, hub, { width: 40, quality: null });
  const image = { width: 160, height: 120, channels: 3 as const, data: Buffer.alloc(160 * 120 * 3, 50) };
  const frame = await new Encoder().encode({ kind: 'raw', image });
  for (let i = 0; i < 5; i++) {
    hub.publish(frame);
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.ok(tries >= 4, `${tries} tries`);
  assert.deepEqual(logs, ['could not make the 40/main picture: no memory']);
  assert.equal(hub.latest?.seq, 5);
  assert.deepEqual(sink.widths, []);
});
