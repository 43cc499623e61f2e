// The control panel of `pushcam serve --ui`, in Chromium, against the real command line: it knows
// at once when PushCam goes away (quit, or suspended), blocks everything while it is gone, and
// comes back by itself when PushCam runs again at the same address; it shows only the controls
// that work in the mode PushCam runs in.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { browserFor, newPage } from './helpers/chromium.js';
import { eventually } from './helpers/server.js';
import { tempDir } from './helpers/fixtures.js';

const BIN = join(import.meta.dirname, '../bin/pushcam.js');
const WAIT_MS = 20_000;

interface Serve {
  child: ChildProcess;
  output(): string;
  panelUrl: string;
  exit: Promise<unknown>;
}

/** `pushcam serve --ui ...args` with this config folder; resolves once it printed its panel link. */
async function serveUi(t: TestContext, config: string, args: string[] = []): Promise<Serve> {
  const child = spawn(process.execPath, [BIN, 'serve', '--ui', '--host', '127.0.0.1', '--port', '0', ...args], { env: { ...process.env, PUSHCAM_CONFIG_DIR: config } });
  t.after(() => {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exit = new Promise((resolve) => child.once('exit', resolve));
  await eventually(() => /Control panel: (\S+)/.test(output) || child.exitCode !== null, 'the control panel link', WAIT_MS);
  assert.equal(child.exitCode, null, output);
  return { child, output: () => output, panelUrl: /Control panel: (\S+)/.exec(output)![1], exit };
}

async function openPanel(t: TestContext, url: string): Promise<Page> {
  const page = await newPage(await browserFor(t), { viewport: { width: 1120, height: 900 } });
  await page.goto(url);
  await page.locator('body[data-ready="true"]').waitFor({ timeout: WAIT_MS });
  return page;
}

async function isLost(page: Page): Promise<boolean> {
  return page.evaluate(() => document.body.dataset.connection === 'lost');
}

/** Back: the page loaded again from PushCam (a check during the reload itself answers false). */
async function isBack(page: Page): Promise<boolean> {
  try {
    return await page.evaluate(() => document.body.dataset.ready === 'true' && document.body.dataset.connection !== 'lost' && document.querySelector('[data-testid="on-air"]')?.textContent === 'Live');
  } catch {
    return false;
  }
}

test('PushCam quits: the panel says so at once and blocks every control; started again, the panel comes back by itself (40 s later it still said Live before)', async (t) => {
  const config = tempDir(t, 'panel');
  const first = await serveUi(t, config);
  const page = await openPanel(t, first.panelUrl);
  assert.equal(await page.getByTestId('on-air').textContent(), 'Live');

  const quitAt = performance.now();
  first.child.kill('SIGINT');
  await eventually(() => isLost(page), 'the panel to notice', WAIT_MS);
  const noticedMs = performance.now() - quitAt;
  t.diagnostic(`Ctrl-C to "connection lost" in the panel: ${Math.round(noticedMs)} ms`);
  assert.ok(noticedMs < 3000, `noticed after ${Math.round(noticedMs)} ms`);
  assert.equal(await page.getByTestId('connection-lost').isVisible(), true);
  assert.match((await page.getByTestId('connection-lost').textContent()) ?? '', /Lost the connection to PushCam/);
  assert.equal(await page.getByTestId('on-air').textContent(), 'Disconnected');
  assert.equal(await page.getByTestId('app').evaluate((app: HTMLElement) => app.inert), true, 'every control blocked');
  await assert.rejects(page.getByTestId('start-stop').click({ timeout: 1000 }), 'a click does not reach the start button');
  await first.exit;

  // Same config folder: the same panel address and token, so the open page reconnects.
  const second = await serveUi(t, config);
  assert.equal(second.panelUrl, first.panelUrl);
  await eventually(() => isBack(page), 'the panel to come back, Live', WAIT_MS);
  assert.equal(await page.getByTestId('app').evaluate((app: HTMLElement) => app.inert), false);
});

test('PushCam suspended (Ctrl-Z): the panel says it is not answering within seconds, and comes back when it runs again', async (t) => {
  const serve = await serveUi(t, tempDir(t, 'panel'));
  const page = await openPanel(t, serve.panelUrl);
  const stoppedAt = performance.now();
  serve.child.kill('SIGSTOP');
  await eventually(() => isLost(page), 'the panel to notice the silence', WAIT_MS);
  t.diagnostic(`SIGSTOP to "connection lost": ${Math.round(performance.now() - stoppedAt)} ms`);
  serve.child.kill('SIGCONT');
  await eventually(() => isBack(page), 'the panel to come back, Live', WAIT_MS);
});

test('the panel shows only what works in its mode: a folder, --host and --key', async (t) => {
  const folder = tempDir(t, 'panel-images');
  const serve = await serveUi(t, tempDir(t, 'panel'), ['--source', `dir:${folder}`, '--key', 'my-own-key-123']);
  const page = await openPanel(t, serve.panelUrl);
  const hidden = async (testId: string): Promise<boolean> => !(await page.getByTestId(testId).isVisible());
  assert.ok(await hidden('camera-field'), 'no camera to choose');
  assert.ok(await hidden('camera-name-field'));
  assert.ok(await hidden('resolution-field'), 'a picture from a folder has its own size');
  assert.ok(await hidden('start-on-launch-field'), 'serve broadcasts from its start; only the app starts with the computer');
  assert.equal(await page.getByTestId('interval-label').textContent(), 'Check the folder every');
  assert.equal(await page.getByTestId('fps').textContent(), '10 checks a second');
  assert.equal(await page.getByTestId('access-lan').isDisabled(), true, '--host decides who can connect');
  assert.equal(await page.getByTestId('access-hint').textContent(), 'Set by --host 127.0.0.1: viewers connect to that address only.');
  assert.match((await page.getByTestId('share-hint').textContent()) ?? '', /^Only this computer can open it: --host 127\.0\.0\.1/);
  assert.equal(await page.getByTestId('qr').isVisible(), false);
  assert.equal(await page.getByTestId('new-key').isDisabled(), true, '--key set the key');
  assert.equal(await page.getByTestId('key-kept').textContent(), 'The key was set with --key for this run (not saved): restart PushCam without --key to make a new one.');
});

test('serve --ui with a camera names the camera its browser opened instead of a picker it could not fill', async (t) => {
  const serve = await serveUi(t, tempDir(t, 'panel'), ['--source', 'camera', '--fake-camera']);
  const page = await openPanel(t, serve.panelUrl);
  assert.ok(!(await page.getByTestId('camera-field').isVisible()));
  await eventually(async () => /fake/.test((await page.getByTestId('camera-name').textContent()) ?? ''), 'the camera name', WAIT_MS);
  assert.equal(await page.getByTestId('resolution-field').isVisible(), true);
  assert.equal(await page.getByTestId('start-on-launch-field').isVisible(), false);
});
