import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { Backoff, type BackoffOptions, seconds } from './backoff.js';
import { CdpPipe } from './cdp-pipe.js';

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
  /** The capture page with its token: handed over the DevTools pipe, never on a command line. */
  url: string;
  /** Chromium's built-in test camera instead of a real one. */
  fakeCamera: boolean;
  log: (line: string) => void;
  /** The browser or its page stopped and is being restarted: what viewers should be told meanwhile. */
  onFault?: (message: string) => void;
  restart?: BackoffOptions;
}

export interface CapturePage {
  /** The running browser's process id, null between restarts. */
  readonly pid: number | null;
  close(): Promise<void>;
}

/** What viewers read on the "camera unavailable" picture while the browser restarts. */
export const RESTARTING = 'The capture browser stopped; PushCam is restarting it';

function browserArgs(o: CapturePageOptions, profile: string): string[] {
  return [
    '--headless=new',
    `--user-data-dir=${profile}`,
    // PushCam drives the browser over fds 3 and 4: the page's URL and its token go there, where
    // no other user can read them (a command line is in every user's process list), and the
    // browser quits when PushCam's end closes, however PushCam ended.
    '--remote-debugging-pipe',
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
    'about:blank',
  ];
}

/**
 * Runs the capture page in a headless browser until close(). When the browser exits or the
 * page's renderer crashes, it says so in one line, calls onFault, and starts a new browser after
 * a back-off (1 s, doubling to 30 s; 1 s again after a minute of running).
 */
export function launchCapturePage(o: CapturePageOptions): CapturePage {
  removeStaleProfiles();
  const backoff = new Backoff(o.restart);
  let run: BrowserRun | null = null;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const start = (): void => {
    backoff.started();
    const current = runBrowser(o, (why) => {
      const wait = backoff.next();
      o.log(`${why}; restarting it in ${seconds(wait)}`);
      o.onFault?.(RESTARTING);
      timer = setTimeout(() => void current.stop().then(() => closed || start()), wait);
    });
    run = current;
  };
  start();
  // If PushCam exits without close(), the browser goes too (a kill -9 closes the pipe instead).
  const killOnExit = (): void => run?.kill('SIGTERM');
  process.once('exit', killOnExit);
  return {
    get pid() {
      return run?.pid ?? null;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      process.off('exit', killOnExit);
      await run?.stop();
    },
  };
}

interface BrowserRun {
  readonly pid: number | null;
  kill(signal: NodeJS.Signals): void;
  /** Ends the browser and its helpers and removes its profile; the same promise every time. */
  stop(): Promise<void>;
}

/** One browser, from start to exit: `onDown` is called once if it stops without stop(). */
function runBrowser(o: CapturePageOptions, onDown: (why: string) => void): BrowserRun {
  const profile = mkdtempSync(join(tmpdir(), `pushcam-browser-${process.pid}-`));
  // Its own process group on POSIX, so that stopping ends its helper processes too, which would
  // otherwise keep writing into the profile while it is being removed.
  const ownGroup = process.platform !== 'win32';
  const child = spawn(o.browser, browserArgs(o, profile), { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: ownGroup });
  const kill = (signal: NodeJS.Signals): void => {
    try {
      if (ownGroup && child.pid) process.kill(-child.pid, signal);
      else child.kill(signal);
    } catch {
      // Already gone.
    }
  };
  let stopping: Promise<void> | null = null;
  /** Why PushCam ends this browser itself (its page crashed), to say instead of the exit signal. */
  let reason: string | null = null;
  let lastErrorLine = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    const lines = text.split('\n').filter((line) => line.trim());
    if (lines.length > 0) lastErrorLine = lines[lines.length - 1].trim();
  });
  let reported = false;
  const down = (why: string): void => {
    if (reported || stopping) return;
    reported = true;
    onDown(why);
  };
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      down(`cannot start the capture browser ${o.browser}: ${err.message}`);
      resolve();
    });
    child.once('exit', (code, signal) => {
      // A browser that fails says why last on stderr; one that was killed was told nothing.
      const said = signal === null && lastErrorLine ? `: ${lastErrorLine}` : '';
      down(reason ?? `the capture browser exited (${signal ?? `code ${code}`})${said}`);
      resolve();
    });
  });
  const endOnPurpose = (why: string): void => {
    reason ??= why;
    kill('SIGKILL');
  };

  const cdp = new CdpPipe(child.stdio[3] as Writable, child.stdio[4] as Readable);
  let pageTarget = '';
  cdp.on('event', (method, params) => {
    const mine = params.targetId === pageTarget;
    if (method === 'Target.targetCrashed' && mine) endOnPurpose(`the capture browser's page crashed (${String(params.status)})`);
    if (method === 'Target.targetDestroyed' && mine) endOnPurpose("the capture browser's page closed");
  });
  openPage(cdp, o.url).then(
    (target) => (pageTarget = target),
    // A pipe that closed is the browser exiting, which its exit reports.
    (err: Error) => cdp.isClosed || endOnPurpose(`the capture browser could not open the capture page (${err.message})`),
  );

  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      cdp.close();
      if (child.exitCode === null && child.signalCode === null) {
        kill('SIGTERM');
        const forceKill = setTimeout(() => kill('SIGKILL'), KILL_AFTER_MS);
        await exited;
        clearTimeout(forceKill);
      }
      // Helpers that outlived the browser's main process.
      kill('SIGKILL');
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    })());
  exited.then(() => {
    // A browser that went by itself leaves helpers and a profile behind: clear them now.
    if (reported) void stop();
  });
  return {
    get pid() {
      return stopping || child.exitCode !== null || child.signalCode !== null ? null : (child.pid ?? null);
    },
    kill,
    stop,
  };
}

/** Navigates the browser's first tab to the capture page; resolves with its target id, to watch for its crash. */
async function openPage(cdp: CdpPipe, url: string): Promise<string> {
  await cdp.send('Target.setDiscoverTargets', { discover: true });
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: { targetId: string; type: string }[] };
  const tab = targetInfos.find((target) => target.type === 'page');
  const targetId = tab ? tab.targetId : ((await cdp.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string }).targetId;
  const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
  const navigated = (await cdp.send('Page.navigate', { url }, sessionId)) as { errorText?: string };
  if (navigated.errorText) throw new Error(navigated.errorText);
  return targetId;
}

/** Removes the profiles of capture browsers whose PushCam is gone (a kill -9 leaves its profile behind). */
export function removeStaleProfiles(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(/^pushcam-browser-(\d+)-/.exec(name)?.[1]);
    if (!pid || pid === process.pid || isRunning(pid)) continue;
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
