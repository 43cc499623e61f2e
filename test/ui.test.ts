// The PushCam window end to end: the page in Chromium with the fake camera, capturing in the
// window, against the real control service through the loopback adapter, and real HTTP viewers.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { Settings } from '../shared/contract.js';
import { jpegSize } from '../shared/jpeg-info.js';
import { colorOf, setPageHidden, type Rgb } from './helpers/chromium.js';
import { MjpegClient, type ReceivedPart } from './helpers/mjpeg-client.js';
import { eventually } from './helpers/server.js';
import { removeHarnessDir, startUiHarness, type UiHarness } from './helpers/ui-harness.js';
import { tempDir } from './helpers/fixtures.js';

// Generous: these run beside Chromium, sharp and often other test files on a small machine.
const WAIT_MS = 20_000;
const SMALL = { width: 640, height: 480 };

/**
 * Harnesses for one test, all closed when it ends and their folder removed after them. A restart
 * closes the running one and starts again from its folder: same settings file, same key.
 */
function harnesses(t: TestContext): { start(settings?: Partial<Settings>): Promise<UiHarness>; restart(): Promise<UiHarness> } {
  const started: UiHarness[] = [];
  t.after(async () => {
    for (const harness of started) {
      await harness.close();
      for (const line of harness.logs.filter((l) => l.startsWith('page error'))) t.diagnostic(line);
    }
    if (started[0]) await removeHarnessDir(started[0].dir);
  });
  const keep = (harness: UiHarness): UiHarness => (started.push(harness), harness);
  return {
    start: async (settings = {}) => keep(await startUiHarness({ settings: { port: 0, ...SMALL, ...settings } })),
    restart: async () => {
      const previous = started[started.length - 1];
      await previous.close();
      return keep(await startUiHarness({ dir: previous.dir }));
    },
  };
}

function harnessFor(t: TestContext, settings: Partial<Settings> = {}): Promise<UiHarness> {
  return harnesses(t).start(settings);
}

/** A harness in a window of this size. */
async function startUiHarnessFor(t: TestContext, viewport: { width: number; height: number }): Promise<UiHarness> {
  const harness = await startUiHarness({ viewport, settings: { port: 0, ...SMALL } });
  t.after(async () => {
    await harness.close();
    await removeHarnessDir(harness.dir);
  });
  return harness;
}

async function waitForText(locator: Locator, expected: RegExp, timeoutMs = WAIT_MS): Promise<string> {
  let text = '';
  await eventually(
    async () => {
      text = (await locator.textContent()) ?? '';
      return expected.test(text);
    },
    `${String(expected)} in ${locator.toString()} (it says "${text.trim()}")`,
    timeoutMs,
  ).catch(() => {
    throw new Error(`timed out waiting for ${String(expected)} in ${locator.toString()}; it says "${text.trim()}"`);
  });
  return text;
}

async function startBroadcasting(harness: UiHarness): Promise<string> {
  await harness.page.getByTestId('start-stop').click();
  const state = await harness.waitForState((s) => s.broadcast.state === 'broadcasting' && s.share.urls.length > 0, 'broadcasting');
  await waitForText(harness.page.getByTestId('status'), /Broadcasting on port \d+/);
  return state.share.urls[0];
}

/** The push stream behind a viewer link: same address and key, the stream's path. */
function streamUrl(shareUrl: string): string {
  const url = new URL(shareUrl);
  url.pathname = '/stream.mjpg';
  return url.toString();
}

async function openViewer(t: TestContext, shareUrl: string, userAgent = 'VLC/3.0.20 LibVLC/3.0.20'): Promise<MjpegClient> {
  const viewer = await MjpegClient.open(streamUrl(shareUrl), { 'User-Agent': userAgent });
  t.after(() => viewer.close());
  assert.equal(viewer.response.statusCode, 200);
  return viewer;
}

/** `count` parts that arrive from now on (a part already on its way may predate a change: skipped). */
async function nextParts(viewer: MjpegClient, count: number, timeoutMs = WAIT_MS): Promise<ReceivedPart[]> {
  const from = viewer.parts.length + 1;
  const parts = await viewer.waitForParts(from + count, timeoutMs);
  return parts.slice(from, from + count);
}

function medianGapMs(parts: ReceivedPart[]): number {
  const gaps = parts.slice(1).map((p, i) => p.at - parts[i].at).sort((a, b) => a - b);
  return gaps[Math.floor(gaps.length / 2)];
}

function meanBytes(parts: ReceivedPart[]): number {
  return parts.reduce((sum, p) => sum + p.body.length, 0) / parts.length;
}

/** Types into a field and leaves it, as a user does; the window applies it on its own. */
async function enter(page: Page, testId: string, value: string): Promise<void> {
  await page.getByTestId(testId).fill(value);
  await page.getByTestId(testId).press('Tab');
}

function occupyPort(t: TestContext): Promise<number> {
  const server: Server = createServer();
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, () => resolve((server.address() as { port: number }).port));
  });
}

test('start broadcasting: camera frames reach an HTTP viewer, who shows in the table and can be kicked', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  assert.match((await page.getByTestId('start-stop').textContent()) ?? '', /Start broadcasting/);
  assert.equal(await page.getByTestId('status').getAttribute('data-state'), 'stopped');

  const shareUrl = await startBroadcasting(harness);
  assert.equal(await page.getByTestId('share-url').first().textContent(), shareUrl);
  assert.match((await page.getByTestId('start-stop').textContent()) ?? '', /Stop broadcasting/);

  const viewer = await openViewer(t, shareUrl);
  const parts = await viewer.waitForParts(3, WAIT_MS);
  for (const part of parts.slice(0, 3)) assert.deepEqual(jpegSize(part.body), SMALL);

  const row = page.getByTestId('viewer-row');
  await row.waitFor({ timeout: WAIT_MS });
  await waitForText(page.getByTestId('viewers-count'), /^1 viewer$/);
  assert.equal(await row.locator('.col-client').textContent(), 'VLC');
  assert.match((await row.locator('.col-data').textContent()) ?? '', /\d (kB|MB)$/);
  assert.match((await row.locator('.col-connected').textContent()) ?? '', /\d s$/);
  assert.equal(await row.locator('.col-picture').textContent(), 'Main picture');
  // The viewer's link, from the kernel (TCP_INFO): "30 fps · 2.1 Gbit/s · 1 ms behind" on loopback.
  await waitForText(row.locator('.col-link'), /^\d+ fps · [\d.]+ [kMG]bit\/s · \d+ ms behind$/);

  await row.getByTestId('kick').click();
  await viewer.waitForEnd(WAIT_MS);
  await row.waitFor({ state: 'detached', timeout: WAIT_MS });
  await waitForText(page.getByTestId('viewers-count'), /^0 viewers$/);

  // A viewer of a smaller picture (another client: the kicked one is refused for a while): the table says which.
  const small = await openViewer(t, `${shareUrl}&width=160&quality=40`, 'Lavf/60.16.100');
  await waitForText(page.getByTestId('viewer-row').locator('.col-picture'), /^160 wide · q40$/);
  small.close();

  await page.getByTestId('start-stop').click();
  await harness.waitForState((s) => s.broadcast.state === 'stopped', 'stopped');
  await waitForText(page.getByTestId('status'), /Not broadcasting/);
});

test('interval and quality set in the window take effect on the stream', async (t) => {
  const harness = await harnessFor(t, { intervalMs: 100, quality: 90 });
  const { page } = harness;
  const viewer = await openViewer(t, await startBroadcasting(harness));
  const before = await nextParts(viewer, 8);
  assert.ok(medianGapMs(before) < 400, `at 100 ms the parts should come faster than one per 400 ms; median gap ${medianGapMs(before)} ms`);

  await enter(page, 'interval', '500');
  await harness.waitForState((s) => s.settings.intervalMs === 500 && s.capture.intervalMs === 500, 'interval 500 ms');
  assert.equal(await page.getByTestId('fps').textContent(), '2 fps');
  await nextParts(viewer, 1);
  const slower = await nextParts(viewer, 5);
  const gap = medianGapMs(slower);
  assert.ok(gap >= 400 && gap <= 900, `at 500 ms the median gap between parts should be about 500 ms; it is ${gap} ms`);

  await page.getByTestId('quality').fill('20');
  await harness.waitForState((s) => s.settings.quality === 20, 'quality 20');
  assert.equal(await page.getByTestId('quality-value').textContent(), '20');
  await nextParts(viewer, 1);
  const smaller = await nextParts(viewer, 3);
  assert.ok(
    meanBytes(smaller) < meanBytes(before) * 0.6,
    `quality 20 should shrink the parts well below quality 90's: ${Math.round(meanBytes(smaller))} against ${Math.round(meanBytes(before))} bytes`,
  );
});

test('a busy port is reported with a free one to use, and that button starts on it', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  const busy = await occupyPort(t);
  await enter(page, 'port', String(busy));
  await harness.waitForState((s) => s.settings.port === busy, `port ${busy} saved`);

  await page.getByTestId('start-stop').click();
  const failed = await harness.waitForState((s) => s.broadcast.state === 'error', 'the start to fail');
  await waitForText(page.getByTestId('status'), new RegExp(`Port ${busy} is in use`));
  assert.equal(await page.getByTestId('status').getAttribute('data-tone'), 'error');
  const suggested = failed.broadcast.suggestedPort;
  assert.ok(suggested, 'the core suggests a free port');
  const usePort = page.getByTestId('use-port');
  assert.equal(await usePort.textContent(), `Use port ${suggested}`);

  await usePort.click();
  await harness.waitForState((s) => s.broadcast.state === 'broadcasting' && s.broadcast.port === suggested, `broadcasting on port ${suggested}`);
  await waitForText(page.getByTestId('status'), new RegExp(`Broadcasting on port ${suggested}`));
  await usePort.waitFor({ state: 'hidden', timeout: WAIT_MS });
  assert.equal(await page.getByTestId('port').inputValue(), String(suggested));
});

test('a setting the core refuses shows its reason beside the field, and a good value clears it', async (t) => {
  const harness = await harnessFor(t, { intervalMs: 100, maxViewers: 32 });
  const { page } = harness;
  const error = page.getByTestId('interval-error');

  await enter(page, 'interval', '5');
  await waitForText(error, /^Must be a whole number from 10 to 3600000$/);
  assert.equal(await page.getByTestId('interval').getAttribute('aria-invalid'), 'true');
  // The refused value stays for the user to correct, and the core keeps its own.
  assert.equal(await page.getByTestId('interval').inputValue(), '5');
  assert.equal(harness.state().settings.intervalMs, 100);

  await enter(page, 'max-viewers', '0');
  await waitForText(page.getByTestId('max-viewers-error'), /whole number from 1 to 10000/);

  await enter(page, 'interval', '250');
  await harness.waitForState((s) => s.settings.intervalMs === 250, 'interval 250 ms');
  await error.waitFor({ state: 'hidden', timeout: WAIT_MS });
  assert.equal(await page.getByTestId('interval').getAttribute('aria-invalid'), null);
  assert.equal(await page.getByTestId('fps').textContent(), '4 fps');
});

test('camera problems show in the status line', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  await harness.waitForState((s) => s.source.state === 'running', 'the camera to run for the preview');
  // What the capture side reports when another program holds the camera.
  harness.service.reportCamera({ state: 'error', fault: 'busy', message: 'The camera is in use by another program' });
  await waitForText(page.getByTestId('camera-status'), /^Camera problem: The camera is in use by another program$/);
  harness.service.reportCamera({ state: 'capturing', label: 'fake', ...SMALL });
  await page.getByTestId('camera-status').waitFor({ state: 'hidden', timeout: WAIT_MS });
});

test('the preview shows the frames viewers get, and only while the window is visible', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  const preview = page.getByTestId('preview');
  // The camera runs for the preview before anything is broadcast.
  await eventually(async () => Number((await preview.getAttribute('data-seq')) ?? 0) > 0, 'a preview frame', WAIT_MS);
  const first = Number(await preview.getAttribute('data-seq'));
  await eventually(async () => Number(await preview.getAttribute('data-seq')) > first, 'a newer preview frame', WAIT_MS);
  assert.match((await preview.getAttribute('src')) ?? '', /^blob:/);
  assert.equal(await page.getByTestId('preview-size').textContent(), '640 × 480');
  // Read between frames: each new one replaces the picture, which is briefly not there to read.
  let size: number[] = [];
  await eventually(
    async () => {
      size = await preview.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]);
      return size[0] > 0;
    },
    'a decoded preview picture',
    WAIT_MS,
  );
  assert.deepEqual(size, [SMALL.width, SMALL.height]);
  // Chromium's fake camera draws on green.
  let color: Rgb | null = null;
  const green = (c: Rgb | null): boolean => c !== null && c[1] > c[0] + 40 && c[1] > c[2] + 40;
  await eventually(
    async () => green((color = await colorOf(page, '[data-testid="preview"]'))),
    "the fake camera's green in the preview",
    WAIT_MS,
  ).catch(() => assert.fail(`the preview should show the fake camera's green; it shows ${color ? `rgb(${color.join(', ')})` : 'nothing'}`));

  await setPageHidden(page, true);
  await harness.waitForState((s) => !s.capture.active, 'capture to stop while nobody watches');
  await setPageHidden(page, false);
  await harness.waitForState((s) => s.capture.active, 'capture to resume for the preview');
});

test('the camera picker lists the cameras by label and saves the choice', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  const select = page.getByTestId('camera-select');
  let labels: string[] = [];
  await eventually(
    async () => {
      labels = await select.locator('option').allTextContents();
      return labels.some((label) => /fake/i.test(label));
    },
    'the fake camera in the list',
    WAIT_MS,
  );
  assert.equal(labels[0], 'System default camera');
  const fake = labels.find((label) => /fake/i.test(label)) ?? '';
  await select.selectOption({ label: fake });
  const state = await harness.waitForState((s) => s.settings.cameraLabel === fake, 'the camera saved');
  assert.notEqual(state.settings.cameraId, '');
  await harness.waitForState((s) => s.capture.cameraLabel === fake && s.source.state === 'running', 'capture from the chosen camera');
});

test('share: links copy, the key stays hidden until shown, a new key needs a confirm and drops viewers', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  assert.equal(await page.getByTestId('share-empty').isVisible(), true);
  const shareUrl = await startBroadcasting(harness);

  await page.getByTestId('copy-url').first().click();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shareUrl);
  await waitForText(page.getByTestId('copy-url').first(), /Copied/);
  await page.getByTestId('qr').waitFor({ timeout: WAIT_MS });
  assert.ok(await page.getByTestId('qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 'the QR code is drawn');

  const oldKey = harness.state().share.key;
  const key = page.getByTestId('key');
  assert.doesNotMatch((await key.textContent()) ?? '', new RegExp(oldKey));
  await page.getByTestId('show-key').click();
  assert.equal(await key.textContent(), oldKey);
  assert.equal(await page.getByTestId('show-key').getAttribute('aria-pressed'), 'true');

  const viewer = await openViewer(t, shareUrl);
  await viewer.waitForParts(1, WAIT_MS);
  const dialog = page.getByTestId('new-key-dialog');
  await page.getByTestId('new-key').click();
  await dialog.waitFor({ timeout: WAIT_MS });
  assert.match((await dialog.textContent()) ?? '', /Everyone watching now will be disconnected/);
  await page.getByTestId('cancel-new-key').click();
  await dialog.waitFor({ state: 'hidden', timeout: WAIT_MS });
  assert.equal(harness.state().share.key, oldKey);
  assert.equal(viewer.ended, false);

  await page.getByTestId('new-key').click();
  await page.getByTestId('confirm-new-key').click();
  const renewed = await harness.waitForState((s) => s.share.key !== oldKey && s.broadcast.state === 'broadcasting', 'a new key');
  await viewer.waitForEnd(WAIT_MS);
  await waitForText(key, new RegExp(`^${renewed.share.key}$`));
  await waitForText(page.getByTestId('share-url').first(), new RegExp(`key=${renewed.share.key}`));
});

test('open access is off until its switch is turned on, with a warning beside it', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  await startBroadcasting(harness);
  const openAccess = page.getByTestId('open-access');
  assert.equal(await openAccess.isChecked(), false);
  assert.match((await page.getByTestId('open-access-warning').textContent()) ?? '', /Anyone who can reach this computer can watch/);
  assert.match((await page.getByTestId('share-url').first().textContent()) ?? '', /key=/);

  await openAccess.check();
  await harness.waitForState((s) => s.settings.openAccess && s.broadcast.state === 'broadcasting', 'open access');
  await waitForText(page.getByTestId('share-url').first(), /^http:\/\/[^?]+\/$/);
  assert.equal(await page.getByTestId('share-card').getAttribute('data-open'), 'true');
});

test('the name set in the window titles the viewer page; a viewer on snapshots is in the table, marked, and kickable', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  const shareUrl = await startBroadcasting(harness);
  await enter(page, 'name', 'Porch');
  await harness.waitForState((s) => s.settings.name === 'Porch', 'the name applied');
  assert.match(await (await fetch(shareUrl)).text(), /<title>Porch<\/title>/);

  // Long-polls snapshots as a viewer page that cannot get the stream does.
  const polling = new AbortController();
  t.after(() => polling.abort());
  const answers: number[] = [];
  void (async () => {
    let seq = 0;
    while (!polling.signal.aborted) {
      const res = await fetch(shareUrl.replace('/?', '/snapshot.jpg?viewer=window-test-page&after=' + seq + '&'), { signal: polling.signal }).catch(() => null);
      if (!res) return;
      answers.push(res.status);
      if (res.status === 200) seq = Number(res.headers.get('x-frame-seq'));
      else if (res.status !== 304) return;
      await res.arrayBuffer();
    }
  })();
  const row = page.getByTestId('viewer-row');
  await row.waitFor({ timeout: WAIT_MS });
  await waitForText(row.locator('.col-client'), / · snapshots$/);
  await row.getByTestId('kick').click();
  await row.waitFor({ state: 'detached', timeout: WAIT_MS });
  await eventually(() => answers.at(-1) === 403, 'the snapshot viewer to be refused', WAIT_MS);
});

test('settings made in the window persist across a restart', async (t) => {
  const run = harnesses(t);
  const first = await run.start();
  const { page } = first;
  await page.getByTestId('resolution').selectOption('1920x1080');
  await enter(page, 'interval', '250');
  await page.getByTestId('quality').fill('55');
  await enter(page, 'port', '8123');
  await page.getByTestId('access-local').check();
  await enter(page, 'max-viewers', '5');
  await page.getByTestId('mirror').check();
  await page.getByTestId('rotate').selectOption('180');
  await page.getByTestId('timestamp').check();
  await enter(page, 'text', 'Front door');
  await enter(page, 'name', 'Porch');
  await page.getByTestId('start-on-launch').check();
  const expected = {
    width: 1920,
    height: 1080,
    intervalMs: 250,
    quality: 55,
    port: 8123,
    lanAccess: false,
    maxViewers: 5,
    mirror: true,
    rotate: 180,
    timestamp: true,
    text: 'Front door',
    name: 'Porch',
    startOnLaunch: true,
  };
  await first.waitForState((s) => Object.entries(expected).every(([k, v]) => s.settings[k as keyof typeof expected] === v), 'every setting applied');
  const again = (await run.restart()).page;
  assert.equal(await again.getByTestId('resolution').inputValue(), '1920x1080');
  assert.equal(await again.getByTestId('interval').inputValue(), '250');
  assert.equal(await again.getByTestId('fps').textContent(), '4 fps');
  assert.equal(await again.getByTestId('quality').inputValue(), '55');
  assert.equal(await again.getByTestId('port').inputValue(), '8123');
  assert.equal(await again.getByTestId('access-local').isChecked(), true);
  assert.equal(await again.getByTestId('max-viewers').inputValue(), '5');
  assert.equal(await again.getByTestId('mirror').isChecked(), true);
  assert.equal(await again.getByTestId('rotate').inputValue(), '180');
  assert.equal(await again.getByTestId('timestamp').isChecked(), true);
  assert.equal(await again.getByTestId('text').inputValue(), 'Front door');
  assert.equal(await again.getByTestId('name').inputValue(), 'Porch');
  assert.equal(await again.getByTestId('start-on-launch').isChecked(), true);
});

test('a damaged settings file is reported in a banner that can be dismissed', async (t) => {
  const run = harnesses(t);
  const first = await run.start();
  await first.close();
  await writeFile(first.settingsFile, '{"port": 80');
  const harness = await run.restart();
  const notice = harness.page.getByTestId('notice');
  await waitForText(notice, /settings file was damaged/);
  await notice.getByTestId('dismiss-notice').click();
  await notice.waitFor({ state: 'detached', timeout: WAIT_MS });
});

test('every control has a label, and the keyboard alone starts a broadcast', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, button')]
      .filter((control) => !(control as HTMLElement).closest('[hidden]'))
      .filter((control) => {
        const labelled = control instanceof HTMLInputElement || control instanceof HTMLSelectElement ? control.labels?.length : 0;
        return !labelled && !control.getAttribute('aria-label') && !control.getAttribute('aria-labelledby') && !control.textContent?.trim();
      })
      .map((control) => control.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unlabelled, []);

  // The start button is the first thing Tab reaches.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'start-stop');
  await page.keyboard.press('Enter');
  await harness.waitForState((s) => s.broadcast.state === 'broadcasting', 'broadcasting');
});

test('the viewer table fits the window at every width, down to its 720 px minimum: no column clipped (Data and Kick were, from 900 to 1200 px)', async (t) => {
  const harness = await startUiHarnessFor(t, { width: 1280, height: 900 });
  const { page } = harness;
  const shareUrl = await startBroadcasting(harness);
  await openViewer(t, shareUrl, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1');
  await openViewer(t, shareUrl);
  await eventually(async () => (await page.getByTestId('viewer-row').count()) === 2, 'both viewers in the table', WAIT_MS);
  const shots = tempDir(t, 'table');
  for (const width of [720, 960, 1120, 1280]) {
    await page.setViewportSize({ width, height: 900 });
    const clipped = await page.evaluate(() => {
      const wrap = document.querySelector('.table-wrap')!;
      const box = wrap.getBoundingClientRect();
      const outside = [...wrap.querySelectorAll('td')].filter((td) => {
        const cell = td.getBoundingClientRect();
        return cell.left < box.left - 1 || cell.right > box.right + 1 || td.scrollWidth > td.clientWidth + 1;
      });
      return { overflow: wrap.scrollWidth - wrap.clientWidth, cells: outside.map((td) => td.className) };
    });
    const path = join(shots, `viewers-${width}.png`);
    await page.locator('.viewers').screenshot({ path });
    t.diagnostic(`${width} px: ${clipped.overflow} px of horizontal overflow, cells outside the card: ${clipped.cells.join(', ') || 'none'} (${path})`);
    assert.deepEqual(clipped, { overflow: 0, cells: [] }, `at ${width} px`);
    assert.equal(await page.getByTestId('kick').first().isVisible(), true);
  }
});

test('"This computer only" says so on the share card and shows no QR code; "Everyone on the network" brings both back', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  await startBroadcasting(harness);
  const qr = page.getByTestId('qr');
  await qr.waitFor({ timeout: WAIT_MS });
  assert.match((await page.getByTestId('share-hint').textContent()) ?? '', /any device on the network, or scan the code/);

  await page.getByTestId('access-local').check();
  await harness.waitForState((s) => s.share.reach === 'local' && s.broadcast.state === 'broadcasting', 'this computer only');
  await waitForText(page.getByTestId('share-hint'), /^Only this computer can open it: other devices cannot connect/);
  await qr.waitFor({ state: 'hidden', timeout: WAIT_MS });
  assert.match((await page.getByTestId('share-url').first().textContent()) ?? '', /^http:\/\/127\.0\.0\.1:/);

  await page.getByTestId('access-lan').check();
  await qr.waitFor({ timeout: WAIT_MS });
  await waitForText(page.getByTestId('share-hint'), /any device on the network/);
});

test('the interval hint shows the rate the camera really gives when it is not the one asked', async (t) => {
  const harness = await harnessFor(t, { intervalMs: 10 });
  const { page } = harness;
  // 100 fps asked of a camera that gives 20 to 30: the preview runs it, the stats measure it.
  const text = await waitForText(page.getByTestId('fps'), /^100 fps asked, \d+(\.\d)? fps now$/);
  const now = Number(/, ([\d.]+) fps now/.exec(text)![1]);
  assert.ok(now >= 5 && now <= 60, `measured ${now} fps`);
  await enter(page, 'interval', '200');
  await waitForText(page.getByTestId('fps'), /^5 fps$/);
});

test('a camera that gives another size than the one asked is shown beside the resolution', async (t) => {
  const harness = await harnessFor(t, { width: 800, height: 600 });
  const { page } = harness;
  const delivered = page.getByTestId('resolution-delivered');
  await harness.waitForState((s) => s.camera?.state === 'capturing', 'the camera to run for the preview');
  const real = harness.state().camera as { width: number; height: number };
  t.diagnostic(`Chromium's fake camera, asked 800x600, gives ${real.width}x${real.height}`);
  // What a webcam that has no 800x600 mode reports (the fake camera scales to any size).
  harness.service.reportCamera({ state: 'capturing', label: 'USB camera', width: 960, height: 720 });
  await waitForText(delivered, /^Asked 800 × 600; the camera gives 960 × 720\.$/);
  harness.service.reportCamera({ state: 'capturing', label: 'USB camera', width: 800, height: 600 });
  await delivered.waitFor({ state: 'hidden', timeout: WAIT_MS });
});

test('a port change says it will drop the viewers, and applies only when the field is left', async (t) => {
  const harness = await harnessFor(t);
  const { page } = harness;
  const warning = page.getByTestId('port-warning');
  assert.equal(await warning.isVisible(), false, 'nothing to drop while not broadcasting');
  const viewer = await openViewer(t, await startBroadcasting(harness));
  await viewer.waitForParts(1, WAIT_MS);
  await harness.waitForState((s) => s.viewers.length === 1, 'the viewer in the state');
  assert.equal(await warning.isVisible(), false, 'said when the port is about to change, not all the time');
  await page.getByTestId('port').focus();
  await waitForText(warning, /^A new port restarts the broadcast: the viewer watching now is disconnected, and the links you shared stop working\.$/);
  assert.equal(await warning.isVisible(), true);
  const before = harness.state().settings.port;
  const port = await occupyPort(t).then((busy) => busy + 1);
  await page.getByTestId('port').fill(String(port));
  await new Promise((r) => setTimeout(r, 1200));
  assert.equal(harness.state().settings.port, before, 'typing alone changes nothing');
  await page.getByTestId('port').press('Tab');
  await harness.waitForState((s) => s.settings.port === port, `port ${port}`);
  await viewer.waitForEnd(WAIT_MS);
});
