// The viewer page as a person uses it, in real Chromium against the real server: it loads under
// its strict CSP, its controls work by mouse and keyboard, and it explains a missing key.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { PatternSource } from '../server/source/pattern.js';
import { browserFor, newPage } from './helpers/chromium.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually, startTestServer, type TestServer } from './helpers/server.js';

const KEY_MESSAGE = 'This PushCam needs its access key: open the full link you were given.';

async function pagePlaying(t: TestContext, o: { intervalMs?: number } = {}): Promise<{ server: TestServer; page: Page; problems: string[] }> {
  const server = await startTestServer(t, {
    source: new PatternSource({ width: 320, height: 180, intervalMs: o.intervalMs ?? 100 }),
  });
  const page = await newPage(await browserFor(t));
  // Console errors include CSP violations and failed requests; uncaught exceptions come as pageerror.
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(server.url('/'), { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'mode', 'live');
  return { server, page, problems };
}

async function waitForText(page: Page, testId: string, text: string | RegExp, timeoutMs = 5000): Promise<string> {
  let seen = '';
  const matches = (): boolean => (typeof text === 'string' ? seen === text : text.test(seen));
  try {
    await eventually(
      async () => {
        seen = (await page.getByTestId(testId).textContent()) ?? '';
        return matches();
      },
      `${testId} to read ${String(text)}`,
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; it reads "${seen}"`);
  }
  return seen;
}

test('the page loads under its CSP without errors and fills the window with the picture', async (t) => {
  const { page, problems } = await pagePlaying(t);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  assert.deepEqual(problems, []);
  const box = await page.getByTestId('stream').boundingBox();
  assert.deepEqual(box, { x: 0, y: 0, width: 960, height: 600 });
  const style = await page.getByTestId('stream').evaluate((img) => getComputedStyle(img).objectFit);
  assert.equal(style, 'contain');
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(background, 'rgb(0, 0, 0)');
});

test('the controls have names and are reachable by keyboard', async (t) => {
  const { page } = await pagePlaying(t);
  assert.equal(await page.getByRole('button', { name: 'Full screen' }).count(), 1);
  assert.equal(await page.getByRole('link', { name: 'Snapshot' }).count(), 1);
  assert.equal(await page.getByTestId('resume').isVisible(), false, 'Resume shows while the stream plays');
  const reached: string[] = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    reached.push(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? ''));
  }
  assert.ok(reached.includes('snapshot') && reached.includes('fullscreen'), `Tab reached ${reached.join(', ')}`);
});

test('the full-screen button enters and leaves full screen', async (t) => {
  const { page } = await pagePlaying(t);
  const button = page.getByTestId('fullscreen');
  await button.click();
  await eventually(() => page.evaluate(() => document.fullscreenElement !== null), 'full screen');
  assert.equal(await button.textContent(), 'Exit full screen');
  await button.click();
  await eventually(() => page.evaluate(() => document.fullscreenElement === null), 'leaving full screen');
  assert.equal(await button.textContent(), 'Full screen');
});

test('the snapshot button downloads the newest frame as pushcam-YYYYMMDD-HHMMSS.jpg', async (t) => {
  const { page } = await pagePlaying(t);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('snapshot').click()]);
  assert.match(download.suggestedFilename(), /^pushcam-\d{8}-\d{6}\.jpg$/);
  const jpeg = await readFile(await download.path());
  assert.ok(jpeg.length > 1000 && jpeg[0] === 0xff && jpeg[1] === 0xd8, 'the download is not a JPEG');
});

test('the live line shows the viewers and the frame rate', async (t) => {
  const { page } = await pagePlaying(t, { intervalMs: 100 });
  const line = await waitForText(page, 'live-line', /fps/, 7000);
  const match = /^1 viewer · ([\d.]+) fps · 320×180$/.exec(line);
  assert.ok(match, `the live line reads "${line}"`);
  const fps = Number(match[1]);
  assert.ok(fps > 5 && fps < 15, `${fps} fps from a 10 fps source`);
});

test('without its key the page says how to get one; with ?key it plays and keeps the key', async (t) => {
  const server = await startTestServer(t);
  const page = await newPage(await browserFor(t));
  await page.goto(server.bare('/'), { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'message', KEY_MESSAGE);
  assert.equal(await page.getByTestId('message').isVisible(), true);
  assert.equal(await page.getByTestId('stream').count(), 0, 'without the key, no viewer page and no stream');

  await page.goto(server.url('/'), { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'mode', 'live');
  assert.equal(await page.getByTestId('message').isVisible(), false);
  const src = (await page.getByTestId('stream').getAttribute('src')) ?? '';
  assert.equal(new URL(src, server.bare('/')).searchParams.get('key'), server.key);
});

test('a kicked viewer is told so and does not work around it with snapshots', async (t) => {
  const { server, page } = await pagePlaying(t);
  const snapshots: string[] = [];
  page.on('request', (r) => r.url().includes('snapshot.jpg') && snapshots.push(r.url()));
  await eventually(() => server.hub.viewerCount === 1, 'the page to be a viewer');
  server.hub.kick(server.hub.viewerList()[0].id);
  await waitForText(page, 'mode', 'disconnected', 12_000);
  await waitForText(page, 'message', /The broadcaster disconnected you/);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(server.hub.viewerCount, 0);
  assert.deepEqual(snapshots, [], 'no fallback polling after a kick');
});

test('a full server: the page waits and comes in when a place frees up, without snapshot polling', async (t) => {
  const server = await startTestServer(t, { maxClients: 1, source: new PatternSource({ width: 320, height: 180, intervalMs: 100 }) });
  const occupant = await MjpegClient.open(server.url('/stream.mjpg'));
  const page = await newPage(await browserFor(t));
  const snapshots: string[] = [];
  page.on('request', (r) => r.url().includes('snapshot.jpg') && snapshots.push(r.url()));
  await page.goto(server.url('/'), { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'mode', 'waiting', 8000);
  await waitForText(page, 'message', /as many viewers as it allows/);
  assert.deepEqual(snapshots, []);
  occupant.close();
  await waitForText(page, 'mode', 'live', 15_000);
});
