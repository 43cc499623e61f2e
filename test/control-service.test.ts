import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { CaptureRequest, ControlEvents, Stats } from '../shared/contract.js';
import { ControlService, type WindowPreview } from '../server/control/service.js';
import type { Frame } from '../server/types.js';
import { LINGER_MS } from '../server/pipeline.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { createTestService, eventually } from './helpers/server.js';
import { busyPort, tempDir } from './helpers/fixtures.js';

/** Every event of one kind the service emits from now on. */
function record<E extends keyof ControlEvents>(service: ControlService, event: E): ControlEvents[E][] {
  const seen: ControlEvents[E][] = [];
  service.on(event, ((data: ControlEvents[E]) => seen.push(data)) as never);
  return seen;
}

/** A camera frame as the capture side sends it: RGBA, one flat colour. */
function rgba(width: number, height: number, shade: number): Buffer {
  return Buffer.alloc(width * height * 4, shade);
}

/** Feeds frames while the capture request says to, like the capture worker does. */
function fakeCamera(service: ControlService, t: TestContext): void {
  let shade = 0;
  const timer = setInterval(() => {
    if (service.getState().capture.active) service.acceptFrame({ meta: { format: 'pixels', width: 64, height: 48, channels: 4 }, data: rgba(64, 48, (shade += 10) % 256) });
  }, 30);
  t.after(() => clearInterval(timer));
}

test('start broadcasts on a port with share URLs, key and QR; stop frees it', async (t) => {
  const service = await createTestService(t);
  const state = await service.start();
  assert.equal(state.broadcast.state, 'broadcasting');
  const port = state.broadcast.port!;
  assert.ok(port > 0);
  assert.deepEqual(state.share.urls, [`http://127.0.0.1:${port}/?key=${state.share.key}`]);
  assert.equal(state.share.localUrl, state.share.urls[0]);
  assert.equal(state.share.reach, 'local');
  assert.equal(state.share.qrSvg, '', 'no QR code for a link no phone can open');
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  const lan = await service.updateSettings({ lanAccess: true });
  assert.equal(lan.share.reach, 'network');
  assert.equal(lan.share.localUrl, `http://127.0.0.1:${port}/?key=${state.share.key}`);
  assert.match(lan.share.qrSvg, /^<svg[\s\S]*<\/svg>\s*$/);
  const stopped = await service.stop();
  assert.equal(stopped.broadcast.state, 'stopped');
  assert.deepEqual(stopped.share.urls, []);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
});

test('a busy port is an error state naming a free port to use', async (t) => {
  const busy = await busyPort(t);
  const service = await createTestService(t, { port: busy });
  const state = await service.start();
  assert.equal(state.broadcast.state, 'error');
  assert.equal(state.broadcast.error, `Port ${busy} is in use by another program.`);
  assert.ok(state.broadcast.suggestedPort && state.broadcast.suggestedPort !== busy);
  const fixed = await service.updateSettings({ port: state.broadcast.suggestedPort });
  assert.equal(fixed.settings.port, state.broadcast.suggestedPort);
  assert.equal((await service.start()).broadcast.state, 'broadcasting');
});

test('camera frames reach an HTTP viewer; capture is asked for only while someone watches', async (t) => {
  const service = await createTestService(t);
  const captures = record(service, 'capture');
  fakeCamera(service, t);
  const state = await service.start();
  assert.equal(state.capture.active, false, 'nobody watching: no capture');
  const viewer = await MjpegClient.open(state.share.urls[0].replace('/?', '/stream.mjpg?'));
  const parts = await viewer.waitForParts(3);
  assert.equal(parts[0].headers['content-type'], 'image/jpeg');
  assert.ok(captures.some((c: CaptureRequest) => c.active));
  const row = service.getState().viewers[0];
  assert.equal(row.client, 'unknown client');
  viewer.close();
  await eventually(() => captures.at(-1)?.active === false, 'capture to stop', LINGER_MS + 2000);
});

test('settings apply live: quality and overlays to the encoder, size and interval to the capture side', async (t) => {
  const service = await createTestService(t);
  const captures = record(service, 'capture');
  await service.updateSettings({ intervalMs: 250, width: 640, height: 480 });
  assert.deepEqual(
    { ...captures.at(-1), active: undefined },
    { active: undefined, cameraId: '', cameraLabel: '', width: 640, height: 480, intervalMs: 250, jpegQuality: 80 },
  );
  await assert.rejects(service.updateSettings({ quality: 0 }), /quality must be a whole number from 1 to 100/);
  await assert.rejects(service.updateSettings({ nonsense: true } as never), /unknown setting "nonsense"/);
});

test("capture's JPEG quality: the user's while JPEGs pass through untouched, at least 95 while the core re-encodes them", async (t) => {
  const service = await createTestService(t, { quality: 70 });
  const captures = record(service, 'capture');
  const jpegQuality = (): number => service.getState().capture.jpegQuality;
  assert.equal(jpegQuality(), 70);
  await service.updateSettings({ quality: 60 });
  assert.deepEqual(captures.map((c) => c.jpegQuality), [60], 'a quality change passes on');
  for (const overlay of [{ mirror: true }, { rotate: 90 as const }, { timestamp: true }, { text: 'front door' }]) {
    await service.updateSettings(overlay);
    assert.equal(jpegQuality(), 95, `with ${JSON.stringify(overlay)}`);
    assert.equal(captures.at(-1)?.jpegQuality, 95);
    await service.updateSettings({ mirror: false, rotate: 0, timestamp: false, text: '' });
    assert.equal(captures.at(-1)?.jpegQuality, 60);
  }
  const told = captures.length;
  await service.updateSettings({ mirror: true });
  await service.updateSettings({ quality: 90, text: 'hello' });
  assert.equal(captures.length, told + 1, 'no capture request when re-encoding anyway and only the quality or overlays change');
  assert.equal(jpegQuality(), 95);
  await service.updateSettings({ quality: 98 });
  assert.equal(jpegQuality(), 98, 'never below what the user asked for');
});

test('changing who can connect restarts the server; a new key drops viewers and old links', async (t) => {
  const service = await createTestService(t);
  fakeCamera(service, t);
  const first = await service.start();
  const oldUrl = first.share.urls[0];
  const viewer = await MjpegClient.open(oldUrl.replace('/?', '/stream.mjpg?'));
  await viewer.waitForParts(1);
  const renewed = await service.newKey();
  assert.notEqual(renewed.share.key, first.share.key);
  await viewer.waitForEnd();
  const base = `http://127.0.0.1:${renewed.broadcast.port}`;
  // The restart (on the same port) closed the idle connection fetch keeps; like a browser, try again once on a new one.
  const status = (url: string): Promise<number> => fetch(url).catch(() => fetch(url)).then((res) => res.status);
  assert.equal(await status(`${base}/status.json?key=${first.share.key}`), 401);
  assert.equal(await status(`${base}/status.json?key=${renewed.share.key}`), 200);

  const open = await service.updateSettings({ openAccess: true });
  assert.equal(open.broadcast.state, 'broadcasting');
  assert.equal(await status(`http://127.0.0.1:${open.broadcast.port}/status.json`), 200);
  assert.doesNotMatch(open.share.urls[0], /key=/);
});

test('with port 0, a new key or a server setting keeps the port that was picked (it moved to a new one, unprinted, before)', async (t) => {
  const service = await createTestService(t);
  const first = (await service.start()).broadcast.port;
  assert.ok(first && first > 0);
  assert.equal((await service.newKey()).broadcast.port, first);
  assert.equal((await service.updateSettings({ maxViewers: 5 })).broadcast.port, first);
  assert.equal((await service.updateSettings({ openAccess: true })).broadcast.port, first);
  await service.stop();
  assert.equal((await service.start()).broadcast.port, first, 'and across stop and start');

  // Taken meanwhile: another free port, said in the state's links.
  await service.stop();
  const squatter = createServer();
  await new Promise<void>((r) => squatter.listen(first, '127.0.0.1', r));
  t.after(() => squatter.close());
  const moved = await service.start();
  assert.equal(moved.broadcast.state, 'broadcasting');
  assert.notEqual(moved.broadcast.port, first);
  assert.match(moved.share.urls[0], new RegExp(`:${moved.broadcast.port}/`));
});

test('kick ends one viewer; an unknown viewer is an error', async (t) => {
  const service = await createTestService(t);
  fakeCamera(service, t);
  const state = await service.start();
  const viewer = await MjpegClient.open(state.share.urls[0].replace('/?', '/stream.mjpg?'));
  await viewer.waitForParts(1);
  const [row] = service.getState().viewers;
  assert.equal(service.kick(row.id).viewers.length >= 0, true);
  await viewer.waitForEnd();
  assert.throws(() => service.kick(9999), /no viewer 9999 is connected/);
});

/** A window's preview that keeps what it gets; behind while `behind` says so. */
function previewWindow(service: ControlService, behind = (): boolean => false): { frames: Frame[]; preview: WindowPreview } {
  const frames: Frame[] = [];
  const preview = service.openPreview({ send: (frame) => frames.push(frame), behindMs: () => (behind() ? 20 : 0) });
  return { frames, preview };
}

test('the preview gets what viewers get, at most 10 frames a second, without broadcasting', async (t) => {
  const service = await createTestService(t, { mirror: true });
  const { frames: previews, preview } = previewWindow(service);
  fakeCamera(service, t);
  preview.setPreview(true);
  await eventually(() => previews.length >= 5, 'preview frames');
  const started = performance.now();
  const count = previews.length;
  await new Promise((r) => setTimeout(r, 1000));
  const rate = (previews.length - count) / ((performance.now() - started) / 1000);
  assert.ok(rate <= 11, `preview at ${rate.toFixed(1)} fps`);
  const frame = previews.at(-1) as Frame;
  assert.deepEqual([frame.width, frame.height, frame.jpeg[0], frame.jpeg[1]], [64, 48, 0xff, 0xd8]);
  assert.equal(service.getState().broadcast.state, 'stopped');
  preview.setPreview(false);
  const stopped = previews.length;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(previews.length, stopped, 'no frames once the preview is off');
});

test('the preview is no viewer: not listed, not in /status.json, not counted against the viewer limit', async (t) => {
  const service = await createTestService(t, { maxViewers: 1 });
  const { frames: previews, preview } = previewWindow(service);
  fakeCamera(service, t);
  preview.setPreview(true);
  const state = await service.start();
  await eventually(() => previews.length > 0, 'a preview frame');
  assert.deepEqual(service.getState().viewers, []);
  const viewer = await MjpegClient.open(state.share.urls[0].replace('/?', '/stream.mjpg?'));
  t.after(() => viewer.close());
  await viewer.waitForParts(1);
  const status = (await (await fetch(state.share.urls[0].replace('/?', '/status.json?'))).json()) as { viewers: number };
  assert.equal(status.viewers, 1);
  assert.equal(service.getState().viewers.length, 1);
});

test('a preview that is behind skips to the newest frame once it catches up, and the last one arrives', async (t) => {
  const service = await createTestService(t);
  let behind = false;
  const { frames: previews, preview } = previewWindow(service, () => behind);
  preview.setPreview(true);
  const frame = async (shade: number): Promise<void> => {
    const seq = service.hub.latest?.seq ?? 0;
    service.acceptFrame({ meta: { format: 'pixels', width: 64, height: 48, channels: 4 }, data: rgba(64, 48, shade) });
    await eventually(() => (service.hub.latest?.seq ?? 0) > seq, 'the frame to be encoded');
  };
  await frame(0);
  await eventually(() => previews.length === 1, 'the first preview frame');
  behind = true;
  for (const shade of [50, 100, 150]) await frame(shade);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(previews.length, 1, 'nothing goes while the window is behind');
  behind = false;
  await eventually(() => previews.length > 1, 'the newest frame once the window catches up');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(previews.length, 2, 'one frame, not the ones skipped');
  assert.equal(previews[1]?.seq, service.hub.latest?.seq);
});

test('stats every second: capture rate, encode time, outgoing data', async (t) => {
  const service = await createTestService(t);
  const stats = record(service, 'stats');
  fakeCamera(service, t);
  const state = await service.start();
  const viewer = await MjpegClient.open(state.share.urls[0].replace('/?', '/stream.mjpg?'));
  t.after(() => viewer.close());
  await eventually(() => stats.filter((s: Stats) => s.captureFps > 0).length >= 2, 'two busy seconds', 6000);
  const last = stats.at(-1) as Stats;
  assert.ok(last.captureFps > 10 && last.captureFps < 50, `capture ${last.captureFps} fps`);
  assert.ok(last.encodeMs > 0);
  assert.ok(last.outKBps > 0);
  assert.ok(service.getState().viewers[0].fps > 5);
});

test('a camera fault shows viewers a "camera unavailable" picture and the reason in the state', async (t) => {
  const service = await createTestService(t);
  const state = await service.start();
  const viewer = await MjpegClient.open(state.share.urls[0].replace('/?', '/stream.mjpg?'));
  t.after(() => viewer.close());
  service.reportCamera({ state: 'error', fault: 'unplugged', message: 'The camera was unplugged' });
  await viewer.waitForParts(1);
  const after = service.getState();
  assert.equal(after.source.state, 'error');
  assert.equal(after.source.error, 'The camera was unplugged');
  const status = (await (await fetch(state.share.urls[0].replace('/?', '/status.json?'))).json()) as { source: { error: string } };
  assert.equal(status.source.error, 'The camera was unplugged');
});

test('a pattern source is made again when its size or interval changes; a camera report is refused for it', async (t) => {
  const dir = tempDir(t, 'service');
  const service = await ControlService.create({
    source: { kind: 'pattern' },
    settingsFile: null,
    overrides: { port: 0, lanAccess: false, width: 160, height: 120, intervalMs: 50 },
    configDir: dir,
    captureInWindow: false,
    log: () => {},
  });
  t.after(() => service.close());
  const state = await service.start();
  assert.equal(state.source.kind, 'pattern');
  assert.equal(state.camera, null);
  assert.equal(state.captureInWindow, false);
  const viewer = await MjpegClient.open(state.share.urls[0].replace('/?', '/stream.mjpg?'));
  t.after(() => viewer.close());
  await eventually(() => service.hub.latest?.width === 160, 'a 160x120 frame');
  await service.updateSettings({ width: 320, height: 240 });
  await eventually(() => service.hub.latest?.width === 320 && service.hub.latest.height === 240, 'a 320x240 frame');
  assert.throws(() => service.reportCamera({ state: 'idle' }), /^Error: this PushCam serves the test pattern, not a camera$/);
});
