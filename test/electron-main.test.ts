// The built main process (dist/electron/main.cjs, as `npm start` and the installers run it) under
// plain Node, with a stand-in `electron` module: startup, the window and its scheme, IPC, the tray,
// closing to the tray, staying awake for viewers, start on launch, and quitting. What only the
// real runtime can show is in test/electron-app.test.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { type CallReply, type ControlState, ipcChannel } from '../shared/contract.js';
import { APP_PAGE } from '../electron/window.js';
import { APP_CSP } from '../shared/page-csp.js';
import { FakeElectron, type FakeWindow } from './helpers/fake-electron.js';
import { eventually } from './helpers/server.js';
import { freePort, tempDir } from './helpers/fixtures.js';

const MAIN = join(import.meta.dirname, '../dist/electron/main.cjs');

interface Started {
  electron: FakeElectron;
  window: FakeWindow;
  port: number;
  call(name: 'getState' | 'start' | 'stop'): Promise<ControlState>;
}

/** Starts the app with its own user data folder, on a free loopback port, and waits for the window. */
async function startApp(t: TestContext, settings: Record<string, unknown> = {}): Promise<Started> {
  assert.ok(existsSync(MAIN), `${MAIN} is not built; run npm run build`);
  const userData = tempDir(t, 'main');
  const port = await freePort();
  await writeFile(join(userData, 'settings.json'), JSON.stringify({ port, lanAccess: false, ...settings }));
  const electron = new FakeElectron(userData);
  electron.loadMain(MAIN);
  electron.makeReady();
  await eventually(() => electron.windows[0]?.loadedUrl === APP_PAGE, 'the window to load the app page');
  const window = electron.windows[0]!;
  t.after(() => quit(electron));
  const call = async (name: string): Promise<ControlState> => {
    const reply = (await window.webContents.invoke(ipcChannel.call(name as 'getState'), electron.ipcHandlers)) as CallReply;
    if (!reply.ok) throw new Error(reply.error);
    return reply.value as ControlState;
  };
  return { electron, window, port, call };
}

/** Quits the app and waits until it has let go of everything. */
async function quit(electron: FakeElectron): Promise<void> {
  if (electron.app.listenerCount('will-quit') === 0) return;
  const done = new Promise((resolve) => electron.app.once('quit', resolve));
  electron.app.quit();
  await done;
}

test('main: a second launch quits at once, without a window', async () => {
  const electron = new FakeElectron(tmpdir());
  electron.hasLock = false;
  electron.loadMain(MAIN);
  assert.equal(electron.app.quits, 1);
  electron.makeReady();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(electron.windows.length, 0);
});

test('main: the window is made secure, loads the app page from app://, and shows when ready', async (t) => {
  const { electron, window } = await startApp(t);
  assert.deepEqual(electron.schemes, [
    { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true } },
  ]);
  const prefs = window.options.webPreferences as Record<string, unknown>;
  assert.equal(prefs.contextIsolation, true);
  assert.equal(prefs.sandbox, true);
  assert.match(String(prefs.preload), /dist[/\\]electron[/\\]preload\.cjs$/);
  assert.ok(existsSync(String(prefs.preload)), 'the preload is built beside main.cjs');
  assert.ok(window.webContents.permissionRequestHandler && window.webContents.permissionCheckHandler, 'permission handlers set');
  assert.deepEqual(window.webContents.windowOpenHandler?.({ url: 'https://example.com/' }), { action: 'deny' });

  const page = await electron.protocolHandlers.get('app')!(new Request(APP_PAGE));
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-security-policy'), APP_CSP);
  assert.match(await page.text(), /data-testid="start-stop"/);

  assert.equal(window.visible, false, 'hidden until its first paint');
  window.emit('ready-to-show');
  assert.equal(window.visible, true);
});

test('main: the tray shows the broadcast and starts and stops it', async (t) => {
  const { electron, call } = await startApp(t);
  const tray = electron.trays[0]!;
  assert.deepEqual(
    tray.menu.map((item) => item.label ?? item.type),
    ['Not broadcasting', 'separator', 'Show window', 'Start broadcasting', 'separator', 'Quit PushCam'],
  );
  tray.click('Start broadcasting');
  await eventually(() => tray.menu[0]?.label === 'Broadcasting: no viewers yet', 'the tray to say broadcasting');
  assert.equal((await call('getState')).broadcast.state, 'broadcasting');
  assert.match(tray.tooltip, /Broadcasting/);
  tray.click('Stop broadcasting');
  await eventually(() => tray.menu[0]?.label === 'Not broadcasting', 'the tray to say stopped');
});

test('main: closing the window while broadcasting hides it and says so once; when stopped it quits', async (t) => {
  const { electron, window, call } = await startApp(t);
  await call('start');
  assert.equal(window.userCloses(), false, 'kept while broadcasting');
  assert.equal(window.visible, false);
  assert.equal(window.userCloses(), false);
  assert.equal(electron.notifications.length, 1, 'the notice comes once');
  assert.match(electron.notifications[0]!.title, /still broadcasting/);

  electron.app.emit('second-instance');
  assert.equal(window.visible, true, 'a second launch shows the window again');

  await call('stop');
  const quitting = new Promise((resolve) => electron.app.once('quit', resolve));
  assert.equal(window.userCloses(), true);
  electron.app.emit('window-all-closed');
  await quitting;
});

test('main: the system stays awake only while viewers watch', async (t) => {
  const { electron, call, port } = await startApp(t);
  const state = await call('start');
  assert.equal(electron.blockers.size, 0, 'no viewer, no blocker');
  const viewer = request(`http://127.0.0.1:${port}/stream.mjpg?key=${state.share.key}`);
  viewer.on('error', () => undefined); // "socket hang up" when it leaves below
  viewer.end();
  await eventually(() => electron.blockers.size === 1, 'a blocker while watched');
  assert.ok(electron.calls.includes('powerSaveBlocker.start prevent-app-suspension'));
  viewer.destroy();
  await eventually(() => electron.blockers.size === 0, 'the blocker to go when the viewer leaves');
});

test('main: a crashed page tells viewers, and is loaded again after a back-off that grows', async (t) => {
  const { electron, window, call } = await startApp(t);
  // The preview keeps the camera source running, as a viewer would.
  assert.deepEqual(await window.webContents.invoke(ipcChannel.call('setPreview'), electron.ipcHandlers, true), { ok: true, value: undefined });
  window.loadedUrl = '';
  window.webContents.emit('render-process-gone', {}, { reason: 'crashed' });
  assert.equal(window.loadedUrl, '', 'not at once');
  assert.deepEqual((await call('getState')).source, { kind: 'camera', state: 'error', error: "PushCam's window stopped capturing; it is starting again" });
  await eventually(() => window.loadedUrl === APP_PAGE, 'the page loaded again after 1 s', 3000);
  window.loadedUrl = '';
  window.webContents.emit('render-process-gone', {}, { reason: 'crashed' });
  await new Promise((resolve) => setTimeout(resolve, 1300));
  assert.equal(window.loadedUrl, '', 'a second crash waits longer');
  await eventually(() => window.loadedUrl === APP_PAGE, 'the page loaded again after 2 s', 3000);
});

test('main: broadcasting starts at launch when the setting says so', async (t) => {
  const { call } = await startApp(t, { startOnLaunch: true });
  await eventually(async () => (await call('getState')).broadcast.state === 'broadcasting', 'broadcasting at launch');
});

test('main: quitting closes the core before the app ends', async (t) => {
  const { electron, call, port } = await startApp(t);
  await call('start');
  assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
  await quit(electron);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the server is closed');
  assert.equal(electron.trays[0]!.destroyed, true);
  assert.equal(electron.ipcHandlers.size, 0, 'IPC unregistered');
});
