import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';

// `pushcam serve --source camera` captures through PushCam's capture page in a headless Chrome or
// Chromium: getUserMedia and VideoFrame.copyTo are the only portable way to read a camera
// without native modules. The browser runs with a throwaway profile and nothing that calls home.

const KILL_AFTER_MS = 5000;

function browserNames(): string[] {
  if (process.platform === 'win32') return ['chrome.exe', 'msedge.exe', 'chromium.exe'];
  return ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'microsoft-edge'];
}

/** Where browsers install themselves outside PATH (macOS apps, Windows Program Files). */
function knownLocations(): string[] {
  if (process.platform === 'darwin') {
    return [
      '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
      '/Applications/Chromium.app/Contents/MacOS/Chromium',
      '/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge',
    ];
  }
  if (process.platform === 'win32') {
    const roots = [process.env.PROGRAMFILES, process.env['PROGRAMFILES(X86)'], process.env.LOCALAPPDATA].filter((r): r is string => !!r);
    return roots.flatMap((root) => [
      join(root, 'Google', 'Chrome', 'Application', 'chrome.exe'),
      join(root, 'Microsoft', 'Edge', 'Application', 'msedge.exe'),
      join(root, 'Chromium', 'Application', 'chrome.exe'),
    ]);
  }
  return [];
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `name` in the first PATH folder that has it as an executable, else null. */
function onPath(name: string): string | null {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  return dirs.map((dir) => join(dir, name)).find(isExecutableFile) ?? null;
}

/**
 * The browser to capture with: `explicit` (a path, or a name on PATH) if given, else the first
 * Chrome, Chromium or Edge on PATH or in its usual install folder. Throws, naming what it looked for.
 */
export function findBrowser(explicit?: string): string {
  if (explicit) {
    const found = explicit.includes(sep) || explicit.includes('/') ? (isExecutableFile(explicit) ? explicit : null) : onPath(explicit);
    if (!found) throw new Error(`--browser ${explicit}: not an executable file`);
    return found;
  }
  const names = browserNames();
  const locations = knownLocations();
  for (const name of names) {
    const found = onPath(name);
    if (found) return found;
  }
  const installed = locations.find(isExecutableFile);
  if (installed) return installed;
  throw new Error(`no Chrome or Chromium found (looked for: ${[...names.map((n) => `${n} on PATH`), ...locations].join(', ')}); install one or pass --browser PATH`);
}

export interface CapturePageOptions {
  browser: string;
  url: string;
  /** Chromium's built-in test camera instead of a real one. */
  fakeCamera: boolean;
  log: (line: string) => void;
}

function browserArgs(o: CapturePageOptions, profile: string): string[] {
  return [
    '--headless=new',
    `--user-data-dir=${profile}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    // The page is the only one and invisible: nothing may slow its timers down.
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--mute-audio',
    // The camera without a permission prompt nobody could answer.
    '--use-fake-ui-for-media-stream',
    // Most webcams deliver 30 fps; Chromium's fake camera runs at 20 unless told.
    ...(o.fakeCamera ? ['--use-fake-device-for-media-stream=fps=30'] : []),
    '--autoplay-policy=no-user-gesture-required',
    // Chromium refuses to start as root (containers, some servers) unless its sandbox is off.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    o.url,
  ];
}

/** Runs the capture page in a headless browser until close(). */
export function launchCapturePage(o: CapturePageOptions): { close(): Promise<void> } {
  const profile = mkdtempSync(join(tmpdir(), 'pushcam-browser-'));
  // Its own process group on POSIX, so that closing ends its helper processes too, which would
  // otherwise keep writing into the profile while it is being removed.
  const ownGroup = process.platform !== 'win32';
  const child = spawn(o.browser, browserArgs(o, profile), { stdio: ['ignore', 'ignore', 'pipe'], detached: ownGroup });
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (ownGroup && child.pid) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // Already gone.
    }
  };
  let closing = false;
  let lastErrorLine = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    const lines = text.split('\n').filter((line) => line.trim());
    if (lines.length > 0) lastErrorLine = lines[lines.length - 1].trim();
  });
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      o.log(`pushcam: cannot start the capture browser ${o.browser}: ${err.message}`);
      resolve();
    });
    child.once('exit', (code, signal) => {
      if (!closing) o.log(`pushcam: the capture browser exited (${signal ?? `code ${code}`})${lastErrorLine ? `: ${lastErrorLine}` : ''}; no camera pictures until PushCam restarts`);
      resolve();
    });
  });
  // If PushCam itself exits without close(), the browser must not outlive it.
  const killOnExit = (): void => kill('SIGTERM');
  process.once('exit', killOnExit);

  return {
    async close() {
      closing = true;
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        kill('SIGTERM');
        const forceKill = setTimeout(() => kill('SIGKILL'), KILL_AFTER_MS);
        await exited;
        clearTimeout(forceKill);
      }
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    },
  };
}
