// The camera bench's page in Chromium (bundled and served by bench/camera-browser.ts): opens the
// fake camera, runs a capture worker on it against a MessagePort in this page or a WebSocket to
// the bench's Node side, and times the old canvas way for contrast. page.evaluate calls it
// through globalThis.pushcamBench.

import type { FrameChannel } from '../server/control/contract.js';
import { FRAME_ACK } from '../server/control/frame-format.js';
import type { CaptureStats, StartCommand, WorkerReport } from '../renderer/capture/capture-worker.js';
import type { BenchPage, CanvasRunOptions, CanvasRunResult, ProbeReport, ProbeSample, RawStart, WorkerRunOptions, WorkerRunResult } from './camera-protocol.js';

interface TrackProcessorConstructor {
  new (init: { track: MediaStreamTrack }): { readable: ReadableStream<VideoFrame> };
}

const WORKER_URL = { probed: '/probed-worker.js', raw: '/raw-worker.js' } as const;
// After stop, the capture worker closes itself; this is only for a worker that hangs.
const TERMINATE_AFTER_MS = 500;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function openCamera(width: number, height: number): Promise<MediaStreamTrack> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: width }, height: { ideal: height } } });
  return stream.getVideoTracks()[0];
}

/**
 * The core's end of a MessagePort, here in the page: reads the frame's size (which makes
 * Chromium deserialise the 3.7 MB clone, as a real receiver must) and acknowledges at once.
 */
function portReceiver(): MessagePort {
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = (event: MessageEvent<{ pixels: ArrayBuffer }>) => {
    if (event.data.pixels.byteLength > 0) port1.postMessage(FRAME_ACK);
  };
  return port2;
}

function isProbe(message: unknown): message is ProbeReport {
  return typeof message === 'object' && message !== null && 'probe' in message;
}

async function runWorker(o: WorkerRunOptions): Promise<WorkerRunResult> {
  const track = await openCamera(o.width, o.height);
  const Processor = (globalThis as unknown as { MediaStreamTrackProcessor: TrackProcessorConstructor }).MediaStreamTrackProcessor;
  const frames = new Processor({ track }).readable;
  const worker = new Worker(WORKER_URL[o.worker], { type: 'module' });
  const samples: ProbeSample[] = [];
  const stats: CaptureStats[] = [];
  let measuring = false;
  let failure = '';
  worker.onmessage = (event: MessageEvent<WorkerReport | ProbeReport>) => {
    const message = event.data;
    if ('failed' in message) failure = message.failed;
    else if (!measuring) return;
    else if (isProbe(message)) samples.push(message.probe);
    else stats.push(message.stats);
  };
  worker.onerror = (event: ErrorEvent) => void (failure = `the worker failed: ${event.message || 'it could not load'}`);
  if (o.worker === 'raw') {
    worker.postMessage({ frames, url: o.channel, intervalMs: o.intervalMs } satisfies RawStart, [frames]);
  } else {
    const channel: FrameChannel = o.channel === 'port' ? { kind: 'port', port: portReceiver() } : { kind: 'websocket', url: o.channel };
    const transfer: Transferable[] = channel.kind === 'port' ? [frames, channel.port] : [frames];
    worker.postMessage({ frames, channel, intervalMs: o.intervalMs, jpegQuality: o.jpegQuality } satisfies StartCommand, transfer);
  }
  try {
    await sleep(o.warmupMs);
    measuring = true;
    const started = performance.now();
    await sleep(o.measureMs);
    measuring = false;
    if (failure) throw new Error(failure);
    const { width = 0, height = 0 } = track.getSettings();
    return { samples, stats, seconds: (performance.now() - started) / 1000, width, height };
  } finally {
    worker.postMessage({ stop: true });
    track.stop();
    setTimeout(() => worker.terminate(), TERMINATE_AFTER_MS);
  }
}

/**
 * The way PushCam no longer captures: the camera in a <video>, drawn into a canvas and read back
 * with getImageData, on the page's main thread, one frame per interval.
 */
async function runCanvas(o: CanvasRunOptions): Promise<CanvasRunResult> {
  const track = await openCamera(o.width, o.height);
  try {
    const video = document.createElement('video');
    video.muted = true;
    video.srcObject = new MediaStream([track]);
    await video.play();
    const canvas = document.createElement('canvas');
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2D canvas');
    const ms: number[] = [];
    for (let i = 0; i < o.warmup + o.count; i++) {
      await sleep(o.intervalMs);
      const start = performance.now();
      context.drawImage(video, 0, 0);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
      if (pixels.data.length === 0) throw new Error('getImageData returned nothing');
      if (i >= o.warmup) ms.push(performance.now() - start);
    }
    return { ms, width: canvas.width, height: canvas.height };
  } finally {
    track.stop();
  }
}

const bench: BenchPage = { runWorker, runCanvas };
(globalThis as unknown as { pushcamBench: BenchPage }).pushcamBench = bench;
