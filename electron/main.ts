// The desktop app's main process: one instance, one window that captures the camera, a tray
// icon, and the core (ControlService) behind the IPC adapter. Bundled to dist/electron/main.cjs;
// the preload, the tray icons (dist/electron/icons) and the pages (dist/renderer) sit around it.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  MessageChannelMain,
  nativeTheme,
  Notification,
  powerSaveBlocker,
  protocol,
  shell,
  systemPreferences,
} from 'electron';
import type { ControlState } from '../shared/contract.js';
import { Backoff, seconds } from '../server/capture/backoff.js';
import { ControlService } from '../server/control/service.js';
import { stderrLog as log } from '../server/log.js';
import { serveAppRequest } from './app-protocol.js';
import { registerIpc } from './ipc.js';
import { createTray } from './tray.js';
import { APP_PAGE, APP_SCHEME, secureWindow, type Theme, windowBackground, windowOptions } from './window.js';

const HERE = __dirname;
const RENDERER_ROOT = join(HERE, '..', 'renderer');
/** A quit must not hang on a viewer's socket or a slow disk. */
const SHUTDOWN_TIMEOUT_MS = 3000;
/** What viewers read while the window's crashed page is loaded again. */
const WINDOW_RESTARTING = "PushCam's window stopped capturing; it is starting again";
const APP_ID = 'app.pushcam.desktop';

let quitting = false;

// Privileges can only be given before the app is ready.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true, codeCache: true } },
]);

if (app.requestSingleInstanceLock()) {
  // Windows shows notifications only for an app with an id (the installer's shortcut carries it).
  if (process.platform === 'win32') app.setAppUserModelId(APP_ID);
  app.on('before-quit', () => (quitting = true));
  app.whenReady().then(startApp).catch(failToStart);
} else {
  // PushCam already runs; it shows its window on 'second-instance'.
  app.quit();
}

async function startApp(): Promise<void> {
  if (!existsSync(join(RENDERER_ROOT, 'app', 'index.html'))) {
    throw new Error(`the window's pages are not built (${RENDERER_ROOT}); run \`npm run build\` in the PushCam folder`);
  }
  const userData = app.getPath('userData');
  const service = await ControlService.create({ settingsFile: join(userData, 'settings.json'), configDir: userData, captureInWindow: true, log });
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(request.url, RENDERER_ROOT));

  const win = createWindow(service);
  const unregisterIpc = registerIpc({ ipcMain, core: service, webContents: win.webContents, createChannel: () => new MessageChannelMain(), log });
  const tray = createTray(join(HERE, 'icons'), service.getState(), {
    showWindow: () => showWindow(win),
    toggleBroadcast: () => void toggleBroadcast(service),
    quit: () => app.quit(),
  });
  service.on('state', tray.update);
  const stopKeepingAwake = keepAwakeWhileWatched(service);
  hideToTrayWhileBroadcasting(win, service, join(userData, 'tray-notice-shown'));
  app.on('second-instance', () => showWindow(win));
  app.on('activate', () => showWindow(win));
  app.on('window-all-closed', () => app.quit());
  shutDownBeforeQuit(async () => {
    unregisterIpc();
    stopKeepingAwake();
    tray.destroy();
    await service.close();
  });

  if (service.getState().settings.startOnLaunch) void settle(service.start());
  await win.loadURL(APP_PAGE);
}

function failToStart(err: unknown): void {
  dialog.showErrorBox('PushCam could not start', err instanceof Error ? err.message : String(err));
  app.exit(1);
}

function createWindow(service: ControlService): BrowserWindow {
  const theme = (): Theme => (nativeTheme.shouldUseDarkColors ? 'dark' : 'light');
  const win = new BrowserWindow(windowOptions(join(HERE, 'preload.cjs'), theme()));
  secureWindow(win, {
    shownUrls: () => service.getState().share.urls,
    openExternal: (url) => void shell.openExternal(url),
    allowCamera: askCameraAccess,
  });
  win.once('ready-to-show', () => win.show());
  nativeTheme.on('updated', () => {
    if (!win.isDestroyed()) win.setBackgroundColor(windowBackground(theme()));
  });
  reloadAfterCrash(win, service);
  return win;
}

/**
 * The page captures the camera: if it crashes, viewers are told (the "camera unavailable"
 * picture, `error` in the state) and it is loaded again after a back-off, so a page that keeps
 * crashing is retried ever more slowly, never in a loop and never given up on.
 */
function reloadAfterCrash(win: BrowserWindow, service: ControlService): void {
  const backoff = new Backoff();
  backoff.started();
  let reload: NodeJS.Timeout | undefined;
  win.webContents.on('render-process-gone', (_event, details) => {
    if (win.isDestroyed() || details.reason === 'clean-exit' || reload) return;
    const wait = backoff.next();
    log(`the window's page stopped (${details.reason}); loading it again in ${seconds(wait)}`);
    service.reportCamera({ state: 'error', fault: 'other', message: WINDOW_RESTARTING });
    reload = setTimeout(() => {
      reload = undefined;
      if (win.isDestroyed()) return;
      backoff.started();
      win.loadURL(APP_PAGE).catch((err: unknown) => log(`reloading the window failed: ${String(err)}`));
    }, wait);
    reload.unref();
  });
}

/** macOS gates the camera per app and asks the user once; elsewhere there is no such gate. */
async function askCameraAccess(): Promise<boolean> {
  if (process.platform !== 'darwin') return true;
  return systemPreferences.askForMediaAccess('camera');
}

function showWindow(win: BrowserWindow): void {
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

function isBroadcasting(state: ControlState): boolean {
  return state.broadcast.state === 'broadcasting' || state.broadcast.state === 'starting';
}

function toggleBroadcast(service: ControlService): Promise<void> {
  return settle(isBroadcasting(service.getState()) ? service.stop() : service.start());
}

/** Runs a core action from the tray or at launch, where there is no caller to tell: the error is logged. */
async function settle(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (err) {
    log(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Closing the window while broadcasting would stop the camera (the window captures), so it hides
 * instead and says so once; when not broadcasting, closing quits, as a user closing an idle
 * utility expects. A second launch (or the tray) brings the hidden window back.
 */
function hideToTrayWhileBroadcasting(win: BrowserWindow, service: ControlService, noticeMarker: string): void {
  win.on('close', (event) => {
    if (quitting || !isBroadcasting(service.getState())) return;
    event.preventDefault();
    win.hide();
    tellOnceStillBroadcasting(noticeMarker);
  });
}

function tellOnceStillBroadcasting(marker: string): void {
  if (existsSync(marker) || !Notification.isSupported()) return;
  writeFileSync(marker, `${new Date().toISOString()}\n`);
  new Notification({
    title: 'PushCam is still broadcasting',
    body: 'Viewers keep watching. Stop or quit from the PushCam tray icon; starting PushCam again shows its window.',
  }).show();
}

/** Stops the system from suspending the app (not the display) while anyone watches. */
function keepAwakeWhileWatched(service: ControlService): () => void {
  let blocker: number | null = null;
  const follow = (state: ControlState): void => {
    const watched = state.viewers.length > 0;
    if (watched && blocker === null) blocker = powerSaveBlocker.start('prevent-app-suspension');
    if (!watched && blocker !== null) {
      powerSaveBlocker.stop(blocker);
      blocker = null;
    }
  };
  service.on('state', follow);
  return () => {
    service.off('state', follow);
    if (blocker !== null) powerSaveBlocker.stop(blocker);
  };
}

/** Holds the quit until `shutdown` is done (viewers disconnected, settings written), at most SHUTDOWN_TIMEOUT_MS. */
function shutDownBeforeQuit(shutdown: () => Promise<void>): void {
  let state: 'running' | 'closing' | 'closed' = 'running';
  app.on('will-quit', (event) => {
    if (state === 'closed') return;
    event.preventDefault();
    if (state === 'closing') return;
    state = 'closing';
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS).unref());
    Promise.race([shutdown(), timeout])
      .catch((err: unknown) => log(`while quitting: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        state = 'closed';
        app.quit();
      });
  });
}
