import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

// Real Chromium (the Debian package), driven by playwright-core: the browser tests check what a
// viewer actually sees, which no HTTP-level test can.

export type Rgb = [number, number, number];

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

/** Headless Chromium with a throwaway profile (playwright makes and removes one per launch); `extraArgs` after CHROMIUM_ARGS. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}; the browser tests need it (Debian: apt-get install chromium). ` +
        'Do not run `npx playwright install`: these tests drive the system Chromium through playwright-core.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** A browser for one test, closed when the test ends. */
export async function browserFor(t: TestContext, extraArgs: string[] = []): Promise<Browser> {
  const browser = await launchChromium(extraArgs);
  t.after(() => browser.close());
  return browser;
}

/**
 * A page in a fresh context. tsx compiles the tests with esbuild's keepNames, which wraps named
 * functions inside page.evaluate callbacks in a `__name()` call the page does not have.
 */
export async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 960, height: 600 }, ...options });
  await context.addInitScript('globalThis.__name = (f) => f;');
  return context.newPage();
}

/**
 * What an <img> holds right now, as the mean colour of its centre (drawn into a canvas in the
 * page, which for a multipart image is the part currently shown); null while it has no picture.
 */
export function colorOf(page: Page, selector: string): Promise<Rgb | null> {
  return page.evaluate(readColor, selector);
}

function readColor(selector: string): Rgb | null {
  const img = document.querySelector(selector);
  if (!(img instanceof HTMLImageElement) || !img.complete || img.naturalWidth === 0) return null;
  const canvas = document.createElement('canvas');
  canvas.width = 4;
  canvas.height = 4;
  const context = canvas.getContext('2d');
  if (!context) return null;
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  context.drawImage(img, w / 4, h / 4, w / 2, h / 2, 0, 0, 4, 4);
  const data = context.getImageData(0, 0, 4, 4).data;
  const sum = [0, 0, 0];
  for (let i = 0; i < data.length; i += 4) for (let c = 0; c < 3; c++) sum[c] += data[i + c];
  return [Math.round(sum[0] / 16), Math.round(sum[1] / 16), Math.round(sum[2] / 16)];
}

export function near(a: Rgb | null, b: Rgb, tolerance = 40): boolean {
  return a !== null && a.every((v, i) => Math.abs(v - b[i]) <= tolerance);
}

/**
 * Waits until the <img> shows about `rgb`, reading it every 10 ms; resolves with the milliseconds
 * it took, measured in Node from the call (so a few ms of round trips are counted against it).
 */
export async function waitForColor(page: Page, selector: string, rgb: Rgb, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    const color = await colorOf(page, selector);
    if (near(color, rgb)) return performance.now() - started;
    if (performance.now() - started > timeoutMs) {
      throw new Error(`${selector} did not show rgb(${rgb.join(', ')}) within ${timeoutMs} ms; it shows ${color ? `rgb(${color.join(', ')})` : 'nothing'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A small sample of an <img>'s pixels, to tell whether the picture changed; null without one. */
export function sampleOf(page: Page, selector: string): Promise<number[] | null> {
  return page.evaluate((sel) => {
    const img = document.querySelector(sel);
    if (!(img instanceof HTMLImageElement) || !img.complete || img.naturalWidth === 0) return null;
    const canvas = document.createElement('canvas');
    canvas.width = 32;
    canvas.height = 32;
    const context = canvas.getContext('2d');
    if (!context) return null;
    context.drawImage(img, 0, 0, 32, 32);
    return Array.from(context.getImageData(0, 0, 32, 32).data);
  }, selector);
}

/** Makes the page believe it was hidden or shown: headless Chromium never hides a page itself. */
export async function setPageHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}
