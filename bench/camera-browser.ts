// The in-browser half of the camera bench: real Chromium with its fake camera at 30 fps, a page of
// the bench's own (bench/camera-page.ts) served from a loopback server here, PushCam's capture
// worker (probed per frame, bench/camera-probe.ts) sending to a MessagePort in the page or to a
// WebSocket here, and the abandoned raw-RGBA-over-WebSocket path and canvas way beside it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Page } from 'playwright-core';
import { WebSocketServer } from 'ws';
import { FRAME_ACK, parseWireFrame } from '../server/control/frame-format.js';
import { CHROMIUM_ARGS, CHROMIUM_PATH, newPage } from '../test/helpers/chromium.js';
import { cpuBetween, cpuByPid, treeOf } from './camera-proc.js';
import { writeCameraLikeY4m } from './camera-y4m.js';
import { machineBusySeconds } from './proc.js';
import type { BenchPage, CanvasRunOptions, CanvasRunResult, WorkerRunOptions, WorkerRunResult } from './camera-protocol.js';

/** Chromium's fake camera runs at 20 fps unless told; `fps=30` is its option (no quotes in argv). */
export const FAKE_CAMERA_30FPS = '--use-fake-device-for-media-stream=fps=30';
const SIZE = { width: 1280, height: 720 };
const JPEG_QUALITY = 80;
const INTERVAL_MS = 33;
/** Each worker run: a warm-up, then the timed window; the raw path's is longer, as it moves few frames. */
export const BROWSER_RUN = { warmupMs: 2000, measureMs: 6000, rawMeasureMs: 8000 } as const;
export const CANVAS = { warmup: 5, count: 60 } as const;
/** The camera-like video: a few different frames, looped at 30 fps. */
export const CAMERA_LIKE = { fps: 30, frames: 4 } as const;
const RUN_TIMEOUT_MS = 30_000;
// Raw 720p RGBA is 3.7 MB a message; the core allows up to 4K.
const MAX_PAYLOAD = 64 * 2 ** 20;

export interface BrowserRuns {
  /** PushCam's worker to a MessagePort in the page: copyTo, raw RGBA clone, acknowledgement. */
  port: WorkerRunResult;
  /** PushCam's worker to the loopback WebSocket: copyTo, JPEG encode, send. */
  jpeg: WorkerRunResult & { bytes: number[] };
  /** The bench's raw RGBA worker to the loopback WebSocket. */
  raw: WorkerRunResult & { bytes: number[] };
  /** PushCam's worker to the WebSocket, the fake camera playing bench/picture.ts's picture. */
  jpegCameraLike: WorkerRunResult & { bytes: number[] };
  canvas: CanvasRunResult;
  chromiumVersion: string;
  /** Everything else on the machine during the runs, % of one core: high means disturbed. */
  otherCpuPercent: number;
}

const BUNDLES = {
  'page.js': 'camera-page.ts',
  'probed-worker.js': 'camera-probed-worker.ts',
  'raw-worker.js': 'camera-raw-worker.ts',
} as const;

/** The page and workers, bundled from TypeScript as build/bundle.mjs bundles PushCam's pages. */
async function bundle(): Promise<Map<string, string>> {
  const scripts = new Map<string, string>();
  for (const [name, source] of Object.entries(BUNDLES)) {
    const result = await build({
      entryPoints: [fileURLToPath(new URL(source, import.meta.url))],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'chrome120',
      logLevel: 'warning',
    });
    scripts.set(`/${name}`, result.outputFiles[0].text);
  }
  return scripts;
}

/** Where the WebSocket paths send: parses each frame as the core does and acknowledges at once. */
interface FrameLog {
  bytes: number[];
  refused: string;
}

async function startServer(scripts: Map<string, string>) {
  const log: FrameLog = { bytes: [], refused: '' };
  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const script = scripts.get(req.url ?? '');
    if (script) res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    else res.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>PushCam camera bench</title><script type="module" src="/page.js"></script>');
  });
  const wss = new WebSocketServer({ server: http, path: '/frames', maxPayload: MAX_PAYLOAD });
  // The same steps as the core's /frames handler (server/control/ws-server.ts), minus handing
  // the frame to the encoder: transfer is what is measured here.
  wss.on('connection', (socket) => {
    socket.on('message', (data: Buffer) => {
      try {
        log.bytes.push(parseWireFrame(data).data.length);
      } catch (err) {
        log.refused = (err as Error).message;
      }
      socket.send(FRAME_ACK);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    log,
    page: `http://127.0.0.1:${port}/`,
    frames: `ws://127.0.0.1:${port}/frames`,
    async close(): Promise<void> {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function runWorker(page: Page, options: WorkerRunOptions): Promise<WorkerRunResult> {
  const run = page.evaluate((o) => (globalThis as unknown as { pushcamBench: BenchPage }).pushcamBench.runWorker(o), options);
  return withTimeout(`${options.worker} worker to ${options.channel}`, run, RUN_TIMEOUT_MS);
}

function runCanvas(page: Page, options: CanvasRunOptions): Promise<CanvasRunResult> {
  const run = page.evaluate((o) => (globalThis as unknown as { pushcamBench: BenchPage }).pushcamBench.runCanvas(o), options);
  return withTimeout('canvas', run, RUN_TIMEOUT_MS);
}

/** The bench page in a fresh browser, what `use` measures with it, and the others' CPU meanwhile. */
async function inBrowser<T>(pageUrl: string, args: string[], use: (page: Page) => Promise<T>): Promise<{ result: T; otherCpuSeconds: number; seconds: number; version: string }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args, timeout: RUN_TIMEOUT_MS });
  try {
    const page = await newPage(browser);
    await page.goto(pageUrl);
    await page.waitForFunction(() => 'pushcamBench' in globalThis, undefined, { timeout: RUN_TIMEOUT_MS });
    const machineBefore = machineBusySeconds();
    const oursBefore = cpuByPid(treeOf(process.pid));
    const started = performance.now();
    const result = await use(page);
    // Read while the browser is still up: its processes are part of this process's tree.
    const otherCpuSeconds = machineBusySeconds() - machineBefore - cpuBetween(oursBefore, cpuByPid(treeOf(process.pid)));
    return { result, otherCpuSeconds, seconds: (performance.now() - started) / 1000, version: browser.version() };
  } finally {
    await browser.close();
  }
}

/** Each path in turn, never two at once; every browser closed and the server stopped on return. */
export async function measureInBrowser(dir: string, progress: (line: string) => void): Promise<BrowserRuns> {
  const server = await startServer(await bundle());
  try {
    const baseArgs = CHROMIUM_ARGS.filter((arg) => !arg.startsWith('--use-fake-device-for-media-stream'));
    const common = { ...SIZE, intervalMs: INTERVAL_MS, jpegQuality: JPEG_QUALITY, warmupMs: BROWSER_RUN.warmupMs, measureMs: BROWSER_RUN.measureMs };
    /** A run of PushCam's worker to the WebSocket, with the sizes of the messages that reached Node. */
    const toSocket = async (page: Page, worker: WorkerRunOptions['worker'], measureMs: number) => {
      server.log.bytes = [];
      const run = await runWorker(page, { ...common, measureMs, worker, channel: server.frames });
      return { ...run, bytes: server.log.bytes };
    };

    const fake = await inBrowser(server.page, [...baseArgs, FAKE_CAMERA_30FPS], async (page) => {
      progress('camera: capture worker to a MessagePort (raw RGBA)');
      const port = await runWorker(page, { ...common, worker: 'probed', channel: 'port' });
      progress('camera: capture worker to a WebSocket (JPEG)');
      const jpeg = await toSocket(page, 'probed', BROWSER_RUN.measureMs);
      progress('camera: raw RGBA over a WebSocket');
      const raw = await toSocket(page, 'raw', BROWSER_RUN.rawMeasureMs);
      progress('camera: canvas drawImage + getImageData');
      const canvas = await runCanvas(page, { ...SIZE, intervalMs: INTERVAL_MS, ...CANVAS });
      return { port, jpeg, raw, canvas };
    });

    progress('camera: writing a camera-like video for the fake camera');
    const video = join(dir, 'camera-like.y4m');
    await writeCameraLikeY4m(video, SIZE.width, SIZE.height, CAMERA_LIKE.fps, CAMERA_LIKE.frames);
    const cameraLike = await inBrowser(server.page, [...baseArgs, '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`], async (page) => {
      progress('camera: capture worker to a WebSocket (JPEG of a camera-like picture)');
      return toSocket(page, 'probed', BROWSER_RUN.measureMs);
    });

    if (server.log.refused) throw new Error(`the bench's frame receiver refused a frame: ${server.log.refused}`);
    const runs = { ...fake.result, jpegCameraLike: cameraLike.result };
    for (const [name, run] of Object.entries(runs)) {
      if ('samples' in run && run.samples.length === 0) throw new Error(`camera bench: no frames measured on the ${name} path`);
    }
    const otherCpuPercent = Math.max(0, ((fake.otherCpuSeconds + cameraLike.otherCpuSeconds) / (fake.seconds + cameraLike.seconds)) * 100);
    return { ...runs, chromiumVersion: fake.version, otherCpuPercent };
  } finally {
    await server.close();
  }
}
