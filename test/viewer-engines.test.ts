// The viewer page in all three browser engines (Chromium, Firefox ESR, WebKitGTK): it stays on the
// live stream for as long as someone watches, a new picture is on screen at once, a stop and a
// restart on the same port bring it back live without snapshots, a kick is told, and only a
// stream held up on the way falls back to snapshots. Each engine
// runs where it is installed (.ci/run installs all three) and is skipped, by name, where it is not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FileSource } from '../server/source/file.js';
import { PatternSource } from '../server/source/pattern.js';
import { near, type Rgb } from './helpers/chromium.js';
import { ENGINES, type EnginePage, pictureColor, pictureSample, textOf } from './helpers/engines.js';
import { bufferingProxy } from './helpers/buffering-proxy.js';
import { BLUE, pictureFile, RED, replacePicture } from './helpers/pictures.js';
import { eventually, startTestServer, TEST_KEY } from './helpers/server.js';

const STREAM = '[data-testid="stream"]';
/** Long past the ~10 s after which Firefox used to leave the stream for snapshots. */
const WATCH_MS = 15_000;

async function waitForBadge(page: EnginePage, badge: string, timeoutMs: number): Promise<void> {
  let seen: string | null = null;
  await eventually(async () => (seen = await textOf(page, 'mode')) === badge, `the badge to read "${badge}" (it reads "${seen}")`, timeoutMs);
}

async function waitForColor(page: EnginePage, rgb: Rgb, timeoutMs: number): Promise<number> {
  const started = performance.now();
  let color: Rgb | null = null;
  while (!near((color = await pictureColor(page, STREAM)), rgb)) {
    if (performance.now() - started > timeoutMs) throw new Error(`the picture did not turn rgb(${rgb.join(', ')}); it shows ${color ? `rgb(${color.join(', ')})` : 'nothing'}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

async function pictureMoves(page: EnginePage, ms: number): Promise<boolean> {
  const before = await pictureSample(page, STREAM);
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await pictureSample(page, STREAM);
    if (now !== null && now !== before) return true;
  }
  return false;
}

for (const engine of ENGINES) {
  const missing = engine.missing();
  const options = missing ? { skip: missing } : {};

  test(`${engine.name}: the viewer page stays on the live stream while someone watches`, options, async (t) => {
    const server = await startTestServer(t, { source: new PatternSource({ width: 320, height: 180, intervalMs: 100 }) });
    const page = await engine.open(t);
    await page.goto(server.url('/'));
    await waitForBadge(page, 'Live', 10_000);
    const badges = new Set<string | null>();
    const ways = new Set<string>();
    const until = performance.now() + WATCH_MS;
    while (performance.now() < until) {
      badges.add(await textOf(page, 'mode'));
      for (const viewer of server.hub.viewerList()) ways.add(viewer.via);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.deepEqual([...badges], ['Live'], `in ${WATCH_MS / 1000} s the badge read ${[...badges].join(', ')}`);
    assert.deepEqual([...ways], ['stream'], 'the page watched by snapshots at some point');
    assert.equal(server.hub.viewerCount, 1);
    assert.ok(await pictureMoves(page, 2000), 'the picture does not move');
  });

  test(`${engine.name}: a stopped broadcast says so and comes back live on the same port, never by snapshots; a kick is told at once`, options, async (t) => {
    const source = (): PatternSource => new PatternSource({ width: 320, height: 180, intervalMs: 100 });
    const first = await startTestServer(t, { source: source() });
    const page = await engine.open(t);
    await page.goto(first.url('/'));
    await waitForBadge(page, 'Live', 10_000);
    await first.close();
    await waitForBadge(page, 'Stopped', 3000);
    const second = await startTestServer(t, { source: source(), port: first.port });
    await waitForBadge(page, 'Live', 8000);
    assert.ok(await pictureMoves(page, 2000), 'the picture does not move after the broadcast is back');
    assert.deepEqual(second.hub.viewerList().map((v) => v.via), ['stream'], 'the page came back by snapshots');
    const [me] = second.hub.viewerList();
    second.hub.kick(me!.id);
    const kickedAt = performance.now();
    await waitForBadge(page, 'Disconnected', 2000);
    t.diagnostic(`${engine.name}: "Disconnected" ${(performance.now() - kickedAt).toFixed(0)} ms after the kick`);
    assert.equal(await textOf(page, 'message'), 'The broadcaster disconnected you.');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(await textOf(page, 'mode'), 'Disconnected', 'the kicked page did not stay told');
    assert.equal(second.hub.viewerCount, 0, 'the kicked page watches some other way');
  });

  // Behind this proxy the WebKitGTK driver (helpers/webkit-driver.py) stops answering the test's
  // script calls, so the test would hang there; until that is understood it runs in the other two.
  const heldOptions = engine.name === 'WebKit' && !missing ? { skip: 'WebKit: the test driver hangs behind the buffering proxy (see the comment)' } : options;
  test(`${engine.name}: only a stream held up on the way falls back to snapshots; that viewer is listed as such and can be kicked`, heldOptions, async (t) => {
    const server = await startTestServer(t, { source: new PatternSource({ width: 320, height: 180, intervalMs: 100 }) });
    const port = await bufferingProxy(t, server.port);
    const page = await engine.open(t);
    const opened = performance.now();
    await page.goto(`http://127.0.0.1:${port}/?key=${TEST_KEY}`);
    await waitForBadge(page, 'Slow connection: showing snapshots', 25_000);
    t.diagnostic(`${engine.name}: snapshots ${(performance.now() - opened).toFixed(0)} ms after opening`);
    assert.ok(await pictureMoves(page, 3000), 'the snapshots do not move');
    await eventually(async () => /^1 viewer · /.test((await textOf(page, 'live-line')) ?? ''), 'the live line to count the viewer', 5000);
    assert.deepEqual(server.hub.viewerList().map((v) => v.via), ['snapshots']);
    server.hub.kick(server.hub.viewerList()[0]!.id);
    await waitForBadge(page, 'Disconnected', 2000);
    assert.equal(server.hub.viewerCount, 0);
  });

  test(`${engine.name}: a new picture is on screen at once`, options, async (t) => {
    const path = await pictureFile(t, RED);
    const intervalMs = 200;
    const server = await startTestServer(t, { source: new FileSource({ path, intervalMs, log: () => undefined }) });
    const page = await engine.open(t);
    await page.goto(server.url('/'));
    // The first picture, which no second one follows: shown without waiting for a next part.
    await waitForColor(page, RED, 5000);
    const started = await replacePicture(path, BLUE);
    await waitForColor(page, BLUE, 5000);
    const took = performance.now() - started;
    t.diagnostic(`${engine.name}: blue on screen ${took.toFixed(0)} ms after the rename (poll interval ${intervalMs} ms)`);
    assert.ok(took < intervalMs + 700, `the new picture took ${took.toFixed(0)} ms to show`);
  });
}
