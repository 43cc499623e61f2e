// Guest links as people see them, in real Chromium: the viewer page of an expiring link says it
// has expired at the moment it does (and so does the page it finds when opened again), a revoked
// one says the broadcaster disconnected it, a link for one viewer says it is in use; and the
// window makes, shows and revokes guest links.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { browserFor, newPage } from './helpers/chromium.js';
import { broadcasting, configDir, keyOf } from './helpers/guests.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually } from './helpers/server.js';
import { removeHarnessDir, startUiHarness } from './helpers/ui-harness.js';

// Generous: Chromium shares two cores with sharp and other tests.
const WAIT_MS = 15_000;

async function textOf(locator: Locator, expected: RegExp, timeoutMs = WAIT_MS): Promise<string> {
  let seen = '';
  await eventually(
    async () => {
      seen = ((await locator.first().textContent()) ?? '').trim();
      return expected.test(seen);
    },
    `${String(expected)} (it reads "${seen}")`,
    timeoutMs,
  ).catch(() => {
    throw new Error(`timed out waiting for ${String(expected)} in ${locator.toString()}; it reads "${seen}"`);
  });
  return seen;
}

async function viewerPage(t: TestContext, url: string): Promise<Page> {
  const page = await newPage(await browserFor(t));
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  return page;
}

test('viewer page: an expiring guest link says "Expired" at the moment it expires, and the page it finds again says so too', async (t) => {
  const rig = await broadcasting(t, await configDir(t));
  const link = await rig.service.createGuestLink({ name: 'Visitor', expiresInMs: 6000, oneViewer: false });
  const page = await viewerPage(t, link.url);
  await textOf(page.getByTestId('mode'), /^Live$/);
  await textOf(page.getByTestId('mode'), /^Expired$/, 10_000);
  const late = Date.now() - (link.expiresAt ?? 0);
  t.diagnostic(`the page said Expired ${late} ms after the expiry`);
  assert.ok(late < 1500, `it said so ${late} ms after the expiry`);
  assert.match((await page.getByTestId('message').textContent()) ?? '', /This guest link has expired/);
  assert.equal(await page.getByTestId('stream').getAttribute('src'), null, 'the picture is let go');

  // Opened again (the cookie holds the key) or from the link itself: the key page says expired, not wrong.
  for (const url of [rig.at('/'), link.url]) {
    const res = await page.goto(url);
    assert.equal(res?.status(), 401);
    const message = await textOf(page.getByTestId('message'), /expired/);
    assert.doesNotMatch(message, /not right/);
  }
});

test('viewer page: a revoked guest link ends on "The broadcaster disconnected you", and its key is then wrong', async (t) => {
  const rig = await broadcasting(t, await configDir(t));
  const link = await rig.service.createGuestLink({ name: 'Kitchen tablet', expiresInMs: null, oneViewer: false });
  const page = await viewerPage(t, link.url);
  await textOf(page.getByTestId('mode'), /^Live$/);
  const started = performance.now();
  await rig.service.revokeGuestLink(link.id);
  await textOf(page.getByTestId('mode'), /^Disconnected$/, 5000);
  t.diagnostic(`the page said Disconnected ${(performance.now() - started).toFixed(0)} ms after the revoke`);
  assert.equal(await page.getByTestId('message').textContent(), 'The broadcaster disconnected you.');
  await page.goto(link.url);
  await textOf(page.getByTestId('message'), /not right/);
});

test('viewer page: a second page on a link for one viewer at a time says it is in use', async (t) => {
  const rig = await broadcasting(t, await configDir(t));
  const link = await rig.service.createGuestLink({ name: 'Grandma', expiresInMs: null, oneViewer: true });
  const first = await MjpegClient.open(rig.at(`/stream.mjpg?key=${keyOf(link)}`));
  t.after(() => first.close());
  await first.waitForParts(1);
  const page = await viewerPage(t, link.url);
  await textOf(page.getByTestId('mode'), /^In use$/);
  assert.match((await page.getByTestId('message').textContent()) ?? '', /one viewer at a time/);
});

test('window: New guest link makes a link with its own QR code and invitation; the list and the viewer table show its viewer; Revoke ends it', async (t) => {
  const harness = await startUiHarness({ settings: { port: 0, width: 640, height: 480 } });
  t.after(async () => {
    await harness.close();
    await removeHarnessDir(harness.dir);
  });
  const { page } = harness;
  await page.getByTestId('start-stop').click();
  const port = (await harness.waitForState((s) => s.broadcast.state === 'broadcasting', 'broadcasting')).broadcast.port;
  assert.equal(await page.getByTestId('guests-empty').isVisible(), true);

  // A name of spaces only: the core's reason shows in the dialog, which stays open.
  await page.getByTestId('new-guest').click();
  assert.equal(await page.getByTestId('guest-name-field').getAttribute('maxlength'), '60', "the camera name's limit, which the core checks");
  await page.getByTestId('guest-name-field').fill('   ');
  await page.getByTestId('create-guest').click();
  await textOf(page.getByTestId('guest-error'), /name must say who the link is for/);
  assert.equal(await page.getByTestId('guest-dialog').isVisible(), true);

  await page.getByTestId('guest-name-field').fill('Grandma');
  await page.getByTestId('guest-expiry-field').selectOption({ label: '1 week' });
  await page.getByTestId('guest-one-viewer').check();
  await page.getByTestId('create-guest').click();
  await page.getByTestId('guest-dialog').waitFor({ state: 'hidden' });

  const row = page.getByTestId('guest-link');
  await row.waitFor();
  const [link] = harness.state().guests;
  assert.equal(link.name, 'Grandma');
  assert.ok(link.expiresAt !== null && Math.abs(link.expiresAt - Date.now() - 7 * 86_400_000) < 60_000, '1 week');
  assert.equal(await row.getByTestId('guest-name').textContent(), 'Grandma');
  assert.match((await row.getByTestId('guest-expiry').textContent()) ?? '', /^until /);
  assert.match((await row.textContent()) ?? '', /one viewer at a time/);
  assert.equal(await row.getByTestId('guest-url').textContent(), link.url);
  assert.match((await row.getByTestId('guest-invitation').textContent()) ?? '', new RegExp(`watch .* live in your browser: ${link.url.replace(/[?.]/g, '\\$&')} The link works until `));
  if (harness.state().share.reach === 'network') {
    await row.locator('summary').click();
    await eventually(() => row.getByTestId('guest-qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), 'the QR code shown');
  }
  await textOf(row.getByTestId('guest-activity'), /^not used yet$/);

  const viewer = await MjpegClient.open(`http://127.0.0.1:${port}/stream.mjpg?key=${keyOf(link)}`, { 'user-agent': 'grandma-tablet' });
  t.after(() => viewer.close());
  await viewer.waitForParts(1);
  await textOf(row.getByTestId('guest-activity'), /^1 viewer now$/);
  await textOf(page.locator('[data-testid="viewer-row"] .col-via'), /^Grandma$/);

  await row.getByTestId('revoke-guest').click();
  await viewer.waitForEnd(WAIT_MS);
  await row.waitFor({ state: 'detached', timeout: WAIT_MS });
  await page.getByTestId('viewers-empty').waitFor({ state: 'visible', timeout: WAIT_MS });
  assert.deepEqual(harness.state().guests, []);
  assert.deepEqual(
    harness.logs.filter((l) => l.startsWith('page error')),
    [],
  );
});
