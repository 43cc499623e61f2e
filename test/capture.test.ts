import assert from 'node:assert/strict';
import type { CaptureStats } from '../renderer/capture/capture-worker.js';
import { existsSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { findBrowser, launchCapturePage, RESTARTING } from '../server/capture/headless-browser.js';
import { packageRoot } from '../server/config/paths.js';
import { type CameraFrameMeta, FRAME_ACK, frameFromPortMessage, parseWireFrame } from '../shared/frame-format.js';
import { ControlService } from '../server/control/service.js';
import { startControlServer } from '../server/control/ws-server.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium, newPage } from './helpers/chromium.js';
import { eventually } from './helpers/server.js';
import { tempDir } from './helpers/fixtures.js';

// Capture in real Chromium with its fake camera: the worker on its own against a WebSocket and a
// MessagePort this test controls (sizes, protocol, pacing, costs), then the capture page against
// the real core (PushCam's ControlService behind its loopback WebSocket server).

const CAPTURE_DIR = join(packageRoot(), 'dist/renderer/capture');
if (!existsSync(join(CAPTURE_DIR, 'capture-worker.js'))) {
  throw new Error(`the capture page is not built (${CAPTURE_DIR}); run \`npm run build\` first`);
}

interface Arrival {
  meta: CameraFrameMeta;
  /** The JPEG's or the pixels' size. */
  bytes: number;
  at: number;
}

/** What the worker posts once a second. */
type Stats = CaptureStats;

/** Frames a second over the arrivals in the last `windowMs`. */
function rateOver(arrivals: Arrival[], windowMs: number): number {
  const since = performance.now() - windowMs;
  const recent = arrivals.filter((a) => a.at >= since);
  if (recent.length < 2) return 0;
  return ((recent.length - 1) * 1000) / (recent[recent.length - 1].at - recent[0].at);
}

function median(values: number[]): number {
  const sorted = values.filter((v) => v > 0).sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/**
 * A loopback server with a blank page, the built capture worker, and a /frames WebSocket that
 * records every frame and answers it with FRAME_ACK after `ackDelayMs`.
 */
async function frameServer(t: TestContext) {
  const worker = readFileSync(join(CAPTURE_DIR, 'capture-worker.js'));
  const http = createServer((req, res) => {
    if (req.url === '/capture-worker.js') res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(worker);
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>worker test</title>');
  });
  const wss = new WebSocketServer({ server: http, path: '/frames', maxPayload: 64 * 1024 * 1024 });
  const state = { arrivals: [] as Arrival[], ackDelayMs: 0, unacknowledged: 0, mostInFlight: 0, connections: 0, closed: 0 };
  wss.on('connection', (socket) => {
    state.connections++;
    socket.on('close', () => state.closed++);
    socket.on('message', (data: Buffer) => {
      const { meta, data: body } = parseWireFrame(data);
      state.arrivals.push({ meta, bytes: body.length, at: performance.now() });
      state.unacknowledged++;
      state.mostInFlight = Math.max(state.mostInFlight, state.unacknowledged);
      setTimeout(() => {
        state.unacknowledged--;
        socket.send(FRAME_ACK);
      }, state.ackDelayMs);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => wss.close(resolve));
    await new Promise((resolve) => http.close(resolve));
  });
  const { port } = http.address() as { port: number };
  return { state, page: `http://127.0.0.1:${port}/`, frames: `ws://127.0.0.1:${port}/frames` };
}

async function browserFor(t: TestContext, launch: () => Promise<Browser> = launchChromium): Promise<Browser> {
  const browser = await launch();
  t.after(() => browser.close());
  return browser;
}

/** Opens the fake camera in the page and starts the worker on it, sending to `channel`. */
async function startWorker(page: Page, o: { channel: 'port' | string; intervalMs: number; width: number; height: number; jpegQuality?: number }): Promise<void> {
  await page.evaluate(async ({ channel, intervalMs, width, height, jpegQuality = 80 }) => {
    type Processor = new (init: { track: MediaStreamTrack }) => { readable: ReadableStream };
    const g = globalThis as unknown as Record<string, unknown> & { MediaStreamTrackProcessor: Processor };
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: width }, height: { ideal: height } } });
    const [track] = stream.getVideoTracks();
    const frames = new g.MediaStreamTrackProcessor({ track }).readable;
    const worker = new Worker('/capture-worker.js', { type: 'module' });
    const stats: unknown[] = [];
    Object.assign(g, { worker, track, stats });
    worker.onmessage = (event) => stats.push(event.data);
    if (channel !== 'port') {
      worker.postMessage({ frames, channel: { kind: 'websocket', url: channel }, intervalMs, jpegQuality }, [frames]);
      return;
    }
    // The core's end of the port, here in the page: keep the newest frame, answer at once.
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = (event) => {
      g.lastPortFrame = event.data;
      port1.postMessage('ack');
    };
    worker.postMessage({ frames, channel: { kind: 'port', port: port2 }, intervalMs, jpegQuality }, [frames, port2]);
  }, o);
}

function workerStats(page: Page): Promise<Stats[]> {
  return page.evaluate(() => {
    const reports = (globalThis as unknown as { stats: ({ stats: Stats } | { failed: string })[] }).stats;
    return reports.flatMap((report) => {
      if ('failed' in report) throw new Error(`the worker failed: ${report.failed}`);
      return [report.stats];
    });
  });
}

test('capture worker in Chromium', async (t) => {
  await t.test('sends JPEG frames of the asked size over a WebSocket, one at a time, and reports its costs', async (t) => {
    const server = await frameServer(t);
    const page = await newPage(await browserFor(t));
    await page.goto(server.page);
    await startWorker(page, { channel: server.frames, intervalMs: 50, width: 1280, height: 720 });
    // parseWireFrame has checked each one is a whole JPEG of the size its header says.
    await eventually(() => server.state.arrivals.length >= 5, '5 frames', 20_000);
    assert.deepEqual(server.state.arrivals[0].meta, { format: 'jpeg', width: 1280, height: 720 });
    assert.equal(server.state.mostInFlight, 1);
    await eventually(async () => (await workerStats(page)).filter((s) => s.captured > 0).length >= 3, 'three stats reports with frames', 10_000);
    const stats = await workerStats(page);
    const encodeMs = median(stats.map((s) => s.prepareMs));
    const ackMs = median(stats.map((s) => s.ackMs));
    assert.ok(encodeMs > 0 && ackMs > 0, `copyTo and JPEG encode ${encodeMs} ms, send to ack ${ackMs} ms`);
    const kB = Math.round(median(server.state.arrivals.map((a) => a.bytes)) / 1024);
    t.diagnostic(`1280x720 JPEG over WebSocket: copyTo and JPEG encode ${encodeMs} ms, send to acknowledgement ${ackMs} ms (median of per-second means), ${kB} KB a frame`);
  });

  await t.test('delivers 1280x720 over a WebSocket well above the 5 fps raw pixels managed', async (t) => {
    const server = await frameServer(t);
    const page = await newPage(await browserFor(t));
    await page.goto(server.page);
    await startWorker(page, { channel: server.frames, intervalMs: 50, width: 1280, height: 720 });
    await eventually(() => server.state.arrivals.length > 0, 'a first frame', 20_000);
    await sleep(3500);
    const fps = rateOver(server.state.arrivals, 3000);
    t.diagnostic(`1280x720 JPEG over WebSocket at 50 ms: ${fps.toFixed(1)} fps`);
    assert.ok(fps >= 8, `${fps.toFixed(2)} fps at 1280x720, 50 ms`);
  });

  await t.test('waits for each acknowledgement, counting the capture times it skips', async (t) => {
    const server = await frameServer(t);
    server.state.ackDelayMs = 400;
    const page = await newPage(await browserFor(t));
    await page.goto(server.page);
    await startWorker(page, { channel: server.frames, intervalMs: 50, width: 320, height: 240 });
    await eventually(() => server.state.arrivals.length >= 5, '5 frames', 15_000);
    assert.equal(server.state.mostInFlight, 1);
    const gaps = server.state.arrivals.slice(1).map((a, i) => a.at - server.state.arrivals[i].at);
    assert.ok(Math.min(...gaps) >= 380, `gaps between frames ${gaps.map(Math.round).join(', ')} ms`);
    await eventually(async () => (await workerStats(page)).some((s) => s.skipped > 0), 'skipped capture times in the stats');
  });

  await t.test('keeps to the interval, takes a new interval and JPEG quality live, and stops on command', async (t) => {
    const server = await frameServer(t);
    const page = await newPage(await browserFor(t));
    await page.goto(server.page);
    // Small frames, so that the rate is the interval's and not what a busy machine can move.
    await startWorker(page, { channel: server.frames, intervalMs: 200, width: 160, height: 120 });
    await eventually(() => server.state.arrivals.length > 0, 'a first frame', 10_000);
    await sleep(3000);
    const slow = rateOver(server.state.arrivals, 2500);
    assert.ok(slow > 3.5 && slow <= 5.3, `${slow.toFixed(2)} fps at 200 ms`);
    const bytesAt80 = median(server.state.arrivals.map((a) => a.bytes));
    await page.evaluate(() => (globalThis as unknown as { worker: Worker }).worker.postMessage({ intervalMs: 100, jpegQuality: 20 }));
    await sleep(2500);
    const fast = rateOver(server.state.arrivals, 2000);
    assert.ok(fast > 7 && fast <= 10.5, `${fast.toFixed(2)} fps at 100 ms`);
    const bytesAt20 = median(server.state.arrivals.slice(-5).map((a) => a.bytes));
    assert.ok(bytesAt20 < bytesAt80 * 0.8, `JPEGs of ${bytesAt20} bytes at quality 20, ${bytesAt80} at 80`);
    await page.evaluate(() => (globalThis as unknown as { worker: Worker }).worker.postMessage({ stop: true }));
    await eventually(() => server.state.closed === 1, 'the frame socket to close');
    const count = server.state.arrivals.length;
    await sleep(500);
    assert.equal(server.state.arrivals.length, count);
  });

  await t.test('sends raw pixels over a MessagePort in the format the core reads, at a measured cost', async (t) => {
    const server = await frameServer(t);
    const page = await newPage(await browserFor(t));
    await page.goto(server.page);
    await startWorker(page, { channel: 'port', intervalMs: 50, width: 1280, height: 720 });
    await eventually(async () => (await workerStats(page)).filter((s) => s.captured > 0).length >= 3, 'three stats reports with frames', 15_000);
    // The port's far end is in the page: check one message's shape there, in the core's reader's terms.
    const message = await page.evaluate(() => {
      const frame = (globalThis as unknown as { lastPortFrame: { width: number; height: number; channels: number; pixels: ArrayBuffer } }).lastPortFrame;
      const { width, height, channels, pixels } = frame;
      return { width, height, channels, pixels: Array.from(new Uint8Array(pixels, 0, 64)), byteLength: pixels.byteLength };
    });
    const { meta } = frameFromPortMessage({ ...message, pixels: new ArrayBuffer(message.byteLength) });
    assert.deepEqual(meta, { format: 'pixels', width: 1280, height: 720, channels: 4 });
    assert.ok(message.pixels.some((v) => v !== 0), 'the pixels hold a picture');
    const stats = await workerStats(page);
    t.diagnostic(`1280x720 RGBA over a MessagePort: copyTo ${median(stats.map((s) => s.prepareMs))} ms, send to acknowledgement ${median(stats.map((s) => s.ackMs))} ms`);
  });
});

/** The real core: a ControlService behind its loopback WebSocket server, and what reaches it. */
async function core(t: TestContext, settings: { width: number; height: number; intervalMs: number }) {
  const logs: string[] = [];
  const service = await ControlService.create({
    settingsFile: null,
    overrides: settings,
    configDir: tempDir(t, 'capture-test'),
    key: 'capture-test-key-0123456789',
    host: '127.0.0.1',
    captureInWindow: false,
    log: (line) => logs.push(line),
  });
  const control = await startControlServer(service, { log: (line) => logs.push(line) });
  t.after(async () => {
    await control.close();
    await service.close();
  });
  const arrivals: Arrival[] = [];
  const accept = service.acceptFrame.bind(service);
  service.acceptFrame = (frame) => {
    arrivals.push({ meta: frame.meta, bytes: frame.data.length, at: performance.now() });
    accept(frame);
  };
  return { service, control, arrivals, logs };
}

/** Records every camera track the page opens, so the test can see them stop (or end them). */
function recordTracks(): void {
  const devices = navigator.mediaDevices;
  const open = devices.getUserMedia.bind(devices);
  const tracks: MediaStreamTrack[] = [];
  Object.assign(globalThis, { cameraTracks: tracks });
  devices.getUserMedia = async (constraints) => {
    const stream = await open(constraints);
    tracks.push(...stream.getVideoTracks());
    return stream;
  };
}

function trackStates(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as { cameraTracks: MediaStreamTrack[] }).cameraTracks.map((track) => track.readyState));
}

async function capturePage(browser: Browser, url: string): Promise<Page> {
  const page = await newPage(browser);
  await page.context().addInitScript(recordTracks);
  await page.goto(url);
  await page.getByText('connected: capturing whenever PushCam asks').waitFor({ timeout: 10_000 });
  return page;
}

test('capture page with the PushCam core', async (t) => {
  await t.test('captures JPEG at the asked size, interval and quality while frames are wanted, and lets the camera go after', async (t) => {
    const { service, control, arrivals } = await core(t, { width: 320, height: 240, intervalMs: 200 });
    const page = await capturePage(await browserFor(t), control.capturePageUrl);
    const release = service.hub.hold();
    await eventually(() => arrivals.length >= 3, 'camera frames in the core', 10_000);
    assert.deepEqual(arrivals[0].meta, { format: 'jpeg', width: 320, height: 240 });
    assert.deepEqual(service.getState().source, { kind: 'camera', state: 'running' });
    await sleep(2500);
    const rate = rateOver(arrivals, 2000);
    assert.ok(rate > 3.5 && rate <= 5.3, `${rate.toFixed(2)} fps at 200 ms`);
    assert.ok(service.hub.latest, 'the core encoded a frame');

    const bytesAt80 = median(arrivals.map((a) => a.bytes));
    await service.updateSettings({ quality: 20 });
    await eventually(() => arrivals[arrivals.length - 1].bytes < bytesAt80 * 0.8, 'smaller JPEGs at quality 20', 5000);

    await service.updateSettings({ width: 640, height: 480 });
    await eventually(() => arrivals[arrivals.length - 1].meta.width === 640, 'frames of the new size', 10_000);
    assert.deepEqual(arrivals[arrivals.length - 1].meta, { format: 'jpeg', width: 640, height: 480 });
    const states = await trackStates(page);
    assert.deepEqual(states, ['ended', 'live'], 'the first camera track was stopped for the new size');

    release();
    await eventually(async () => (await trackStates(page)).every((s) => s === 'ended'), 'the camera to be let go', 10_000);
    const count = arrivals.length;
    await sleep(600);
    assert.equal(arrivals.length, count, 'no frames after capture stopped');
  });

  await t.test('reports an unplugged camera, shows viewers why, and resumes by itself', async (t) => {
    const { service, control, arrivals } = await core(t, { width: 320, height: 240, intervalMs: 100 });
    const page = await capturePage(await browserFor(t), control.capturePageUrl);
    const release = service.hub.hold();
    t.after(release);
    await eventually(() => arrivals.length >= 2, 'camera frames in the core', 10_000);
    const framesBefore = service.hub.latest?.seq ?? 0;
    // The fake camera cannot be unplugged; its track ending is what unplugging looks like to the page.
    await page.evaluate(() => (globalThis as unknown as { cameraTracks: MediaStreamTrack[] }).cameraTracks[0].dispatchEvent(new Event('ended')));
    await eventually(() => service.getState().source.state === 'error', 'the camera error in the state');
    assert.deepEqual(service.getState().source, { kind: 'camera', state: 'error', error: 'The camera was unplugged' });
    await eventually(() => (service.hub.latest?.seq ?? 0) > framesBefore, 'the "camera unavailable" picture');
    const stoppedAt = arrivals.length;
    const unplugged = performance.now();
    await eventually(() => service.getState().source.state === 'running', 'capture to resume', 10_000);
    await eventually(() => arrivals.length > stoppedAt + 2, 'frames again', 10_000);
    t.diagnostic(`unplugged camera: frames again ${Math.round(performance.now() - unplugged)} ms after the track ended`);
  });

  await t.test('reports a busy camera, shows viewers why, and captures by itself once the camera is free', async (t) => {
    const { service, control, arrivals } = await core(t, { width: 320, height: 240, intervalMs: 100 });
    const page = await newPage(await browserFor(t));
    // Another program holds the camera until the test frees it: getUserMedia fails as Chromium's does then.
    await page.context().addInitScript(() => {
      const devices = navigator.mediaDevices;
      const open = devices.getUserMedia.bind(devices);
      let busy = true;
      Object.assign(globalThis, { freeCamera: () => (busy = false) });
      devices.getUserMedia = async (constraints) => {
        if (busy) throw new DOMException('Could not start video source', 'NotReadableError');
        return open(constraints);
      };
    });
    await page.goto(control.capturePageUrl);
    const release = service.hub.hold();
    t.after(release);
    await eventually(() => service.getState().source.state === 'error', 'the camera error in the state', 10_000);
    assert.deepEqual(service.getState().source, { kind: 'camera', state: 'error', error: 'The camera is in use by another program' });
    await eventually(() => service.hub.latest !== null, 'the "camera unavailable" picture');
    const freed = performance.now();
    await page.evaluate(() => (globalThis as unknown as { freeCamera(): void }).freeCamera());
    await eventually(() => arrivals.length >= 3, 'camera frames once it is free', 15_000);
    assert.deepEqual(service.getState().source, { kind: 'camera', state: 'running' });
    t.diagnostic(`busy camera: frames again ${Math.round(performance.now() - freed)} ms after it was freed (the page retries every 3 s)`);
  });

  await t.test('reports a denied camera and shows viewers a picture that says so', async (t) => {
    const { service, control } = await core(t, { width: 320, height: 240, intervalMs: 100 });
    // No fake permission UI: headless Chromium then denies camera access, as a user can.
    const args = [...CHROMIUM_ARGS.filter((arg) => arg !== '--use-fake-ui-for-media-stream'), '--deny-permission-prompts'];
    const browser = await browserFor(t, () => chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args }));
    await capturePage(browser, control.capturePageUrl);
    const release = service.hub.hold();
    t.after(release);
    await eventually(() => service.getState().source.state === 'error', 'the camera error in the state', 10_000);
    assert.deepEqual(service.getState().source, {
      kind: 'camera',
      state: 'error',
      error: 'Camera access was denied: allow it in the system or browser settings',
    });
    await eventually(() => service.hub.latest !== null, 'the "camera unavailable" picture');
  });
});

test('headless capture browser', async (t) => {
  // POSIX: the test puts an executable script on PATH.
  await t.test('finds the browser it is given, or on PATH, and names what it looked for when there is none', { skip: process.platform === 'win32' }, (t) => {
    assert.equal(findBrowser(CHROMIUM_PATH), CHROMIUM_PATH);
    assert.throws(() => findBrowser('/nonexistent/chrome'), /--browser \/nonexistent\/chrome: not an executable file/);
    const bin = tempDir(t, 'path');
    const fake = join(bin, 'google-chrome');
    writeFileSync(fake, '#!/bin/sh\n');
    chmodSync(fake, 0o755);
    const path = process.env.PATH;
    t.after(() => {
      process.env.PATH = path;
    });
    process.env.PATH = bin;
    assert.equal(findBrowser(), fake);
    assert.equal(findBrowser('google-chrome'), fake);
    process.env.PATH = '';
    assert.throws(
      () => findBrowser(),
      (err: Error) => err.message.startsWith('no Chrome or Chromium found (looked for: ') && err.message.includes('google-chrome on PATH') && err.message.endsWith('install one or pass --browser PATH'),
    );
  });

  await t.test('runs the capture page with the fake camera until closed, then removes its profile', async (t) => {
    const { service, control, arrivals } = await core(t, { width: 320, height: 240, intervalMs: 100 });
    const profiles = (): string[] => readdirSync(tmpdir()).filter((name) => name.startsWith('pushcam-browser-'));
    const before = new Set(profiles());
    const logs: string[] = [];
    const browser = launchCapturePage({ browser: findBrowser(CHROMIUM_PATH), url: control.capturePageUrl, fakeCamera: true, log: (line) => logs.push(line) });
    t.after(() => browser.close());
    const release = service.hub.hold();
    t.after(release);
    await eventually(() => arrivals.length >= 3, 'camera frames from the headless browser', 20_000);
    assert.deepEqual(arrivals[0].meta, { format: 'jpeg', width: 320, height: 240 });
    const profile = profiles().find((name) => !before.has(name));
    assert.ok(profile, 'a fresh profile folder');
    await browser.close();
    assert.ok(!existsSync(join(tmpdir(), profile)), 'the profile folder is removed');
    assert.deepEqual(logs, [], 'no complaint about the browser exiting');
  });

  await t.test('says so in one line each time the browser exits by itself, and restarts it with a growing back-off', async (t) => {
    const logs: string[] = [];
    const faults: string[] = [];
    const browser = launchCapturePage({
      browser: '/bin/false',
      url: 'http://127.0.0.1:9/',
      fakeCamera: false,
      log: (line) => logs.push(line),
      onFault: (message) => faults.push(message),
      restart: { firstMs: 100, maxMs: 400, stableMs: 60_000 },
    });
    t.after(() => browser.close());
    await eventually(() => logs.length >= 4, 'four restarts', 5000);
    await browser.close();
    const count = logs.length;
    assert.deepEqual(logs.slice(0, 4), ['0.1 s', '0.2 s', '0.4 s', '0.4 s'].map((wait) => `the capture browser exited (code 1); restarting it in ${wait}`));
    assert.equal(faults[0], RESTARTING);
    await sleep(600);
    assert.equal(logs.length, count, 'no restart after close()');
  });
});
