// The viewer page as a person uses it, in real Chromium against the real server: it loads under
// its strict CSP, its controls work by mouse and keyboard, and every state it shows is true: live,
// a restart, a stream that a proxy holds up (and only then snapshots), a kick, a stop, a full
// server, a missing or wrong key, the camera's name.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { PatternSource } from '../server/source/pattern.js';
import { browserFor, newPage } from './helpers/chromium.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually, startTestServer, startTestService, TEST_KEY, type TestServer } from './helpers/server.js';

const SNAPSHOTS = 'Slow connection: showing snapshots';

const pattern = (): PatternSource => new PatternSource({ width: 320, height: 180, intervalMs: 100 });

/** A page that records every badge it shows, from its first paint on. */
async function recordingPage(browser: Browser, colorScheme: 'dark' | 'light' = 'dark'): Promise<Page> {
  const page = await newPage(browser, { colorScheme });
  await page.addInitScript(`
    globalThis.__badges = [];
    new MutationObserver(() => {
      const badge = document.querySelector('[data-testid="mode"]')?.textContent;
      if (badge && globalThis.__badges.at(-1) !== badge) globalThis.__badges.push(badge);
    }).observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
  `);
  return page;
}

function badgesOf(page: Page): Promise<string[]> {
  return page.evaluate('globalThis.__badges');
}

async function pagePlaying(t: TestContext, server?: TestServer): Promise<{ server: TestServer; page: Page; problems: string[] }> {
  server ??= await startTestServer(t, { source: pattern() });
  const page = await recordingPage(await browserFor(t));
  // Console errors include CSP violations and failed requests; uncaught exceptions come as pageerror.
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(server.url('/'), { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'mode', 'Live');
  return { server, page, problems };
}

async function waitForText(page: Page, testId: string, text: string | RegExp, timeoutMs = 5000): Promise<number> {
  const started = performance.now();
  let seen = '';
  const matches = (): boolean => (typeof text === 'string' ? seen === text : text.test(seen));
  try {
    await eventually(
      async () => {
        seen = (await page.getByTestId(testId).first().textContent()) ?? '';
        return matches();
      },
      `${testId} to read ${String(text)}`,
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; it reads "${seen}"`);
  }
  return performance.now() - started;
}

async function pictureMoves(page: Page, ms = 2000): Promise<boolean> {
  return page.evaluate(async (ms) => {
    const img = document.querySelector('[data-testid="stream"]') as HTMLImageElement;
    const sample = async (): Promise<string | null> => {
      if (!img.complete || img.naturalWidth === 0) return null;
      const bitmap = await createImageBitmap(img);
      const canvas = document.createElement('canvas');
      canvas.width = 16;
      canvas.height = 16;
      const context = canvas.getContext('2d') as CanvasRenderingContext2D;
      context.drawImage(bitmap, 0, 0, 16, 16);
      return Array.from(context.getImageData(0, 0, 16, 16).data).join();
    };
    const before = await sample();
    const deadline = performance.now() + ms;
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const now = await sample();
      if (now !== null && now !== before) return true;
    }
    return false;
  }, ms);
}

function snapshotRequests(page: Page): string[] {
  const seen: string[] = [];
  page.on('request', (r) => new URL(r.url()).pathname === '/snapshot.jpg' && seen.push(r.url()));
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
  assert.equal(await page.getByTestId('message').isVisible(), false);
});

test('the controls have names and are reachable by keyboard', async (t) => {
  const { page } = await pagePlaying(t);
  assert.equal(await page.getByRole('button', { name: 'Full screen' }).count(), 1);
  assert.equal(await page.getByRole('link', { name: 'Snapshot' }).count(), 1);
  assert.equal(await page.getByTestId('watch-again').isVisible(), false, '"Watch again" shows while the stream plays');
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
  // The label follows 'fullscreenchange', which fires in the next rendering step after
  // fullscreenElement changes: on a busy machine a check in between reads the old label.
  await waitForText(page, 'fullscreen', 'Exit full screen');
  await button.click();
  await eventually(() => page.evaluate(() => document.fullscreenElement === null), 'leaving full screen');
  await waitForText(page, 'fullscreen', 'Full screen');
});

test('the snapshot button downloads the newest frame as pushcam-YYYYMMDD-HHMMSS.jpg', async (t) => {
  const { page } = await pagePlaying(t);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('snapshot').click()]);
  assert.match(download.suggestedFilename(), /^pushcam-\d{8}-\d{6}\.jpg$/);
  const jpeg = await readFile(await download.path());
  assert.ok(jpeg.length > 1000 && jpeg[0] === 0xff && jpeg[1] === 0xd8, 'the download is not a JPEG');
});

test('the live line shows the viewers and the frame rate', async (t) => {
  const { server, page } = await pagePlaying(t);
  await waitForText(page, 'live-line', /fps/, 7000);
  // The rate the server really publishes (on a busy machine a 10 fps pattern makes fewer).
  const before = { seq: server.hub.latest?.seq ?? 0, at: performance.now() };
  await new Promise((resolve) => setTimeout(resolve, 4000));
  const published = (((server.hub.latest?.seq ?? 0) - before.seq) * 1000) / (performance.now() - before.at);
  const line = (await page.getByTestId('live-line').textContent()) ?? '';
  const match = /^1 viewer · ([\d.]+) fps · 320×180$/.exec(line);
  assert.ok(match, `the live line reads "${line}"`);
  const fps = Number(match[1]);
  t.diagnostic(`the line says ${fps} fps; the server published ${published.toFixed(1)} fps`);
  assert.ok(fps <= 11, `${fps} fps from a 10 fps source`);
  assert.ok(fps > published / 2 && fps < published * 2, `the line says ${fps} fps; the server published ${published.toFixed(1)} fps`);
});

test('the page is titled with the camera name, and follows a rename', async (t) => {
  let name = 'Front door <3';
  const server = await startTestServer(t, { source: pattern(), name: () => name });
  const { page } = await pagePlaying(t, server);
  assert.equal(await page.title(), 'Front door <3');
  name = 'Garden';
  await eventually(async () => (await page.title()) === 'Garden', 'the new name as the title', 5000);
  name = '';
  await eventually(async () => (await page.title()) === 'PushCam', 'no name: "PushCam"', 5000);
});

test('a kicked viewer is told at once while others watch, and does not work around it with snapshots', async (t) => {
  const { server, page } = await pagePlaying(t);
  const other = await MjpegClient.open(server.url('/stream.mjpg'), { 'user-agent': 'someone-else' });
  t.after(() => other.close());
  const snapshots = snapshotRequests(page);
  await eventually(() => server.hub.viewerCount === 2, 'both to be viewers');
  const me = server.hub.viewerList().find((v) => v.userAgent !== 'someone-else');
  assert.ok(me);
  server.hub.kick(me.id);
  const took = await waitForText(page, 'mode', 'Disconnected', 2000);
  t.diagnostic(`"Disconnected" ${took.toFixed(0)} ms after the kick`);
  assert.ok(took < 1000, `the kicked page was told after ${took.toFixed(0)} ms`);
  assert.equal(await page.getByTestId('message').textContent(), 'The broadcaster disconnected you.');
  assert.equal(await page.getByTestId('live-line').textContent(), '', 'figures stayed up after the kick');
  assert.equal(await page.getByTestId('watch-again').isVisible(), true);

  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual(snapshots, [], 'the kicked page polled snapshots');
  assert.equal(await page.getByTestId('mode').textContent(), 'Disconnected', 'the kicked page did not stay told');
  // Still refused for now: asking again says so again.
  await page.getByTestId('watch-again').click();
  await waitForText(page, 'mode', 'Disconnected', 5000);
  assert.deepEqual(server.hub.viewerList().map((v) => v.userAgent), ['someone-else']);
  assert.ok(!(await badgesOf(page)).includes(SNAPSHOTS));
});

test('a stopped broadcast says so, with no figures; the page is live again when the broadcast is back on the same port', async (t) => {
  const { server: first, page } = await pagePlaying(t);
  await waitForText(page, 'live-line', /fps/, 7000);
  await first.close();
  const took = await waitForText(page, 'mode', 'Stopped', 2000);
  t.diagnostic(`"Stopped" ${took.toFixed(0)} ms after the stop`);
  assert.equal(await page.getByTestId('message').textContent(), 'The broadcaster stopped broadcasting. The picture comes back when the broadcast starts again.');
  assert.equal(await page.getByTestId('live-line').textContent(), '');

  await new Promise((resolve) => setTimeout(resolve, 3000));
  assert.equal(await page.getByTestId('mode').textContent(), 'Stopped', 'a stopped broadcast turned into something else');
  const second = await startTestServer(t, { source: pattern(), port: first.port });
  const back = await waitForText(page, 'mode', 'Live', 5000);
  t.diagnostic(`live again ${back.toFixed(0)} ms after the server came back`);
  assert.ok(await pictureMoves(page), 'the picture does not move after the broadcast is back');
  assert.equal(second.hub.viewerCount, 1);
  assert.deepEqual(await badgesOf(page), ['Connecting…', 'Live', 'Stopped', 'Connecting…', 'Live']);
});

test('a server setting that restarts the server: "Reconnecting…", back live in a few seconds, never snapshots', async (t) => {
  const service = await startTestService(t);
  const page = await recordingPage(await browserFor(t));
  await page.goto(service.getState().share.urls[0], { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'mode', 'Live');
  const started = performance.now();
  await service.updateSettings({ maxViewers: 5 });
  await waitForText(page, 'mode', 'Live', 5000);
  await eventually(() => pictureMoves(page, 500), 'the picture to move again', 5000);
  t.diagnostic(`live and moving ${(performance.now() - started).toFixed(0)} ms after the restart began`);
  await new Promise((resolve) => setTimeout(resolve, 4000));
  assert.equal(await page.getByTestId('mode').textContent(), 'Live');
  assert.deepEqual(await badgesOf(page), ['Connecting…', 'Live', 'Reconnecting…', 'Connecting…', 'Live']);
  assert.equal(service.getState().viewers.length, 1);
});

test('after a new key the page asks for it, and a pasted new link (spaces and all) plays', async (t) => {
  const service = await startTestService(t);
  const page = await recordingPage(await browserFor(t));
  await page.goto(service.getState().share.urls[0], { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'mode', 'Live');
  const renewed = await service.newKey();
  await waitForText(page, 'message', /That access key is not right, or no longer/, 8000);
  const field = page.getByTestId('key-field');
  assert.equal(await field.evaluate((input) => input === document.activeElement), true, 'the key field has no focus');
  await field.fill(`  ${renewed.share.urls[0]}  `);
  await page.getByTestId('key-submit').click();
  await waitForText(page, 'mode', 'Live', 8000);
  assert.equal(new URL(page.url()).searchParams.get('key'), renewed.share.key, 'the address has the bare key');
});

test('without its key the page says how to get one, with a focused field; a wrong key is told apart', async (t) => {
  const server = await startTestServer(t, { source: pattern() });
  const page = await newPage(await browserFor(t));
  const problems: string[] = [];
  page.on('console', (message) => /Content Security Policy/i.test(message.text()) && problems.push(message.text()));
  await page.goto(server.bare('/'), { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'message', 'This PushCam needs its access key. Paste the key, or the whole link you were given.');
  assert.equal(await page.getByTestId('stream').count(), 0, 'without the key, no viewer page and no stream');
  assert.equal(await page.getByTestId('key-field').evaluate((input) => input === document.activeElement), true);
  assert.deepEqual(problems, [], 'the key page broke its own CSP');

  await page.getByTestId('key-field').fill('not-the-key');
  await page.getByTestId('key-submit').click();
  await waitForText(page, 'message', /That access key is not right/);

  await page.getByTestId('key-field').fill(` ${TEST_KEY} `);
  await page.getByTestId('key-submit').click();
  await waitForText(page, 'mode', 'Live');
  assert.equal(new URL(page.url()).search, `?key=${TEST_KEY}`);
  // The cookie it set: the bare address plays too.
  await page.goto(server.bare('/'), { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'mode', 'Live');
});

test('the key page has the viewer page\'s look, dark and light', async (t) => {
  const server = await startTestServer(t, { source: pattern() });
  const browser = await browserFor(t);
  for (const colorScheme of ['dark', 'light'] as const) {
    const look = async (url: string, testId: string): Promise<string[]> => {
      const page = await newPage(browser, { colorScheme });
      await page.goto(url, { waitUntil: 'domcontentloaded' });
      await page.getByTestId(testId).waitFor({ state: 'attached' });
      return page.evaluate(() => {
        const body = getComputedStyle(document.body);
        return [body.backgroundColor, body.color, body.fontFamily];
      });
    };
    const viewer = await look(server.url('/'), 'mode');
    const key = await look(server.bare('/'), 'key-field');
    assert.deepEqual(key, viewer, `${colorScheme}: the key page looks different from the viewer page`);
    assert.equal(viewer[0], colorScheme === 'dark' ? 'rgb(0, 0, 0)' : 'rgb(233, 233, 236)');
  }
});

test('a full server: the page waits and comes in when a place frees up, without snapshot polling', async (t) => {
  const server = await startTestServer(t, { maxViewers: 1, source: pattern() });
  const occupant = await MjpegClient.open(server.url('/stream.mjpg'));
  const page = await recordingPage(await browserFor(t));
  const snapshots = snapshotRequests(page);
  await page.goto(server.url('/'), { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'mode', 'Full', 8000);
  await waitForText(page, 'message', /as many viewers as it allows/);
  assert.deepEqual(snapshots, []);
  occupant.close();
  await waitForText(page, 'mode', 'Live', 15_000);
});

test('the page watches with ?quality=auto unless a size is pinned in its menu, which it keeps on reload', async (t) => {
  const server = await startTestServer(t, { source: new PatternSource({ width: 640, height: 360, intervalMs: 100 }) });
  const page = await recordingPage(await browserFor(t));
  const streams: URLSearchParams[] = [];
  page.on('request', (r) => {
    const address = new URL(r.url());
    if (address.pathname === '/stream.mjpg' && r.method() === 'GET') streams.push(address.searchParams);
  });
  const tierOfPage = (): unknown => server.hub.viewerList().find((v) => v.via === 'stream')?.tier;
  await page.goto(server.url('/'), { waitUntil: 'domcontentloaded' });
  await waitForText(page, 'mode', 'Live');
  assert.equal(streams.at(-1)?.get('quality'), 'auto');
  assert.equal(await page.getByTestId('picture-size').inputValue(), 'auto');
  await eventually(() => (tierOfPage() as { auto?: boolean } | undefined)?.auto === true, 'the server to list an auto viewer');

  await page.getByTestId('picture-size').selectOption({ label: 'Small' });
  await eventually(() => streams.at(-1)?.get('width') === '320', 'a stream 320 wide');
  assert.equal(streams.at(-1)?.get('quality'), null);
  await eventually(() => JSON.stringify(tierOfPage()) === JSON.stringify({ auto: false, width: 320, quality: null }), 'the server to list a 320 wide viewer');
  await waitForText(page, 'live-line', /· 320×180$/, 7000);

  await page.reload({ waitUntil: 'domcontentloaded' });
  await waitForText(page, 'mode', 'Live');
  assert.equal(await page.getByTestId('picture-size').inputValue(), 'small');
  assert.equal(streams.at(-1)?.get('width'), '320');

  await page.getByTestId('picture-size').selectOption({ label: 'Full' });
  await eventually(() => streams.at(-1)?.get('width') === null && streams.at(-1)?.get('quality') === null, 'a stream of the main picture');
  await waitForText(page, 'live-line', /· 640×360$/, 7000);
  await eventually(() => server.hub.tierStatus().length === 0, 'the 320 wide tier to stop');
});

test('a pinned size PushCam cannot make now: the page shows the main picture and says so', async (t) => {
  const server = await startTestServer(t, { source: new PatternSource({ width: 640, height: 360, intervalMs: 100 }) });
  const others = await Promise.all([100, 200, 300, 400].map((w) => MjpegClient.open(server.url(`/stream.mjpg?width=${w}`))));
  t.after(() => others.forEach((o) => o.close()));
  const { page } = await pagePlaying(t, server);
  await page.getByTestId('picture-size').selectOption({ label: 'Small' });
  await waitForText(page, 'live-line', /· 640×360 · Small is not available now$/, 10_000);
  assert.equal(await page.getByTestId('mode').textContent(), 'Live');
  assert.deepEqual(server.hub.viewerList().find((v) => v.via === 'stream' && v.userAgent.includes('Chrome'))?.tier, { auto: false, width: null, quality: null });
});
