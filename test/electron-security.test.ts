// The desktop window's security policy, checked without Electron: the options the window is
// made with, who gets the camera, where links go, what the app:// scheme serves and with which CSP.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { BrowserWindow } from 'electron';
import { appFilePath, serveAppRequest } from '../electron/app-protocol.js';
import { APP_ORIGIN, APP_PAGE, isAppUrl, linkDecision, permissionDecision, secureWindow, windowOptions } from '../electron/window.js';
import { APP_CSP } from '../shared/page-csp.js';
import { tempDir } from './helpers/fixtures.js';

test('window: every security option is set, and the window keeps capturing when hidden', () => {
  const options = windowOptions('/app/preload.cjs', 'dark');
  assert.deepEqual(
    {
      preload: options.webPreferences?.preload,
      contextIsolation: options.webPreferences?.contextIsolation,
      sandbox: options.webPreferences?.sandbox,
      nodeIntegration: options.webPreferences?.nodeIntegration,
      nodeIntegrationInWorker: options.webPreferences?.nodeIntegrationInWorker,
      nodeIntegrationInSubFrames: options.webPreferences?.nodeIntegrationInSubFrames,
      webSecurity: options.webPreferences?.webSecurity,
      allowRunningInsecureContent: options.webPreferences?.allowRunningInsecureContent,
      webviewTag: options.webPreferences?.webviewTag,
      backgroundThrottling: options.webPreferences?.backgroundThrottling,
      spellcheck: options.webPreferences?.spellcheck,
    },
    {
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      backgroundThrottling: false,
      spellcheck: false,
    },
  );
  assert.equal(options.show, false, 'shown on ready-to-show, not blank');
  assert.ok((options.minWidth ?? 0) >= 640 && (options.minHeight ?? 0) >= 480);
  assert.notEqual(windowOptions('/p', 'dark').backgroundColor, windowOptions('/p', 'light').backgroundColor);
});

test('isAppUrl: only the app:// pages of PushCam', () => {
  for (const url of [APP_PAGE, APP_ORIGIN, `${APP_ORIGIN}/`, `${APP_ORIGIN}/app/capture.js?x=1#y`]) assert.equal(isAppUrl(url), true, url);
  for (const url of [
    'app://other/app/index.html',
    'app://pushcam.evil.com/',
    'app://user@pushcam/',
    'https://pushcam/',
    'file:///work/main/dist/renderer/app/index.html',
    'http://127.0.0.1:8080/',
    'devtools://devtools/',
    'not a url',
    '',
  ]) {
    assert.equal(isAppUrl(url), false, url);
  }
});

const mainFrame = { isMainFrame: true, requestingUrl: APP_PAGE };

test('permissions: the camera for the app page, requested or checked', () => {
  assert.equal(permissionDecision('media', { ...mainFrame, mediaTypes: ['video'] }, `${APP_ORIGIN}/`), true);
  assert.equal(permissionDecision('media', { ...mainFrame, mediaType: 'video' }, APP_ORIGIN), true);
});

test('permissions: no microphone, no screen, nothing else, nobody else', () => {
  const denied: [string, Parameters<typeof permissionDecision>][] = [
    ['microphone', ['media', { ...mainFrame, mediaTypes: ['audio'] }, APP_ORIGIN]],
    ['camera with microphone', ['media', { ...mainFrame, mediaTypes: ['video', 'audio'] }, APP_ORIGIN]],
    ['microphone check', ['media', { ...mainFrame, mediaType: 'audio' }, APP_ORIGIN]],
    ['unknown device check', ['media', { ...mainFrame, mediaType: 'unknown' }, APP_ORIGIN]],
    ['media without devices', ['media', { ...mainFrame, mediaTypes: [] }, APP_ORIGIN]],
    ['media saying nothing', ['media', mainFrame, APP_ORIGIN]],
    ['screen capture', ['display-capture', { ...mainFrame, mediaTypes: ['video'] }, APP_ORIGIN]],
    ['notifications', ['notifications', mainFrame, APP_ORIGIN]],
    ['geolocation', ['geolocation', mainFrame, APP_ORIGIN]],
    ['clipboard read', ['clipboard-read', mainFrame, APP_ORIGIN]],
    ['open external', ['openExternal', mainFrame, APP_ORIGIN]],
    ['another origin', ['media', { isMainFrame: true, requestingUrl: 'https://example.com/', mediaTypes: ['video'] }, 'https://example.com/']],
    ['a file page', ['media', { isMainFrame: true, mediaTypes: ['video'] }, 'file:///']],
    ['another page claiming our origin', ['media', { isMainFrame: true, requestingUrl: 'https://example.com/', mediaTypes: ['video'] }, APP_ORIGIN]],
    ['a subframe', ['media', { isMainFrame: false, requestingUrl: APP_PAGE, mediaTypes: ['video'] }, APP_ORIGIN]],
  ];
  for (const [what, args] of denied) assert.equal(permissionDecision(...args), false, what);
});

test('links: nothing navigates the window; only a share URL it shows opens in the browser', () => {
  const shown = ['http://192.168.1.20:8080/?key=abc'];
  assert.equal(linkDecision(shown[0]!, shown), 'open-external');
  for (const url of ['http://192.168.1.20:8080/?key=other', 'https://example.com/', APP_PAGE, 'file:///etc/passwd', 'javascript:alert(1)']) {
    assert.equal(linkDecision(url, shown), 'deny', url);
  }
  assert.equal(linkDecision('file:///x', ['file:///x']), 'deny', 'only web URLs leave the app');
});

/** A window that records what secureWindow hooks into it. */
function fakeWindow() {
  const hooks = {
    willNavigate: undefined as undefined | ((event: { url: string; preventDefault(): void }) => void),
    windowOpen: undefined as undefined | ((details: { url: string }) => { action: string }),
    request: undefined as undefined | ((wc: unknown, permission: string, grant: (ok: boolean) => void, details: object) => void),
    check: undefined as undefined | ((wc: unknown, permission: string, origin: string, details: object) => boolean),
  };
  const win = {
    webContents: {
      on: (event: string, listener: NonNullable<typeof hooks.willNavigate>) => {
        if (event === 'will-navigate') hooks.willNavigate = listener;
      },
      setWindowOpenHandler: (handler: NonNullable<typeof hooks.windowOpen>) => (hooks.windowOpen = handler),
      session: {
        setPermissionRequestHandler: (handler: NonNullable<typeof hooks.request>) => (hooks.request = handler),
        setPermissionCheckHandler: (handler: NonNullable<typeof hooks.check>) => (hooks.check = handler),
      },
    },
  };
  return { win: win as unknown as BrowserWindow, hooks };
}

test('secureWindow: navigation and new windows are refused, the camera asks the OS first', async () => {
  const { win, hooks } = fakeWindow();
  const opened: string[] = [];
  let cameraAllowed = true;
  secureWindow(win, { shownUrls: () => ['http://10.0.0.2:8080/?key=k'], openExternal: (url) => opened.push(url), allowCamera: async () => cameraAllowed });

  let prevented = 0;
  hooks.willNavigate!({ url: 'https://example.com/', preventDefault: () => prevented++ });
  hooks.willNavigate!({ url: 'http://10.0.0.2:8080/?key=k', preventDefault: () => prevented++ });
  assert.equal(prevented, 2);
  assert.deepEqual(hooks.windowOpen!({ url: 'https://example.com/' }), { action: 'deny' });
  assert.deepEqual(hooks.windowOpen!({ url: 'http://10.0.0.2:8080/?key=k' }), { action: 'deny' });
  assert.deepEqual(opened, ['http://10.0.0.2:8080/?key=k', 'http://10.0.0.2:8080/?key=k']);

  const request = (permission: string, details: object): Promise<boolean> => new Promise((resolve) => hooks.request!(null, permission, resolve, details));
  const camera = { ...mainFrame, mediaTypes: ['video'], securityOrigin: `${APP_ORIGIN}/` };
  assert.equal(await request('media', camera), true);
  assert.equal(await request('media', { ...camera, mediaTypes: ['video', 'audio'] }), false);
  assert.equal(await request('geolocation', mainFrame), false);
  cameraAllowed = false;
  assert.equal(await request('media', camera), false, 'the OS said no (macOS camera privacy)');
  assert.equal(hooks.check!(null, 'media', `${APP_ORIGIN}/`, { ...mainFrame, mediaType: 'video' }), true);
  assert.equal(hooks.check!(null, 'media', 'https://example.com/', { ...mainFrame, mediaType: 'video' }), false);
});

test('CSP: nothing from elsewhere, no inline script, no eval, no framing', () => {
  const directives = new Map(APP_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
  assert.deepEqual(directives.get('default-src'), ["'none'"]);
  assert.deepEqual(directives.get('script-src'), ["'self'"]);
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"]);
  assert.deepEqual(directives.get('object-src'), ["'none'"]);
  for (const sources of directives.values()) {
    for (const source of sources) assert.ok(!/unsafe|\*|https?:/.test(source), `no ${source} in the CSP`);
  }
});

test('app:// serves the built pages with the CSP, and nothing outside them', async (t) => {
  const root = tempDir(t, 'app');
  await mkdir(join(root, 'app'));
  await writeFile(join(root, 'app/index.html'), '<!doctype html><title>PushCam</title>');
  await writeFile(join(root, 'app/app.js'), 'console.log(1)');
  await writeFile(join(root, 'app/notes.txt'), 'not served');

  const page = await serveAppRequest(APP_PAGE, root);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(page.headers.get('content-security-policy'), APP_CSP);
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.match(await page.text(), /<title>PushCam<\/title>/);
  assert.equal((await serveAppRequest(`${APP_ORIGIN}/app/app.js`, root)).headers.get('content-type'), 'text/javascript; charset=utf-8');

  for (const url of [
    `${APP_ORIGIN}/app/missing.js`,
    `${APP_ORIGIN}/app/notes.txt`,
    `${APP_ORIGIN}/app/`,
    `${APP_ORIGIN}/app/..%2F..%2F..%2Fetc%2Fpasswd`,
    `${APP_ORIGIN}/%2e%2e/%2e%2e/etc/passwd`,
    'app://other/app/index.html',
    'file:///etc/passwd',
  ]) {
    const response = await serveAppRequest(url, root);
    assert.equal(response.status, 404, url);
    assert.equal(response.headers.get('content-security-policy'), APP_CSP, url);
  }
  assert.equal(appFilePath(`${APP_ORIGIN}/app/..%2F..%2Fsecret`, root), null);
  assert.equal(appFilePath(`${APP_ORIGIN}/app/%00.js`, root), null);
});
