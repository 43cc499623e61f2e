// The camera part of the bench: what capturing a 1280x720 camera frame costs in Chromium, what
// moving it to the core costs on each path, and what `pushcam serve --source camera` costs end
// to end with viewers. Returns Markdown in the style of bench/results.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { CaptureStats } from '../renderer/capture/capture-worker.js';
import { BROWSER_RUN, CAMERA_LIKE, CANVAS, measureInBrowser, type BrowserRuns } from './camera-browser.js';
import { E2E, runEndToEnd, type E2eResult } from './camera-e2e.js';
import type { ProbeSample, WorkerRunResult } from './camera-protocol.js';
import { kb, mb, num, table } from './markdown.js';
import { median, quantile } from './stats.js';

// The browser runs take about 50 s and an end-to-end row about 20 s; no row is repeated once the
// camera run is RETRY_UNTIL_MS old, so the whole of it stays under 3 minutes on a 2-core machine.
const DISTURBED_PERCENT = 50;
const MAX_RUNS = 2;
const RETRY_UNTIL_MS = 100_000;

const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
const load = (): string => loadavg().map((n) => n.toFixed(1)).join(' / ');

/** "median / p95" of `values`, ms. */
function spread(values: readonly number[], digits = 1): string {
  return `${num(median(values), digits)} / ${num(quantile(values, 0.95), digits)}`;
}

function ofSamples(run: WorkerRunResult, pick: (s: ProbeSample) => number, digits = 1): string {
  return spread(run.samples.map(pick), digits);
}

/** The worker's own figure: the median of its once-a-second means. */
function ownStat(run: WorkerRunResult, pick: (s: CaptureStats) => number): string {
  const means = run.stats.map(pick).filter((v) => v > 0);
  return means.length > 0 ? num(median(means)) : '–';
}

function fps(run: WorkerRunResult): string {
  return num(run.samples.length / run.seconds);
}

function captureTable(r: BrowserRuns): string {
  return table(
    ['1280x720 frame', 'runs in', 'ms per frame (median / p95)', "worker's own stats: prepareMs", 'frames timed'],
    [
      ['`VideoFrame.copyTo` RGBA into a reused buffer: the MessagePort (desktop) path', 'capture worker', ofSamples(r.port, (s) => s.copyMs), ownStat(r.port, (s) => s.prepareMs), String(r.port.samples.length)],
      ['copyTo + JPEG q80 (`putImageData`, `convertToBlob`): the WebSocket (headless) path', 'capture worker', ofSamples(r.jpeg, (s) => s.prepareMs), ownStat(r.jpeg, (s) => s.prepareMs), String(r.jpeg.samples.length)],
      ['… of which copyTo', 'capture worker', ofSamples(r.jpeg, (s) => s.copyMs), '', ''],
      ['copyTo + JPEG q80, camera-like picture', 'capture worker', ofSamples(r.jpegCameraLike, (s) => s.prepareMs), ownStat(r.jpegCameraLike, (s) => s.prepareMs), String(r.jpegCameraLike.samples.length)],
      ['canvas `drawImage(<video>)` + `getImageData`: the old way, for contrast', 'page main thread', spread(r.canvas.ms), '', String(r.canvas.ms.length)],
    ],
  );
}

function transferTable(r: BrowserRuns): string {
  const size = (bytes: number[]): string => kb(median(bytes));
  const pixels = r.port.width * r.port.height * 4;
  return table(
    ['path to the core', 'message', 'send to acknowledgement, ms (median / p95)', 'send call blocks the worker, ms (median / p95)', "worker's own stats: ackMs", 'frames/s at a 33 ms interval'],
    [
      ['raw RGBA over a MessagePort, receiver in the same page', kb(pixels), ofSamples(r.port, (s) => s.ackMs), ofSamples(r.port, (s) => s.sendMs), ownStat(r.port, (s) => s.ackMs), fps(r.port)],
      ['raw RGBA over the loopback WebSocket to Node (abandoned)', size(r.raw.bytes), ofSamples(r.raw, (s) => s.ackMs), ofSamples(r.raw, (s) => s.sendMs), '', fps(r.raw)],
      ['JPEG q80 over the loopback WebSocket to Node (in use)', size(r.jpeg.bytes), ofSamples(r.jpeg, (s) => s.ackMs), ofSamples(r.jpeg, (s) => s.sendMs, 2), ownStat(r.jpeg, (s) => s.ackMs), fps(r.jpeg)],
      ['… camera-like picture', size(r.jpegCameraLike.bytes), ofSamples(r.jpegCameraLike, (s) => s.ackMs), ofSamples(r.jpegCameraLike, (s) => s.sendMs, 2), ownStat(r.jpegCameraLike, (s) => s.ackMs), fps(r.jpegCameraLike)],
    ],
  );
}

/**
 * A row again if the rest of the machine was busy during it (other work competing for the 2
 * cores), while the run is young enough to stay within its time budget; the less disturbed run is kept.
 */
async function measureRow(timestamp: boolean, started: number): Promise<E2eResult & { runs: number }> {
  let best = await runEndToEnd(timestamp, progress);
  let runs = 1;
  while (best.otherCpuPercent > DISTURBED_PERCENT && runs < MAX_RUNS && performance.now() - started < RETRY_UNTIL_MS) {
    progress(`camera: the rest of the machine used ${num(best.otherCpuPercent, 0)} % of a core meanwhile; once more`);
    const again = await runEndToEnd(timestamp, progress);
    runs++;
    if (again.otherCpuPercent < best.otherCpuPercent) best = again;
  }
  return { ...best, runs };
}

function e2eRow(r: E2eResult & { runs: number }): string[] {
  const failed = Object.entries(r.failures).map(([reason, n]) => `${n} ${reason}`);
  return [
    `${r.viewers} viewers${r.timestamp ? ', `--timestamp`' : ''}${r.runs > 1 ? ` (less disturbed of ${r.runs} runs)` : ''}${failed.length ? ` (failed: ${failed.join(', ')})` : ''}`,
    `${num(median(r.fpsPerViewer))} / ${num(Math.min(...r.fpsPerViewer))}`,
    num(r.publishedFps),
    num(r.droppedPerSecond),
    r.encodesPerSecond > 0 ? `${num(r.encodesPerSecond)} (${num(r.encodeMs)} ms each)` : '0',
    kb(r.frameBytes),
    `${num(r.pushcamCpuPercent, 0)} %`,
    `${mb(r.pushcamIdleRssBytes)} → ${mb(r.pushcamEndRssBytes)} (${mb(r.pushcamPeakRssBytes)})`,
    `${num(r.browserCpuPercent, 0)} % (${r.browserProcesses} processes)`,
    mb(r.browserPssBytes),
    `${num(r.viewersCpuPercent, 0)} %`,
    `${num(r.otherCpuPercent, 0)} %`,
  ];
}

function e2eTable(rows: (E2eResult & { runs: number })[]): string {
  return table(
    ['`pushcam serve --source camera`', 'fps per viewer (median / min)', 'frames published by the core, fps', 'dropped by the core (encoder busy), fps', 'core encodes/s (its mean time)', 'JPEG', 'PushCam CPU, % of one core', 'PushCam RSS idle → end (peak)', 'capture browser CPU, % of one core', 'capture browser memory (PSS)', "viewers' process CPU", 'rest of machine CPU'],
    rows.map(e2eRow),
  );
}

export async function cameraBench(): Promise<string> {
  const started = performance.now();
  const loadBefore = load();
  const dir = await mkdtemp(join(tmpdir(), 'pushcam-camera-bench-'));
  let browser: BrowserRuns;
  let e2e: (E2eResult & { runs: number })[];
  try {
    browser = await measureInBrowser(dir, progress);
    e2e = [await measureRow(false, started), await measureRow(true, started)];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  const fps30 = e2e.every((r) => r.fakeCamera30Fps);
  const pixelsKb = kb(browser.port.width * browser.port.height * 4);
  return [
    '### Camera capture',
    `Measured on ${availableParallelism()} cores (nproc) with Chromium ${browser.chromiumVersion} (Debian), headless, its fake camera at 30 fps and 1280x720 (\`--use-fake-device-for-media-stream=fps=30\`; without \`fps=\` it runs at 20). Whole camera run: ${num(seconds, 0)} s. Load average (1 / 5 / 15 min): ${loadBefore} at the start, ${load()} at the end.`,
    '#### Capture cost per frame in the renderer',
    captureTable(browser),
    `PushCam's own capture worker (renderer/capture/capture-worker.ts, bundled from source with a probe loaded before it that times each frame by wrapping \`VideoFrame.copyTo\` and the sends, changing nothing they do), reading the fake camera through \`MediaStreamTrackProcessor\` at a 33 ms interval, one frame in flight; ${BROWSER_RUN.warmupMs / 1000} s warm-up, then ${BROWSER_RUN.measureMs / 1000} s timed (${BROWSER_RUN.rawMeasureMs / 1000} s for raw RGBA over the WebSocket). The canvas row: ${CANVAS.count} frames after ${CANVAS.warmup} untimed. "Worker's own stats": the median of the means the worker reports once a second, beside the bench's per-frame figures as a check. It draws the camera's \`<video>\` into a 2D canvas and reads it back on the page's main thread every 33 ms, as capture worked before the track processor: ${num(median(browser.canvas.ms) / Math.max(median(browser.port.samples.map((s) => s.copyMs)), 0.01), 0)} times the cost of copyTo, and on the thread that runs the UI. The fake camera's own picture (flat green with a turning wedge, a clock and four squares) compresses far better than a real camera's, which flatters JPEG: the camera-like rows play bench/picture.ts's test picture (gradients, texture, edges, grain; ${CAMERA_LIKE.frames} variants looped at ${CAMERA_LIKE.fps} fps) through the fake camera as a Y4M file (\`--use-file-for-fake-video-capture\`), in a second browser. Meanwhile the rest of the machine used ${num(browser.otherCpuPercent, 0)} % of one core.`,
    '#### Moving a frame to the core',
    transferTable(browser),
    `The same runs: time from the send call to the core's acknowledgement (\`FRAME_ACK\`), measured in the worker, and the next frame goes only after it, so it caps the frame rate. MessagePort: PushCam's worker clones ${pixelsKb} of pixels per frame (not transferred: electron/electron#34905) to a receiver on the page's main thread that reads the message and answers at once. That is the nearest thing to Electron's \`MessageChannelMain\` measurable without an Electron runtime; there the receiver is the main process, another process, so the figure is indicative only. WebSocket: a loopback server in the bench's Node process parses each message with the core's own \`parseWireFrame\` and answers at once, as the core's /frames handler does. The raw WebSocket path is the bench's own worker (PushCam no longer has one) in its best case: copyTo straight into one reused message buffer, sent as an ArrayBuffer.`,
    '#### End to end',
    e2eTable(e2e),
    `\`node bin/pushcam.js serve --source camera --fake-camera --size ${E2E.size} --interval ${E2E.intervalMs} --host 127.0.0.1 --port 0 --no-auth\` (the built CLI) in a child process, then the same with \`--timestamp\`, which makes the core decode and re-encode every frame to draw on it (without it the browser's JPEGs go to viewers as they are: no encodes). Its headless capture browser runs the Debian Chromium through \`--browser\`, a wrapper that turns PushCam's \`--use-fake-device-for-media-stream\` into \`…=fps=30\` (PushCam has no option for it)${fps30 ? '; checked on its command line' : '; NOT found on its command line, so the camera ran at 20 fps'}. ${E2E.viewers} viewers read /stream.mjpg in another child process (raw sockets counting parts by boundary, bench/camera-viewers.ts). ${E2E.warmupMs / 1000} s warm-up once frames flow, then ${E2E.measureMs / 1000} s measured. CPU from /proc, all threads: PushCam's Node process; the capture browser's whole process group (browser, zygotes, GPU, network and video-capture utilities, renderers). Memory: PushCam's RSS (peak = VmHWM); the browser's proportional set size summed over its processes, so pages they share count once. "Published": frames the core sent out per second; "dropped": frames from the browser it let go because its encoder was still busy with the one before (it keeps only the newest). "Rest of machine": CPU time not charged to the bench's own processes, % of one core: high values mean the row was disturbed; a row above ${DISTURBED_PERCENT} % ran once more if the time budget allowed, and the less disturbed run is shown. Loopback only.`,
  ].join('\n\n');
}
