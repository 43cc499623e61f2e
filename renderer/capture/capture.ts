// Capture on the page's main thread: opens the camera the core asks for, hands its frames to the
// capture worker, and tells the core how the camera is doing. After a fault it keeps trying (on a
// device change and every few seconds), so capture resumes by itself when the camera returns.

import type { CameraFault, CameraReport, CaptureRequest, ControlClient, FrameChannel } from '../../shared/contract.js';
import type { CaptureStats, LiveSettings, StartCommand, WorkerCommand, WorkerReport } from './capture-worker.js';

const RETRY_MS = 3000;

// Pages are bundled to dist/renderer/<page>/, so from any page the worker is one folder over.
const DEFAULT_WORKER_URL = new URL('../capture/capture-worker.js', import.meta.url);

const FAULT_MESSAGES: Record<Exclude<CameraFault, 'other'>, string> = {
  denied: 'Camera access was denied: allow it in the system or browser settings',
  busy: 'The camera is in use by another program',
  missing: 'No camera found: plug one in',
  unplugged: 'The camera was unplugged',
};

const FAULT_OF_ERROR: Record<string, Exclude<CameraFault, 'other' | 'unplugged'>> = {
  NotAllowedError: 'denied',
  SecurityError: 'denied',
  NotReadableError: 'busy',
  AbortError: 'busy',
  NotFoundError: 'missing',
  OverconstrainedError: 'missing',
};

export interface CaptureOptions {
  /** Where the bundled capture-worker.js is, if not beside this page's folder. */
  workerUrl?: URL | string;
  /** Capture counters and costs from the worker, once a second while capturing. */
  onStats?: (stats: CaptureStats) => void;
}

interface Run {
  request: CaptureRequest;
  track: MediaStreamTrack;
  worker: Worker;
}

interface TrackProcessorConstructor {
  new (init: { track: MediaStreamTrack }): { readable: ReadableStream<VideoFrame> };
}

/** Captures while the core's latest CaptureRequest says so, for as long as this object lives. */
export class Capture {
  private request: CaptureRequest | null = null;
  private run: Run | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private settling = false;
  private settleAgain = false;
  private reported: CameraReport | null = null;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly onDeviceChange = (): void => void this.settle();

  constructor(
    private readonly client: ControlClient,
    private readonly options: CaptureOptions = {},
  ) {
    this.unsubscribe = client.on('capture', (request) => this.want(request));
    navigator.mediaDevices?.addEventListener('devicechange', this.onDeviceChange);
    // The event comes only on a change; the state says what is wanted already. Both travel in
    // order on one connection, so an event that came first is newer than this answer.
    void client.call('getState').then(
      (state) => this.request ?? this.want(state.capture),
      (err: Error) => console.warn(`capture: could not read what to capture: ${err.message}`),
    );
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    navigator.mediaDevices?.removeEventListener('devicechange', this.onDeviceChange);
    clearTimeout(this.retryTimer);
    this.stopRun();
  }

  private want(request: CaptureRequest): void {
    this.request = request;
    void this.settle();
  }

  /** Brings the camera in line with the latest request; one pass at a time, repeated while requests keep coming. */
  private async settle(): Promise<void> {
    if (this.settling) {
      this.settleAgain = true;
      return;
    }
    this.settling = true;
    try {
      do {
        this.settleAgain = false;
        await this.settleOnce();
      } while (this.settleAgain && !this.closed);
    } finally {
      this.settling = false;
    }
  }

  private async settleOnce(): Promise<void> {
    const request = this.request;
    if (this.closed || !request) return;
    if (!request.active) {
      clearTimeout(this.retryTimer);
      this.stopRun();
      await this.report({ state: 'idle' });
      return;
    }
    if (this.run && sameCamera(this.run.request, request)) {
      if (!sameLiveSettings(this.run.request, request)) post(this.run.worker, liveSettings(request));
      this.run.request = request;
      return;
    }
    this.stopRun();
    try {
      await this.start(request);
    } catch (err) {
      await this.fault(errorReport(err));
    }
  }

  private async start(request: CaptureRequest): Promise<void> {
    if (!navigator.mediaDevices) throw new Error('Camera capture needs a page on https or localhost');
    const stream = await navigator.mediaDevices.getUserMedia({ video: await videoConstraints(request) });
    const [track] = stream.getVideoTracks();
    let channel: FrameChannel;
    try {
      channel = await this.client.openFrameChannel();
    } catch (err) {
      track.stop();
      throw err;
    }
    if (this.closed) {
      track.stop();
      return;
    }
    const run: Run = { request, track, worker: this.startWorker(track, channel, liveSettings(request)) };
    this.run = run;
    clearTimeout(this.retryTimer);
    track.addEventListener('ended', () => {
      if (this.run === run) void this.fault({ state: 'error', fault: 'unplugged', message: FAULT_MESSAGES.unplugged });
    });
    const { width = 0, height = 0 } = track.getSettings();
    await this.report({ state: 'capturing', label: track.label, width, height });
  }

  private startWorker(track: MediaStreamTrack, channel: FrameChannel, settings: LiveSettings): Worker {
    const worker = new Worker(this.options.workerUrl ?? DEFAULT_WORKER_URL, { type: 'module', name: 'pushcam-capture' });
    worker.onmessage = (event: MessageEvent<WorkerReport>) => {
      const message = event.data;
      if ('stats' in message) this.options.onStats?.(message.stats);
      else if (this.run?.worker === worker) void this.fault({ state: 'error', fault: 'other', message: message.failed });
    };
    worker.onerror = (event: ErrorEvent) => {
      if (this.run?.worker === worker) void this.fault({ state: 'error', fault: 'other', message: `the capture worker failed: ${event.message || 'it could not load'}` });
    };
    const frames = framesFor(track);
    const transfer = [frames, ...(channel.kind === 'port' ? [channel.port] : [])] as Transferable[];
    post(worker, { frames, channel, ...settings } satisfies StartCommand, transfer);
    return worker;
  }

  private stopRun(): void {
    const run = this.run;
    if (!run) return;
    this.run = null;
    post(run.worker, { stop: true });
    run.track.stop();
  }

  /** Stops what is left of the capture, says why, and tries again in a while. */
  private async fault(report: CameraReport & { state: 'error' }): Promise<void> {
    this.stopRun();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.settle(), RETRY_MS);
    // An unplugged camera is missing on every retry until it is back; the first message says it best.
    const previous = this.reported;
    const stillUnplugged = report.fault === 'missing' && previous?.state === 'error' && previous.fault === 'unplugged';
    await this.report(stillUnplugged ? previous : report);
  }

  /** Tells the core, once per change: retries that fail the same way stay quiet. */
  private async report(report: CameraReport): Promise<void> {
    if (JSON.stringify(report) === JSON.stringify(this.reported)) return;
    this.reported = report;
    try {
      await this.client.call('reportCamera', report);
    } catch (err) {
      this.reported = null;
      console.warn(`capture: could not report the camera state: ${(err as Error).message}`);
    }
  }
}

/** The cameras for a camera picker. Ids and labels are empty until the page has camera permission. */
export async function listCameras(): Promise<{ id: string; label: string }[]> {
  if (!navigator.mediaDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices
    .filter((device) => device.kind === 'videoinput')
    .map((device, i) => ({ id: device.deviceId, label: device.label || `Camera ${i + 1}` }));
}

function sameCamera(a: CaptureRequest, b: CaptureRequest): boolean {
  return a.cameraId === b.cameraId && a.cameraLabel === b.cameraLabel && a.width === b.width && a.height === b.height;
}

/** What the worker takes while it runs, without the camera reopening. */
function liveSettings(request: CaptureRequest): LiveSettings {
  return { intervalMs: request.intervalMs, jpegQuality: request.jpegQuality };
}

function sameLiveSettings(a: CaptureRequest, b: CaptureRequest): boolean {
  return a.intervalMs === b.intervalMs && a.jpegQuality === b.jpegQuality;
}

async function videoConstraints(request: CaptureRequest): Promise<MediaTrackConstraints> {
  const constraints: MediaTrackConstraints = {};
  if (request.width > 0) constraints.width = { ideal: request.width };
  if (request.height > 0) constraints.height = { ideal: request.height };
  const deviceId = await chooseCamera(request);
  if (deviceId) constraints.deviceId = deviceId;
  return constraints;
}

/**
 * The asked-for camera by id, else by label (ids change, e.g. after replugging), else by part of
 * its label, any case (`--source camera:logitech`), else the default.
 */
async function chooseCamera(request: CaptureRequest): Promise<ConstrainDOMString | undefined> {
  if (!request.cameraId && !request.cameraLabel) return undefined;
  const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((device) => device.kind === 'videoinput');
  const part = request.cameraLabel.toLowerCase();
  const chosen =
    cameras.find((camera) => request.cameraId && camera.deviceId === request.cameraId) ??
    cameras.find((camera) => request.cameraLabel && camera.label === request.cameraLabel) ??
    cameras.find((camera) => part && camera.label.toLowerCase().includes(part));
  if (chosen) return { exact: chosen.deviceId };
  // Before the page has camera permission, devices are listed without ids or labels: ask for the
  // id and let the browser take another camera if it is gone.
  if (request.cameraId && cameras.every((camera) => !camera.label)) return { ideal: request.cameraId };
  return undefined;
}

/** What the worker reads: the processor's stream where only pages have one (Chromium), else the track. */
function framesFor(track: MediaStreamTrack): ReadableStream<VideoFrame> | MediaStreamTrack {
  const Processor = (globalThis as { MediaStreamTrackProcessor?: TrackProcessorConstructor }).MediaStreamTrackProcessor;
  return Processor ? new Processor({ track }).readable : track;
}

function errorReport(err: unknown): CameraReport & { state: 'error' } {
  const { name, message } = err instanceof Error || err instanceof DOMException ? err : { name: '', message: String(err) };
  const fault = FAULT_OF_ERROR[name];
  if (fault) return { state: 'error', fault, message: FAULT_MESSAGES[fault] };
  return { state: 'error', fault: 'other', message };
}

function post(worker: Worker, command: WorkerCommand, transfer: Transferable[] = []): void {
  worker.postMessage(command, transfer);
}
