// Saves a screenshot of the viewer page playing the test pattern, for the README:
//   node build/bundle.mjs && node --import tsx scripts/screenshot-viewer.ts [docs/viewer.png]
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { startPushCam } from '../server/pushcam.js';
import { PatternSource } from '../server/source/pattern.js';
import { launchChromium, newPage } from '../test/helpers/chromium.js';

const out = resolve(process.argv[2] ?? 'docs/viewer.png');
const pushcam = await startPushCam({
  source: new PatternSource({ width: 1280, height: 720, intervalMs: 100 }),
  host: '127.0.0.1',
  port: 0,
  key: null,
  log: () => undefined,
});
const browser = await launchChromium();
try {
  const page = await newPage(browser, { viewport: { width: 1280, height: 720 }, colorScheme: 'dark' });
  await page.goto(`http://127.0.0.1:${pushcam.port}/`, { waitUntil: 'domcontentloaded' });
  // The frame rate appears with the second status poll.
  await page.getByTestId('live-line').filter({ hasText: 'fps' }).waitFor({ timeout: 10_000 });
  // The controls fade when the pointer rests; a move brings them back for the picture.
  await page.mouse.move(640, 360);
  await page.mouse.move(650, 370);
  await page.waitForTimeout(600);
  await mkdir(dirname(out), { recursive: true });
  await page.screenshot({ path: out });
  console.log(`saved ${out}`);
} finally {
  await browser.close();
  await pushcam.close();
}
