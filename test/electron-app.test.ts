// The desktop app itself. `npm start` without the Electron runtime is checked everywhere; the app
// in the real runtime (playwright-core's _electron) only where the runtime is installed. Elsewhere
// those tests are reported as skipped, by name: a skip is not a pass.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import {
  type CallName,
  type ControlClient,
  type ClientEvents,
  type ControlState,
  EVENT_NAMES,
  type EventName,
  type FrameChannel,
} from '../shared/contract.js';
import { APP_PAGE } from '../electron/window.js';
import { contractCases } from './helpers/contract-cases.js';
import { eventually } from './helpers/server.js';
import { freePort, tempDir } from './helpers/fixtures.js';

const ROOT = join(import.meta.dirname, '..');
const LAUNCH = join(ROOT, 'electron/launch.mjs');

/** The runtime the electron package downloads on first run, if it did. */
function electronBinary(): string | null {
  const packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  const pathFile = join(packageDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const binary = join(packageDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(binary) ? binary : null;
}

const ELECTRON = electronBinary();
const NO_RUNTIME = 'Electron runtime not installed: node_modules/electron has no dist/ (its download needs the internet); UI and contract are tested in Chromium instead';

test('npm start without the Electron runtime: exits non-zero with one line naming the headless command', async (t) => {
  if (ELECTRON) return t.skip('the Electron runtime is installed here, so npm start opens the app instead');
  const cache = tempDir(t, 'electron-cache');
  // The first-run download must fail here even with internet: a mirror that refuses connections.
  const env = { ...process.env, ELECTRON_MIRROR: 'http://127.0.0.1:9/', electron_config_cache: cache };
  const run = spawnSync(process.execPath, [LAUNCH], { env, encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(run.status, 0);
  assert.equal(run.stdout, '');
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0]!, /^pushcam: the Electron runtime is not installed \(.*\)\. .*npx pushcam serve --source camera --ui$/);
});

interface RunningApp {
  app: ElectronApplication;
  page: Page;
  close(): Promise<void>;
}

/** The built app in the real runtime, with its own user data folder and Chromium's fake camera. */
async function launchApp(): Promise<RunningApp> {
  assert.ok(ELECTRON, NO_RUNTIME);
  const home = await mkdtemp(join(tmpdir(), 'pushcam-electron-home-'));
  const app = await _electron.launch({
    executablePath: ELECTRON,
    args: [ROOT, '--use-fake-device-for-media-stream'],
    // app.getPath('userData') follows XDG_CONFIG_HOME on Linux.
    env: { ...(process.env as Record<string, string>), XDG_CONFIG_HOME: home, HOME: home },
  });
  const page = await app.firstWindow();
  await page.waitForLoadState('domcontentloaded');
  await app.evaluate('globalThis.__name = (f) => f');
  await page.evaluate('globalThis.__name = (f) => f');
  const close = async (): Promise<void> => {
    await app.close().catch(() => undefined);
    await rm(home, { recursive: true, force: true });
  };
  return { app, page, close };
}

async function appFor(t: TestContext): Promise<RunningApp | null> {
  if (!ELECTRON) {
    t.skip(NO_RUNTIME);
    return null;
  }
  const running = await launchApp();
  t.after(running.close);
  return running;
}

test('electron app: the window shows the app page, sandboxed (no require, no process), with window.pushcam and nothing else', async (t) => {
  const running = await appFor(t);
  if (!running) return;
  const { page } = running;
  assert.equal(page.url(), APP_PAGE);
  const world = await page.evaluate(`({
    pushcam: Object.keys(window.pushcam).sort(),
    require: typeof require,
    process: typeof process,
    eval: (() => { try { return eval('"ran"'); } catch { return 'blocked'; } })(),
  })`);
  assert.deepEqual(world, { pushcam: ['call', 'on', 'openFrameChannel'], require: 'undefined', process: 'undefined', eval: 'blocked' });
  await page.evaluate(`location.href = 'https://example.com/'`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(page.url(), APP_PAGE, 'navigation is refused');
});

test('electron app: the camera is granted to the window, the microphone is not', async (t) => {
  const running = await appFor(t);
  if (!running) return;
  const outcome = (constraints: string): Promise<unknown> =>
    running.page.evaluate(`navigator.mediaDevices.getUserMedia(${constraints}).then(
      (stream) => { stream.getTracks().forEach((track) => track.stop()); return 'granted'; },
      (err) => err.name)`);
  assert.equal(await outcome('{ video: true }'), 'granted');
  assert.equal(await outcome('{ audio: true }'), 'NotAllowedError');
});

test('electron app: one click broadcasts the camera to an HTTP viewer; closing the window then hides it', async (t) => {
  const running = await appFor(t);
  if (!running) return;
  const { app, page } = running;
  await page.evaluate(`window.pushcam.call('updateSettings', { port: ${await freePort()}, lanAccess: false })`);
  await page.click('[data-testid=start-stop]');
  const state = (): Promise<ControlState> => page.evaluate(`window.pushcam.call('getState')`);
  await eventually(async () => (await state()).broadcast.state === 'broadcasting', 'broadcasting after one click');
  const url = new URL((await state()).share.urls[0]!);
  const snapshot = new URL(`/snapshot.jpg${url.search}`, url);
  await eventually(async () => (await fetch(snapshot)).headers.get('content-type') === 'image/jpeg', 'a camera frame at the viewer', 15_000);

  await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.close());
  await eventually(() => app.evaluate(({ BrowserWindow }) => !BrowserWindow.getAllWindows()[0]!.isVisible()), 'the window to hide');
  assert.equal((await fetch(snapshot)).status, 200, 'still broadcasting from the tray');
});

test('electron app: closing the window when not broadcasting quits', async (t) => {
  const running = await appFor(t);
  if (!running) return;
  const quit = new Promise<void>((resolve) => running.app.on('close', () => resolve()));
  await running.app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.close());
  await quit;
});

/**
 * A ControlClient over the real window's `window.pushcam`, for the contract cases. Events are
 * forwarded from the page once, for all names; a frame port cannot leave the page, so it is
 * checked and closed there and stands in here as a port that can only be closed.
 */
async function pageClient(page: Page): Promise<ControlClient> {
  const listeners = new Map<EventName, Set<(data: unknown) => void>>();
  await page.exposeFunction('__pushcamTestEvent', (name: EventName, data: unknown) => {
    for (const listener of listeners.get(name) ?? []) listener(data);
  });
  await page.evaluate(`for (const name of ${JSON.stringify(EVENT_NAMES)}) window.pushcam.on(name, (data) => window.__pushcamTestEvent(name, data))`);
  const call = async (name: CallName, ...args: unknown[]): Promise<unknown> => {
    const reply = (await page.evaluate(
      `window.pushcam.call(${JSON.stringify(name)}, ...${JSON.stringify(args)}).then((value) => ({ ok: true, value }), (err) => ({ ok: false, error: err.message }))`,
    )) as { ok: boolean; value?: unknown; error?: string };
    if (!reply.ok) throw new Error(reply.error);
    return reply.value;
  };
  return {
    call: call as ControlClient['call'],
    on<E extends keyof ClientEvents>(event: E, listener: (data: ClientEvents[E]) => void): () => void {
      if (event === 'connection') return () => undefined;
      if (!EVENT_NAMES.includes(event as EventName)) throw new Error(`"${event}" is not a PushCam event`);
      const set = listeners.get(event as EventName) ?? new Set();
      listeners.set(event as EventName, set.add(listener as (data: unknown) => void));
      return () => set.delete(listener as (data: unknown) => void);
    },
    async openFrameChannel(): Promise<FrameChannel> {
      const kind = await page.evaluate(`window.pushcam.openFrameChannel().then((c) => { c.port?.close(); return c.kind; })`);
      assert.equal(kind, 'port');
      return { kind: 'port', port: { close: () => undefined } as unknown as MessagePort };
    },
  };
}

contractCases(
  async () => {
    const running = await launchApp();
    return { client: await pageClient(running.page), close: running.close };
  },
  { prefix: 'contract in the Electron app', ...(ELECTRON ? {} : { skip: NO_RUNTIME }) },
);
