// The window's security policy. The decisions are plain functions (tested without Electron);
// secureWindow() wires them to a real window. Electron is imported for its types only, so this
// file loads under plain Node.
import type { BrowserWindow, BrowserWindowConstructorOptions } from 'electron';

/**
 * The app's pages live at app://pushcam/, a scheme registered as standard and secure: a real
 * origin of their own (file:// pages share one with every file on disk), a secure context for
 * getUserMedia, and responses whose headers we write, so the CSP is an HTTP header.
 */
export const APP_SCHEME = 'app';
const APP_HOST = 'pushcam';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_PAGE = `${APP_ORIGIN}/app/index.html`;

export type Theme = 'dark' | 'light';

/** Matches the page's own background, so a window never flashes white before it paints. */
const BACKGROUND: Record<Theme, string> = { dark: '#1c1d21', light: '#f5f6f8' };

export function windowBackground(theme: Theme): string {
  return BACKGROUND[theme];
}

export function windowOptions(preloadPath: string, theme: Theme = 'light'): BrowserWindowConstructorOptions {
  return {
    width: 1120,
    height: 780,
    minWidth: 720,
    minHeight: 520,
    title: 'PushCam',
    show: false,
    backgroundColor: windowBackground(theme),
    autoHideMenuBar: true,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      // The window captures the camera: it must keep running when hidden or minimised.
      backgroundThrottling: false,
      spellcheck: false,
    },
  };
}

/** True for a URL of the app's own pages (and for its origin, with or without the slash). */
export function isAppUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
}

/** What Electron tells about a permission request or check, in the parts the decision reads. */
export interface PermissionDetails {
  isMainFrame: boolean;
  requestingUrl?: string;
  /** A request: the devices asked for. */
  mediaTypes?: readonly string[];
  /** A check: the device asked about. */
  mediaType?: string;
}

/** Only the camera, only for the app's own top-level page. No microphone, no screen, nothing else. */
export function permissionDecision(permission: string, details: PermissionDetails, origin: string): boolean {
  if (permission !== 'media' || !isAppUrl(origin) || !details.isMainFrame) return false;
  if (details.requestingUrl !== undefined && !isAppUrl(details.requestingUrl)) return false;
  const devices = details.mediaTypes ?? (details.mediaType === undefined ? [] : [details.mediaType]);
  return devices.length > 0 && devices.every((device) => device === 'video');
}

/**
 * Where a link may go: nowhere inside the app. A viewer URL the app itself shows (the share
 * URLs) opens in the system browser, so the user can check what viewers get; anything else is dropped.
 */
export function linkDecision(url: string, shownUrls: readonly string[]): 'open-external' | 'deny' {
  const isWeb = url.startsWith('http://') || url.startsWith('https://');
  return isWeb && shownUrls.includes(url) ? 'open-external' : 'deny';
}

export interface WindowPolicyHooks {
  /** The share URLs the window shows right now. */
  shownUrls(): readonly string[];
  openExternal(url: string): void;
  /** Asked before the camera is granted (the macOS system prompt); false refuses. */
  allowCamera(): Promise<boolean>;
}

/** Applies the policy above to a window and its session. */
export function secureWindow(win: BrowserWindow, hooks: WindowPolicyHooks): void {
  const contents = win.webContents;
  const followLink = (url: string): void => {
    if (linkDecision(url, hooks.shownUrls()) === 'open-external') hooks.openExternal(url);
  };
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    followLink(event.url);
  });
  contents.setWindowOpenHandler(({ url }) => {
    followLink(url);
    return { action: 'deny' };
  });
  contents.session.setPermissionRequestHandler((_contents, permission, grant, details) => {
    const origin = 'securityOrigin' in details && details.securityOrigin ? details.securityOrigin : details.requestingUrl;
    if (!permissionDecision(permission, details, origin)) return grant(false);
    hooks.allowCamera().then(grant, () => grant(false));
  });
  contents.session.setPermissionCheckHandler((_contents, permission, origin, details) => permissionDecision(permission, details, origin));
}
