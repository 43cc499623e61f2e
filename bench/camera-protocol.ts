// What the camera bench's page, its workers and its Node side say to each other. Types only, so
// that the browser bundles and the Node modules share them without sharing any code.

import type { CaptureStats } from '../renderer/capture/capture-worker.js';

/** One frame through the capture worker, timed by bench/camera-probe.ts inside the worker. */
export interface ProbeSample {
  /** VideoFrame.copyTo into the reused buffer, call to resolve. */
  copyMs: number;
  /** From the start of copyTo to the send: what the worker's own stats call prepareMs. */
  prepareMs: number;
  /** From the send to FRAME_ACK. */
  ackMs: number;
  /** How long the send call itself blocked the worker. */
  sendMs: number;
}

/** What the probe posts from the worker, beside the worker's own reports. */
export interface ProbeReport {
  probe: ProbeSample;
}

/** A run of PushCam's capture worker on the fake camera, `channel` 'port' or a ws:// URL. */
export interface WorkerRunOptions {
  /** The bench's probed copy of the capture worker, or the raw-RGBA-over-WebSocket worker. */
  worker: 'probed' | 'raw';
  channel: 'port' | string;
  width: number;
  height: number;
  intervalMs: number;
  jpegQuality: number;
  warmupMs: number;
  measureMs: number;
}

export interface WorkerRunResult {
  /** Frames acknowledged inside the measured window. */
  samples: ProbeSample[];
  /** The worker's own once-a-second reports inside the window (the probed worker only). */
  stats: CaptureStats[];
  seconds: number;
  width: number;
  height: number;
}

export interface CanvasRunOptions {
  width: number;
  height: number;
  intervalMs: number;
  warmup: number;
  count: number;
}

export interface CanvasRunResult {
  /** drawImage of the <video> plus getImageData, per frame. */
  ms: number[];
  width: number;
  height: number;
}

/** What the bench page puts on globalThis for page.evaluate to call. */
export interface BenchPage {
  runWorker(options: WorkerRunOptions): Promise<WorkerRunResult>;
  runCanvas(options: CanvasRunOptions): Promise<CanvasRunResult>;
}

/** The raw worker's start command (bench/camera-raw-worker.ts). */
export interface RawStart {
  frames: ReadableStream<VideoFrame>;
  url: string;
  intervalMs: number;
}

/** bench/camera-viewers.ts, once its viewers have the stream's response head (or failed). */
export interface CameraViewersConnected {
  type: 'connected';
  viewers: number;
  /** Why the others did not get a stream, counted by reason. */
  failures: Record<string, number>;
}

/** bench/camera-viewers.ts's counters at one moment, in answer to `{ type: 'mark' }`. */
export interface CameraViewerCounters {
  type: 'counters';
  at: number;
  /** Parts (frames) each viewer has read so far. */
  frames: number[];
  bytes: number;
  /** The viewers' process's own CPU time, µs. */
  cpuMicros: number;
}
