// What a viewer sees in real Chromium: how fast a new picture reaches the screen, what happens to
// a source that goes quiet, and how the viewer page copes with a blocked or frozen stream and a
// hidden tab.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Page, Request as PageRequest, Route } from 'playwright-core';
import sharp from 'sharp';
import { FileSource } from '../server/source/file.js';
import { PatternSource } from '../server/source/pattern.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { browserFor, near, newPage, sampleOf, setPageHidden, waitForColor } from './helpers/chromium.js';
import { BLUE, GREEN, pictureFile, RED, replacePicture } from './helpers/pictures.js';
import { eventually, startTestServer, type TestServer } from './helpers/server.js';

const STREAM = '[data-testid="stream"]';
const SNAPSHOTS = 'Slow connection: showing snapshots';

async function viewerPage(t: TestContext, server: TestServer): Promise<Page> {
  const page = await newPage(await browserFor(t));
  // Not 'load': a stream that never delivers a picture would hold the page's load event forever.
  await page.goto(server.url('/'), { waitUntil: 'domcontentloaded' });
  return page;
}

function modeOf(page: Page): Promise<string | null> {
  return page.getByTestId('mode').textContent();
}

async function waitForMode(page: Page, mode: string, timeoutMs: number): Promise<number> {
  const started = performance.now();
  try {
    await eventually(async () => (await modeOf(page)) === mode, `mode "${mode}"`, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; it is "${await modeOf(page)}"`);
  }
  return performance.now() - started;
}

async function viewersOf(server: TestServer): Promise<number> {
  const status = (await (await fetch(server.url('/status.json'))).json()) as { viewers: number };
  return status.viewers;
}

async function newestSeq(server: TestServer): Promise<number> {
  const status = (await (await fetch(server.url('/status.json'))).json()) as { frame: { seq: number } | null };
  return status.frame?.seq ?? 0;
}

/** Whether the picture changes within `ms`: a moving test pattern must. */
async function pictureMoves(page: Page, ms: number): Promise<boolean> {
  const before = JSON.stringify(await sampleOf(page, STREAM));
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await sampleOf(page, STREAM);
    if (now && JSON.stringify(now) !== before) return true;
  }
  return false;
}

/** Records the page's snapshot requests, with the status and X-Frame-Seq of those answered. */
function recordSnapshots(page: Page): { url: string; status?: number; seq?: number }[] {
  const snapshots: { url: string; status?: number; seq?: number }[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/snapshot.jpg') snapshots.push({ url: request.url() });
  });
  page.on('response', (response) => {
    const entry = snapshots.find((s) => s.url === response.url() && s.status === undefined);
    if (!entry) return;
    entry.status = response.status();
    entry.seq = Number(response.headers()['x-frame-seq']);
  });
  return snapshots;
}

/** Fallback mode must keep the picture going, one request per frame, never blindly. */
async function assertLongPolling(t: TestContext, page: Page, server: TestServer, snapshots: ReturnType<typeof recordSnapshots>): Promise<void> {
  const firstSeq = await newestSeq(server);
  const requestsBefore = snapshots.length;
  const seqsShown = new Set<string>();
  const watchUntil = performance.now() + 4000;
  while (performance.now() < watchUntil) {
    const seq = await page.getByTestId('stream').getAttribute('data-seq');
    if (seq) seqsShown.add(seq);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const published = (await newestSeq(server)) - firstSeq;
  const requests = snapshots.length - requestsBefore;
  t.diagnostic(`in 4 s: ${published} frames published, ${requests} snapshot requests, ${seqsShown.size} frames shown`);

  assert.ok(seqsShown.size >= 4, `only ${seqsShown.size} different frames were shown in 4 s`);
  assert.match((await page.getByTestId('stream').getAttribute('src')) ?? '', /^blob:/);
  assert.ok(await pictureMoves(page, 1500), 'the fallback picture does not move');
  // Long-polling asks once per frame: never for a frame it has, never faster than frames come.
  assert.ok(requests <= published + 2, `${requests} snapshot requests for ${published} frames`);
  const answered = snapshots.filter((s) => s.status === 200).map((s) => s.seq ?? 0);
  assert.deepEqual(answered, [...new Set(answered)].sort((a, b) => a - b), 'a snapshot came twice or out of order');
}

test('a replaced file is on screen within the poll interval plus a little', async (t) => {
  const path = await pictureFile(t, RED);
  const intervalMs = 200;
  const server = await startTestServer(t, { source: new FileSource({ path, intervalMs, log: () => undefined }) });
  const page = await viewerPage(t, server);
  await waitForColor(page, STREAM, RED, 5000);

  const started = await replacePicture(path, BLUE);
  await waitForColor(page, STREAM, BLUE, 5000);
  const took = performance.now() - started;
  t.diagnostic(`blue on screen ${took.toFixed(0)} ms after the rename (poll interval ${intervalMs} ms)`);
  assert.ok(took < intervalMs + 700, `the new picture took ${took.toFixed(0)} ms to show`);

  // The canvas reads what the <img> holds; the screenshot confirms it is what is painted.
  const shot = sharp(await page.locator(STREAM).screenshot());
  const { width = 0, height = 0 } = await shot.metadata();
  const centre = await shot.extract({ left: width >> 1, top: height >> 1, width: 1, height: 1 }).raw().toBuffer();
  assert.ok(near([centre[0], centre[1], centre[2]], BLUE), `the screenshot shows rgb(${[...centre].join(', ')})`);
});

test('a source that goes quiet after one frame has it shown at once; the plain layout shows it a frame late', async (t) => {
  const path = await pictureFile(t, GREEN);
  const server = await startTestServer(t, { source: new FileSource({ path, intervalMs: 200, log: () => undefined }) });
  const page = await newPage(await browserFor(t));
  // A blank page of the server's origin (the canvas may read same-origin pictures only), made
  // here: every page PushCam serves has a CSP, and /healthz's lets it load no picture.
  await page.route(server.bare('/blank'), (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>blank</title>' }));
  await page.goto(server.bare('/blank'));
  const shownAfter = await page.evaluate(
    async ([advanceUrl, plainUrl]) => {
      const shown: Record<string, number | null> = { advance: null, plain: null };
      const imgs = { advance: new Image(), plain: new Image() };
      const canvas = document.createElement('canvas');
      canvas.width = 1;
      canvas.height = 1;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      if (!context) throw new Error('no canvas');
      const started = performance.now();
      imgs.advance.src = advanceUrl;
      imgs.plain.src = plainUrl;
      while (performance.now() - started < 3000) {
        for (const name of ['advance', 'plain'] as const) {
          const img = imgs[name];
          if (shown[name] !== null || !img.complete || img.naturalWidth === 0) continue;
          context.drawImage(img, 0, 0, 1, 1);
          if (context.getImageData(0, 0, 1, 1).data[1] > 150) shown[name] = performance.now() - started;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      imgs.advance.removeAttribute('src');
      imgs.plain.removeAttribute('src');
      return shown;
    },
    [server.url('/stream.mjpg'), server.url('/stream.mjpg?compat=plain')] as const,
  );
  t.diagnostic(`advance headers: shown after ${shownAfter.advance?.toFixed(0)} ms; plain: ${shownAfter.plain === null ? 'not within 3 s' : `${shownAfter.plain.toFixed(0)} ms`}`);
  assert.notEqual(shownAfter.advance, null, 'the advance-headers stream never showed its only frame');
  assert.ok((shownAfter.advance ?? Infinity) < 1000, `the only frame took ${shownAfter.advance} ms to show`);
  // The contrast proves the measurement can fail: Chromium holds a part until the next begins.
  assert.equal(shownAfter.plain, null, 'the plain layout showed its only frame without a next part');
});

test('a still picture is not taken for a stalled stream', async (t) => {
  const path = await pictureFile(t, GREEN);
  const server = await startTestServer(t, { source: new FileSource({ path, intervalMs: 200, log: () => undefined }) });
  const page = await viewerPage(t, server);
  const snapshots = recordSnapshots(page);
  await waitForColor(page, STREAM, GREEN, 5000);
  // Long enough for the watchdog to look twice after its 4 s, and for the server's keep-alive repeat.
  const modes = new Set<string | null>();
  const until = performance.now() + 8000;
  while (performance.now() < until) {
    modes.add(await modeOf(page));
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.deepEqual([...modes], ['Live']);
  assert.equal(snapshots.length, 0, 'the page fetched snapshots although no frame was missed');
});

const blockers: [string, (route: Route) => Promise<void> | void, number][] = [
  ['refused', (route) => route.abort('connectionrefused'), 4000],
  // Never answered, as behind a proxy that buffers the endless response: only the watchdog can tell.
  ['left hanging', () => undefined, 12_000],
];

for (const [how, block, fallbackWithinMs] of blockers) {
  test(`the viewer page falls back to long-polling snapshots when the stream is ${how}`, async (t) => {
    const server = await startTestServer(t, { source: new PatternSource({ width: 320, height: 180, intervalMs: 500 }) });
    const page = await newPage(await browserFor(t));
    await page.route('**/stream.mjpg*', block);
    const snapshots = recordSnapshots(page);
    await page.goto(server.url('/'), { waitUntil: 'domcontentloaded' });
    const took = await waitForMode(page, SNAPSHOTS, fallbackWithinMs);
    t.diagnostic(`fallback mode after ${took.toFixed(0)} ms`);
    await assertLongPolling(t, page, server, snapshots);
  });
}

test('showing snapshots, the page tries the stream again now and then, and goes live when it gets through', async (t) => {
  const server = await startTestServer(t, { source: new PatternSource({ width: 320, height: 180, intervalMs: 200 }) });
  const page = await newPage(await browserFor(t));
  // Playwright's clock moves the page's timers and performance.now(), not the server's.
  await page.clock.install();
  await page.route('**/stream.mjpg*', (route) => route.abort('connectionrefused'));
  await page.goto(server.url('/'), { waitUntil: 'domcontentloaded' });
  await waitForMode(page, SNAPSHOTS, 6000);
  const streams: string[] = [];
  page.on('request', (r) => new URL(r.url()).pathname === '/stream.mjpg' && streams.push(r.url()));
  await page.clock.fastForward('00:20');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.deepEqual(streams, [], 'the stream was tried again within 20 s');

  // Still blocked at the first try (30 s): snapshots go on.
  await page.clock.fastForward('00:11');
  await eventually(() => streams.length > 0, 'a try of the stream');
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(await modeOf(page), SNAPSHOTS);

  // The way is clear at the next one (a minute later).
  await page.unroute('**/stream.mjpg*');
  await page.clock.fastForward('01:01');
  await waitForMode(page, 'Live', 5000);
  assert.ok(await pictureMoves(page, 2000), 'the picture does not move after going live again');
  assert.deepEqual(
    server.hub.viewerList().map((v) => v.via),
    ['stream'],
  );
});

test('the viewer page falls back when its stream freezes while the server keeps publishing', async (t) => {
  const server = await startTestServer(t, { source: new PatternSource({ width: 320, height: 180, intervalMs: 500 }) });
  // Another viewer keeps the source running, so status.json shows frames this page does not get.
  const other = await MjpegClient.open(server.url('/stream.mjpg'));
  t.after(() => other.close());
  const jpeg = Buffer.from(await (await fetch(server.url('/snapshot.jpg'))).arrayBuffer());
  const page = await newPage(await browserFor(t));
  // One frame, then nothing: the stream ends quietly, which Chromium reports with no event at all.
  await page.route('**/stream.mjpg*', (route) =>
    route.fulfill({
      contentType: 'multipart/x-mixed-replace;boundary=frozen',
      body: Buffer.concat([Buffer.from('--frozen\r\nContent-Type: image/jpeg\r\n\r\n'), jpeg, Buffer.from('\r\n--frozen\r\nContent-Type: image/jpeg\r\n\r\n')]),
    }),
  );
  const snapshots = recordSnapshots(page);
  await page.goto(server.url('/'), { waitUntil: 'domcontentloaded' });
  await waitForMode(page, 'Live', 3000);
  const took = await waitForMode(page, SNAPSHOTS, 12_000);
  t.diagnostic(`fallback mode ${took.toFixed(0)} ms after the frozen stream went live`);
  assert.ok(took > 3000, `the watchdog gave up on the stream after only ${took.toFixed(0)} ms`);
  await assertLongPolling(t, page, server, snapshots);
});

test('a hidden tab lets go of the stream and takes it again when shown', async (t) => {
  const server = await startTestServer(t, { source: new PatternSource({ width: 320, height: 180, intervalMs: 100 }) });
  const page = await viewerPage(t, server);
  await waitForMode(page, 'Live', 5000);
  await eventually(async () => (await viewersOf(server)) === 1, 'the page to be a viewer');

  await setPageHidden(page, true);
  const started = performance.now();
  await eventually(async () => (await viewersOf(server)) === 0, 'the hidden page to let go of the stream', 2000);
  t.diagnostic(`stream released ${(performance.now() - started).toFixed(0)} ms after hiding`);
  const requests: string[] = [];
  const record = (request: PageRequest): void => void requests.push(request.url());
  page.on('request', record);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  page.off('request', record);
  assert.deepEqual(requests, [], 'the hidden page kept making requests');

  await setPageHidden(page, false);
  await eventually(async () => (await viewersOf(server)) === 1, 'the shown page to take the stream again', 3000);
  await waitForMode(page, 'Live', 3000);
  assert.ok(await pictureMoves(page, 2000), 'the picture does not move after the page is shown again');
});
