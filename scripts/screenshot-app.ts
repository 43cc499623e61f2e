// Saves screenshots of the PushCam window broadcasting to two viewers, for the README:
//   node build/bundle.mjs && node --import tsx scripts/screenshot-app.ts
// Light and dark, 1280x800, after the stats sparklines have filled with a minute of samples.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MjpegClient } from '../test/helpers/mjpeg-client.js';
import { eventually } from '../test/helpers/server.js';
import { removeHarnessDir, startUiHarness } from '../test/helpers/ui-harness.js';

const OUT_DIR = resolve('docs');
/** The sparklines show a minute; this much of it makes a line worth looking at. */
const STATS_MS = Number(process.env.PUSHCAM_SCREENSHOT_STATS_MS ?? 45_000);
const VIEWERS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
  'VLC/3.0.20 LibVLC/3.0.20',
];

const harness = await startUiHarness({ settings: { port: 0, text: 'Living room', timestamp: true } });
const viewers: MjpegClient[] = [];
try {
  const { page } = harness;
  await page.getByTestId('start-stop').click();
  const state = await harness.waitForState((s) => s.broadcast.state === 'broadcasting' && s.share.urls.length > 0, 'broadcasting');
  const stream = new URL(state.share.urls[0]);
  stream.pathname = '/stream.mjpg';
  for (const userAgent of VIEWERS) viewers.push(await MjpegClient.open(stream.toString(), { 'User-Agent': userAgent }));
  await eventually(async () => (await page.getByTestId('viewer-row').count()) === VIEWERS.length, 'both viewers in the table', 20_000);
  console.log(`waiting ${STATS_MS / 1000} s for the sparklines to fill`);
  await new Promise((done) => setTimeout(done, STATS_MS));
  await mkdir(OUT_DIR, { recursive: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    const path = resolve(OUT_DIR, colorScheme === 'light' ? 'app.png' : 'app-dark.png');
    await page.screenshot({ path });
    console.log(`saved ${path}`);
  }
} finally {
  for (const viewer of viewers) viewer.close();
  await harness.close();
  await removeHarnessDir(harness.dir);
}
