import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { browserFor, CHROMIUM_PATH, newPage, type Rgb } from './chromium.js';

// The three browser engines, each driven through its own remote protocol, behind one small
// interface, so a test of what a viewer sees runs the same in all three:
// - Chromium: the Debian package, through playwright-core (CDP).
// - Firefox ESR: the Debian package, through puppeteer-core over WebDriver BiDi, Firefox's own
//   remote protocol (no geckodriver needed, and puppeteer-core downloads no browser). Playwright
//   drives only its own patched Firefox builds, which cannot be had here.
// - WebKitGTK: no remote protocol to speak of, so test/helpers/webkit-driver.py runs a web view
//   (python3-gi) under xvfb-run and takes commands on stdin.
// Each browser gets a fresh profile and home folder, removed when the test ends.

export type EngineName = 'Chromium' | 'Firefox' | 'WebKit';

export interface EnginePage {
  readonly engine: EngineName;
  /** Opens `url`; resolves once its document has begun to load (a streaming <img> never lets it finish). */
  goto(url: string): Promise<void>;
  /** Runs `body`, the body of an async function of `arg`, in the page; resolves with its result (as JSON). */
  run<T>(body: string, arg?: unknown): Promise<T>;
}

export interface Engine {
  name: EngineName;
  /** Why this engine cannot run here, or null when it can. */
  missing(): string | null;
  open(t: TestContext): Promise<EnginePage>;
}

const FIREFOX_PATH = '/usr/bin/firefox-esr';
/** The system Python: the one on PATH may be a build without gi. */
const SYSTEM_PYTHON = '/usr/bin/python3';
const WEBKIT_DRIVER = fileURLToPath(new URL('webkit-driver.py', import.meta.url));
const VIEWPORT = { width: 960, height: 600 };

const asCall = (body: string, arg: unknown): string => `(async (arg) => { ${body} })(${JSON.stringify(arg ?? null)})`;

/** How to end a browser, once it runs. */
interface Running {
  close?: () => Promise<unknown>;
}

/**
 * A home folder for one browser, so its caches and settings land there, not in ~. When the test
 * ends, the browser is closed and then the folder removed.
 */
async function throwawayHome(t: TestContext, name: string, running: Running): Promise<NodeJS.ProcessEnv> {
  const home = await mkdtemp(join(tmpdir(), `pushcam-${name}-`));
  t.after(async () => {
    try {
      await running.close?.();
    } finally {
      // A helper process of the browser may still be writing its shader cache as it ends.
      await rm(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });
  return { ...process.env, HOME: home, XDG_CACHE_HOME: join(home, 'cache'), XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') };
}

const chromiumEngine: Engine = {
  name: 'Chromium',
  missing: () => (existsSync(CHROMIUM_PATH) ? null : `Chromium is not installed at ${CHROMIUM_PATH} (Debian: apt-get install chromium)`),
  async open(t) {
    const page = await newPage(await browserFor(t), { viewport: VIEWPORT });
    return {
      engine: 'Chromium',
      goto: async (url) => void (await page.goto(url, { waitUntil: 'commit' })),
      run: (body, arg) => page.evaluate(asCall(body, arg)),
    };
  },
};

const firefoxEngine: Engine = {
  name: 'Firefox',
  missing: () => (existsSync(FIREFOX_PATH) ? null : `Firefox ESR is not installed at ${FIREFOX_PATH} (Debian: apt-get install firefox-esr)`),
  async open(t) {
    const running: Running = {};
    const env = await throwawayHome(t, 'firefox', running);
    // puppeteer-core makes the profile in a temporary folder and removes it on close.
    const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX_PATH, headless: true, env });
    running.close = () => browser.close();
    const page = await browser.newPage();
    await page.setViewport(VIEWPORT);
    return {
      engine: 'Firefox',
      goto: async (url) => void (await page.goto(url, { waitUntil: 'domcontentloaded' })),
      run: (body, arg) => page.evaluate(asCall(body, arg)) as Promise<never>,
    };
  },
};

let webkitMissing: string | null | undefined;

const webkitEngine: Engine = {
  name: 'WebKit',
  missing() {
    if (webkitMissing !== undefined) return webkitMissing;
    if (!existsSync('/usr/bin/xvfb-run')) return (webkitMissing = 'xvfb-run is not installed (Debian: apt-get install xvfb)');
    const probe = spawnSync(SYSTEM_PYTHON, ['-c', "import gi; gi.require_version('WebKit2', '4.1'); from gi.repository import WebKit2"], { encoding: 'utf8' });
    webkitMissing =
      probe.status === 0 ? null : `WebKitGTK for ${SYSTEM_PYTHON} is not installed (Debian: apt-get install gir1.2-webkit2-4.1 python3-gi)`;
    return webkitMissing;
  },
  async open(t) {
    const running: Running = {};
    const env = await throwawayHome(t, 'webkit', running);
    // Its own process group, so that xvfb-run, Xvfb and the driver all end together.
    const driver = new WebKitDriver(spawn('xvfb-run', ['-a', SYSTEM_PYTHON, WEBKIT_DRIVER], { env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] }));
    running.close = () => driver.quit();
    await driver.ready;
    return {
      engine: 'WebKit',
      goto: async (url) => void (await driver.send({ goto: url })),
      run: (body, arg) => driver.send({ call: `return await ${asCall(body, arg)};` }) as Promise<never>,
    };
  },
};

export const ENGINES: readonly Engine[] = [chromiumEngine, firefoxEngine, webkitEngine];

type Answer = { id: number; value?: unknown; error?: string };

/** The Node side of webkit-driver.py: JSON lines out and in, matched by id. */
class WebKitDriver {
  readonly ready: Promise<unknown>;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  private nextId = 1;
  private stderr = '';
  private readonly exited: Promise<void>;

  constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    this.ready = new Promise((resolve, reject) => this.pending.set(0, { resolve, reject }));
    void this.exited.then(() => {
      for (const { reject } of this.pending.values()) reject(new Error(`the WebKit driver exited: ${this.stderr.trim() || 'no message'}`));
      this.pending.clear();
    });
  }

  send(command: Record<string, unknown>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.child.stdin?.write(`${JSON.stringify({ id, ...command })}\n`);
    });
  }

  /** Asks the driver to quit; its whole process group (xvfb-run, Xvfb, WebKit's helpers) is killed if it has not ended in 5 s. */
  async quit(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      await Promise.race([this.send({ quit: true }).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
      this.child.stdin?.end();
    }
    const killer = setTimeout(() => this.killGroup(), 5000);
    await this.exited;
    clearTimeout(killer);
    // WebKit's network and web processes can outlive the driver by a moment.
    this.killGroup();
  }

  private killGroup(): void {
    try {
      if (this.child.pid) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // The group has already ended.
    }
  }

  private onLine(line: string): void {
    let answer: Answer;
    try {
      answer = JSON.parse(line) as Answer;
    } catch {
      return; // not ours: GTK or WebKit writing to stdout
    }
    const waiter = this.pending.get(answer.id);
    if (!waiter) return;
    this.pending.delete(answer.id);
    if (answer.error) waiter.reject(new Error(`WebKit: ${answer.error}`));
    else waiter.resolve(answer.value);
  }
}

/** The text of the element with this data-testid, or null. */
export function textOf(page: EnginePage, testId: string): Promise<string | null> {
  return page.run(`return document.querySelector('[data-testid="' + arg + '"]')?.textContent ?? null;`, testId);
}

/**
 * The pixels (RGBA) an <img> shows now, scaled to size x size from the whole picture or from its
 * centre half; null while it shows nothing. createImageBitmap, not drawImage: drawImage of a
 * multipart <img> draws its first part in Firefox.
 */
function picturePixels(page: EnginePage, selector: string, size: number, centre: boolean): Promise<number[] | null> {
  return page.run<number[] | null>(
    `const img = document.querySelector(arg.selector);
    if (!(img instanceof HTMLImageElement) || !img.complete || img.naturalWidth === 0) return null;
    let bitmap;
    try { bitmap = await createImageBitmap(img); } catch { return null; }
    const canvas = document.createElement('canvas');
    canvas.width = arg.size;
    canvas.height = arg.size;
    const context = canvas.getContext('2d');
    const [w, h] = [bitmap.width, bitmap.height];
    if (arg.centre) context.drawImage(bitmap, w / 4, h / 4, w / 2, h / 2, 0, 0, arg.size, arg.size);
    else context.drawImage(bitmap, 0, 0, arg.size, arg.size);
    bitmap.close();
    return Array.from(context.getImageData(0, 0, arg.size, arg.size).data);`,
    { selector, size, centre },
  );
}

/** What an <img> shows now, as the mean colour of its centre; null while it shows nothing. */
export async function pictureColor(page: EnginePage, selector: string): Promise<Rgb | null> {
  const pixels = await picturePixels(page, selector, 4, true);
  if (!pixels) return null;
  const sum = [0, 0, 0];
  for (let i = 0; i < pixels.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += pixels[i + c];
  return [Math.round(sum[0] / 16), Math.round(sum[1] / 16), Math.round(sum[2] / 16)];
}

/** A small sample of what an <img> shows now, to tell whether it changes; null while it shows nothing. */
export async function pictureSample(page: EnginePage, selector: string): Promise<string | null> {
  return (await picturePixels(page, selector, 16, false))?.join(',') ?? null;
}
