// The capture worker: reads camera frames off the page's main thread and sends the newest one to
// the core at most once per interval, following the frame protocol in shared/contract.ts
// (one frame in flight, the next only after FRAME_ACK).
//
// Measured in Chromium 156: MediaStreamTrackProcessor exists only on the main thread (not in a
// worker) and a MediaStreamTrack cannot be transferred to a worker, so the page creates the
// processor and transfers its `readable` here; browsers that follow the spec (processor in
// workers, transferable tracks) get the track instead. Reading and copying happen here either way,
// on timers a hidden or minimised window does not stop (requestAnimationFrame would).

import type { FrameChannel } from '../../shared/contract.js';
import { FRAME_ACK, frameHeader } from '../../shared/frame-format.js';

/** What can change while capturing, without reopening the camera. */
export interface LiveSettings {
  intervalMs: number;
  /** JPEG quality, 1..100, on a channel that carries JPEG (the WebSocket). */
  jpegQuality: number;
}

export interface StartCommand extends LiveSettings {
  /** The camera's frames (Chromium), or its track where workers have MediaStreamTrackProcessor. */
  frames: ReadableStream<VideoFrame> | MediaStreamTrack;
  channel: FrameChannel;
}

export type WorkerCommand = StartCommand | LiveSettings | { stop: true };

export interface CaptureStats {
  /** Frames sent since the start. */
  captured: number;
  /** Capture times that passed while the previous frame was unacknowledged or no frame had come. */
  skipped: number;
  /**
   * Mean time over the last second to turn a frame into what the channel carries: VideoFrame.copyTo,
   * and on a WebSocket the JPEG encoding too.
   */
  prepareMs: number;
  /** Mean time from sending a frame to its FRAME_ACK over the last second (transfer + core). */
  ackMs: number;
  width: number;
  height: number;
}

export type WorkerReport = { stats: CaptureStats } | { failed: string };

const STATS_EVERY_MS = 1000;
// The core acknowledges every frame; if one acknowledgement never comes (a core that dropped a
// frame, a lost message), capture carries on after this long instead of stopping for good.
const ACK_TIMEOUT_MS = 5000;
const CHANNELS = 4;

interface TrackProcessorConstructor {
  new (init: { track: MediaStreamTrack }): { readable: ReadableStream<VideoFrame> };
}

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;

interface FrameSize {
  width: number;
  height: number;
}

/** A frame in the form its channel carries, ready to go. */
interface OutgoingFrame {
  send(): void;
}

/** Where frames go: a MessagePort takes raw RGBA pixels, a WebSocket takes JPEG. */
interface FrameSink {
  /** What prepare() does, for the log and error messages. */
  readonly work: string;
  readonly ready: boolean;
  /** Turns the frame into what the channel carries: the costly part (copy, and JPEG encode on the WebSocket), reported as prepareMs. */
  prepare(frame: VideoFrame, size: FrameSize, settings: LiveSettings): Promise<OutgoingFrame>;
  close(): void;
}

interface SinkEvents {
  onReady(): void;
  onAck(): void;
  onClosed(reason: string): void;
}

/**
 * Copies frames as RGBA into one ImageData, reused while the frame size stays the same: into
 * memory used before, copyTo costs about 1 ms a 720p frame; into a new buffer, 12-14 ms
 * (measured in Chromium 156).
 */
function pixelCopier(): (frame: VideoFrame, size: FrameSize) => Promise<ImageData> {
  let image = new ImageData(1, 1);
  return async (frame, { width, height }) => {
    if (image.width !== width || image.height !== height) image = new ImageData(width, height);
    await frame.copyTo(image.data, { format: 'RGBA' });
    return image;
  };
}

// The pixels are cloned, not transferred: Electron's MessagePortMain loses the data of messages
// whose ArrayBuffers are transferred (electron/electron#34905), and between processes a transfer
// copies the bytes anyway.
function portSink(port: MessagePort, events: SinkEvents): FrameSink {
  const copyPixels = pixelCopier();
  port.onmessage = (event: MessageEvent) => {
    if (event.data === FRAME_ACK) events.onAck();
  };
  return {
    work: 'copyTo',
    ready: true,
    async prepare(frame, size) {
      const pixels = (await copyPixels(frame, size)).data.buffer;
      return { send: () => port.postMessage({ ...size, channels: CHANNELS, pixels }) };
    },
    close: () => port.close(),
  };
}

// Raw 720p frames (3.7 MB) take 120-230 ms each over a loopback WebSocket, ws.send() alone
// blocking 70-110 ms; as JPEG they take a few ms. The message goes as a Blob: reading it into an
// ArrayBuffer first only adds that step (measured).
function socketSink(url: string, events: SinkEvents): FrameSink {
  const copyPixels = pixelCopier();
  const encodeJpeg = jpegEncoder();
  const socket = new WebSocket(url);
  let closing = false;
  socket.onopen = () => events.onReady();
  socket.onmessage = (event: MessageEvent) => {
    if (event.data === FRAME_ACK) events.onAck();
  };
  socket.onclose = (event: CloseEvent) => {
    if (!closing) events.onClosed(`the frame connection closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`);
  };
  return {
    work: 'copyTo and JPEG encode',
    get ready() {
      return socket.readyState === WebSocket.OPEN;
    },
    async prepare(frame, size, { jpegQuality }) {
      const jpeg = await encodeJpeg(await copyPixels(frame, size), jpegQuality);
      const message = new Blob([frameHeader({ format: 'jpeg', ...size }), jpeg]);
      return { send: () => socket.send(message) };
    },
    close() {
      closing = true;
      socket.close();
    },
  };
}

/**
 * Encodes pixels as JPEG through one canvas. They are put there, not drawn from the VideoFrame:
 * drawImage(frame) takes 13-16 ms a 720p frame, copyTo and putImageData about 1.3 ms (measured
 * in headless Chromium 156, which draws in software).
 */
function jpegEncoder(): (image: ImageData, quality: number) => Promise<Blob> {
  const canvas = new OffscreenCanvas(1, 1);
  const context = canvas.getContext('2d', { alpha: false });
  if (!context) throw new Error('this browser cannot draw camera frames in a worker');
  return (image, quality) => {
    if (canvas.width !== image.width || canvas.height !== image.height) {
      canvas.width = image.width;
      canvas.height = image.height;
    }
    context.putImageData(image, 0, 0);
    return canvas.convertToBlob({ type: 'image/jpeg', quality: quality / 100 });
  };
}

/** Running mean over the current stats period. */
class Mean {
  private sum = 0;
  private count = 0;

  add(value: number): void {
    this.sum += value;
    this.count++;
  }

  take(): number {
    const mean = this.count > 0 ? this.sum / this.count : 0;
    this.sum = 0;
    this.count = 0;
    return Math.round(mean * 100) / 100;
  }
}

/** One capture, from a start command to stop. */
class CaptureRun {
  private readonly reader: ReadableStreamDefaultReader<VideoFrame>;
  private readonly sink: FrameSink;
  private settings: LiveSettings;
  private stopped = false;
  /** The newest frame not yet sent; older ones are closed as soon as a newer one comes. */
  private latest: VideoFrame | null = null;
  /** A capture time has passed and its frame is not sent yet. */
  private owed = false;
  private inFlight = false;
  private sentAt = 0;
  private due = performance.now();
  private tickTimer: ReturnType<typeof setTimeout> | undefined;
  private ackTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly statsTimer: ReturnType<typeof setInterval>;
  private captured = 0;
  private skipped = 0;
  private size = { width: 0, height: 0 };
  private readonly prepareMs = new Mean();
  private readonly ackMs = new Mean();
  private logged = false;

  constructor(command: StartCommand) {
    this.settings = { intervalMs: command.intervalMs, jpegQuality: command.jpegQuality };
    this.reader = framesOf(command.frames).getReader();
    this.sink = sinkFor(command.channel, {
      onReady: () => this.trySend(false),
      onAck: () => this.acknowledged(),
      onClosed: (reason) => this.fail(reason),
    });
    this.statsTimer = setInterval(() => this.postStats(), STATS_EVERY_MS);
    void this.drain();
    this.tick();
  }

  update(settings: LiveSettings): void {
    this.due += settings.intervalMs - this.settings.intervalMs;
    this.settings = settings;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.tickTimer);
    clearTimeout(this.ackTimer);
    clearInterval(this.statsTimer);
    this.latest?.close();
    this.latest = null;
    void this.reader.cancel().catch(() => undefined);
    this.sink.close();
  }

  /** Keeps reading so frames never pile up in the camera's pool; only the newest is kept. */
  private async drain(): Promise<void> {
    try {
      for (;;) {
        const { value: frame, done } = await this.reader.read();
        if (done) return;
        if (this.stopped) {
          frame.close();
          return;
        }
        this.latest?.close();
        this.latest = frame;
        this.trySend(true);
      }
    } catch (err) {
      if (!this.stopped) this.fail(`cannot read camera frames: ${(err as Error).message}`);
    }
  }

  private tick(): void {
    if (this.owed) this.skipped++;
    this.owed = true;
    this.due += this.settings.intervalMs;
    const now = performance.now();
    // Times missed while the worker was busy or suspended are dropped, not caught up in a burst.
    if (this.due < now) this.due = now + this.settings.intervalMs;
    this.schedule();
    this.trySend(false);
  }

  private schedule(): void {
    clearTimeout(this.tickTimer);
    if (!this.stopped) this.tickTimer = setTimeout(() => this.tick(), Math.max(0, this.due - performance.now()));
  }

  /** `late`: the capture time has passed before now, so the schedule restarts from here. */
  private trySend(late: boolean): void {
    if (this.stopped || !this.owed || this.inFlight || !this.latest || !this.sink.ready) return;
    const frame = this.latest;
    this.latest = null;
    this.owed = false;
    this.inFlight = true;
    if (late) {
      // Keeps sends at least an interval apart after a frame or an acknowledgement came late.
      this.due = performance.now() + this.settings.intervalMs;
      this.schedule();
    }
    void this.prepareAndSend(frame);
  }

  private async prepareAndSend(frame: VideoFrame): Promise<void> {
    try {
      const size = { width: frame.visibleRect?.width ?? frame.codedWidth, height: frame.visibleRect?.height ?? frame.codedHeight };
      const prepareStart = performance.now();
      const outgoing = await this.sink.prepare(frame, size, this.settings);
      this.prepareMs.add(performance.now() - prepareStart);
      if (this.stopped) return;
      // Timed from before send(): for a large message it blocks, and that is part of the cost.
      this.sentAt = performance.now();
      outgoing.send();
      this.captured++;
      this.size = size;
      this.ackTimer = setTimeout(() => this.sendNext(), ACK_TIMEOUT_MS);
    } catch (err) {
      this.inFlight = false;
      if (!this.stopped) this.fail(`cannot send a camera frame (${this.sink.work} failed): ${(err as Error).message}`);
    } finally {
      frame.close();
    }
  }

  private acknowledged(): void {
    if (!this.inFlight) return;
    clearTimeout(this.ackTimer);
    this.ackMs.add(performance.now() - this.sentAt);
    this.sendNext();
  }

  private sendNext(): void {
    this.inFlight = false;
    this.trySend(true);
  }

  private postStats(): void {
    const stats: CaptureStats = { captured: this.captured, skipped: this.skipped, prepareMs: this.prepareMs.take(), ackMs: this.ackMs.take(), ...this.size };
    if (!this.logged && stats.prepareMs > 0) {
      this.logged = true;
      console.info(`capture: ${stats.width}x${stats.height} ${this.sink.work} ${stats.prepareMs} ms per frame, ${stats.ackMs} ms from send to acknowledgement`);
    }
    report({ stats });
  }

  private fail(reason: string): void {
    this.stop();
    report({ failed: reason });
  }
}

function framesOf(source: StartCommand['frames']): ReadableStream<VideoFrame> {
  if (source instanceof ReadableStream) return source;
  const Processor = (globalThis as { MediaStreamTrackProcessor?: TrackProcessorConstructor }).MediaStreamTrackProcessor;
  if (!Processor) throw new Error('this browser cannot read camera frames in a worker');
  return new Processor({ track: source }).readable;
}

function sinkFor(channel: FrameChannel, events: SinkEvents): FrameSink {
  return channel.kind === 'port' ? portSink(channel.port, events) : socketSink(channel.url, events);
}

function report(message: WorkerReport): void {
  scope.postMessage(message);
}

let run: CaptureRun | null = null;

scope.onmessage = (event: MessageEvent<WorkerCommand>) => {
  const command = event.data;
  if ('stop' in command) {
    run?.stop();
    run = null;
    scope.close();
  } else if ('channel' in command) {
    run?.stop();
    try {
      run = new CaptureRun(command);
    } catch (err) {
      report({ failed: (err as Error).message });
    }
  } else {
    run?.update(command);
  }
};
