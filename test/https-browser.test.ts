// HTTPS as a person meets it: Chromium that trusts the certificate (by its public key, as a
// browser trusts a mkcert CA) shows the viewer page and its stream; the window's HTTPS fields
// switch the share links to https://, and a key that does not fit is refused beside the field.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { browserFor, newPage } from './helpers/chromium.js';
import { eventually, startTestServer } from './helpers/server.js';
import { makeCertificates, type TestCertificates } from './helpers/tls.js';
import { removeHarnessDir, startUiHarness } from './helpers/ui-harness.js';

const WAIT_MS = 20_000;

/** A page in a Chromium that trusts exactly this certificate's key, and nothing else unknown. */
async function trustingPage(t: TestContext, certs: TestCertificates): Promise<Page> {
  const browser = await browserFor(t, [`--ignore-certificate-errors-spki-list=${await certs.spki()}`]);
  return newPage(browser);
}

async function textOf(page: Page, testId: string, text: RegExp): Promise<void> {
  let seen = '';
  await eventually(async () => text.test((seen = (await page.getByTestId(testId).first().textContent()) ?? '')), `${testId} to read ${String(text)} (it reads "${seen}")`, WAIT_MS);
}

test('Chromium shows the viewer page and its live stream over HTTPS', async (t) => {
  const certs = await makeCertificates(t);
  const s = await startTestServer(t, { tls: { cert: certs.cert, key: certs.key } });
  const page = await trustingPage(t, certs);
  const problems: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && problems.push(m.text())));
  const answer = await page.goto(s.url('/'), { waitUntil: 'domcontentloaded' });
  assert.equal(answer?.status(), 200);
  assert.ok(page.url().startsWith('https://'));
  await textOf(page, 'mode', /^Live$/);
  const size = await page.getByTestId('stream').evaluate((img: HTMLImageElement) => img.naturalWidth);
  assert.equal(size, 160);
  // The plain http:// link lands on the same page over https.
  const plain = s.url('/').replace('https://', 'http://');
  await page.goto(plain, { waitUntil: 'domcontentloaded' });
  assert.ok(page.url().startsWith('https://'), page.url());
  await textOf(page, 'mode', /^Live$/);
  assert.deepEqual(problems, []);
});

test('a browser that does not trust the certificate is stopped by it (the check is real)', async (t) => {
  const certs = await makeCertificates(t);
  const s = await startTestServer(t, { tls: { cert: certs.cert, key: certs.key } });
  const page = await newPage(await browserFor(t));
  await assert.rejects(page.goto(s.url('/')), /ERR_CERT_AUTHORITY_INVALID/);
});

test('the window: a certificate and key set in the settings make the share links https://; a key that does not fit is refused beside the field', async (t) => {
  const certs = await makeCertificates(t);
  const harness = await startUiHarness({ settings: { port: 0, lanAccess: false, width: 640, height: 480 } });
  t.after(async () => {
    await harness.close();
    await removeHarnessDir(harness.dir);
  });
  const { page } = harness;
  await page.getByTestId('start-stop').click();
  const before = await harness.waitForState((s) => s.broadcast.state === 'broadcasting', 'broadcasting');
  assert.match(before.share.urls[0], /^http:\/\//);

  await page.getByTestId('tls-cert').fill(certs.cert);
  await page.getByTestId('tls-key').fill(await certs.otherKey());
  await page.getByTestId('tls-key').blur();
  await textOf(page, 'tls-error', /does not belong to the certificate/);
  // Refused: nothing else changed.
  assert.equal(harness.state().settings.tlsKey, '');
  assert.equal(harness.state().broadcast.port, before.broadcast.port);
  assert.match(harness.state().share.urls[0], /^http:\/\//);

  await page.getByTestId('tls-key').fill(certs.key);
  await page.getByTestId('tls-key').blur();
  const after = await harness.waitForState((s) => s.broadcast.state === 'broadcasting' && s.share.secure, 'broadcasting over https');
  await page.getByTestId('tls-error').waitFor({ state: 'hidden', timeout: WAIT_MS });
  await textOf(page, 'share-url', /^https:\/\/127\.0\.0\.1:\d+\/\?key=/);

  const viewer = await trustingPage(t, certs);
  await viewer.goto(after.share.urls[0], { waitUntil: 'domcontentloaded' });
  await textOf(viewer, 'mode', /^Live$/);
});
