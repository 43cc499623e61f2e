// The capture worker: reads camera frames off the page's main thread and sends the newest one to
// the core at most once per interval, following the frame protocol in server/control/contract.ts
// (one frame in flight, the next only after FRAME_ACK).
//
// Measured in Chromium 156: MediaStreamTrackProcessor exists only on the main thread (not in a
// worker) and a MediaStreamTrack cannot be transferred to a worker, so the page creates the
// processor and transfers its `readable` here; browsers that follow the spec (processor in
// workers, transferable tracks) get the track instead. Reading and copying happen here either way,
// on timers a hidden or minimised window does not stop (requestAnimationFrame would).

import { FRAME_ACK, FRAME_HEADER_BYTES, type CameraFrameMeta, type FrameChannel } from '../../server/control/contract.js';

export interface StartCommand {
  /** The camera's frames (Chromium), or its track where workers have MediaStreamTrackProcessor. */
  frames: ReadableStream<VideoFrame> | MediaStreamTrack;
  channel: FrameChannel;
  intervalMs: number;
}

export type WorkerCommand = StartCommand | { intervalMs: number } | { stop: true };

export interface CaptureStats {
  /** Frames sent since the start. */
  captured: number;
  /** Capture times that passed while the previous frame was unacknowledged or no frame had come. */
  skipped: number;
  /** Mean VideoFrame.copyTo time over the last second. */
  copyMs: number;
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

/** Where frames go: a MessagePort or a WebSocket. Both copy a frame as they send it. */
interface FrameSink {
  readonly ready: boolean;
  /** The bytes the next frame's pixels are copied into. */
  target(meta: CameraFrameMeta): Uint8Array;
  /** Sends the pixels just copied into target(). */
  send(meta: CameraFrameMeta, pixels: Uint8Array): void;
  close(): void;
}

interface SinkEvents {
  onReady(): void;
  onAck(): void;
  onClosed(reason: string): void;
}

/**
 * One buffer for every frame of a size, `headerBytes` then the pixels. Copying into memory used
 * before costs about 1 ms a 720p frame; into a new buffer, 12-14 ms (measured in Chromium 156).
 */
function reusedBuffer(headerBytes: number): (meta: CameraFrameMeta) => ArrayBuffer {
  let buffer = new ArrayBuffer(0);
  return (meta) => {
    const size = headerBytes + meta.width * meta.height * meta.channels;
    if (buffer.byteLength !== size) buffer = new ArrayBuffer(size);
    return buffer;
  };
}

// The pixels are cloned, not transferred: Electron's MessagePortMain loses the data of messages
// whose ArrayBuffers are transferred (electron/electron#34905), and between processes a transfer
// copies the bytes anyway.
function portSink(port: MessagePort, events: SinkEvents): FrameSink {
  const bufferFor = reusedBuffer(0);
  port.onmessage = (event: MessageEvent) => {
    if (event.data === FRAME_ACK) events.onAck();
  };
  return {
    ready: true,
    target: (meta) => new Uint8Array(bufferFor(meta)),
    send(meta, pixels) {
      port.postMessage({ width: meta.width, height: meta.height, channels: meta.channels, pixels: pixels.buffer });
    },
    close: () => port.close(),
  };
}

function socketSink(url: string, events: SinkEvents): FrameSink {
  const socket = new WebSocket(url);
  const bufferFor = reusedBuffer(FRAME_HEADER_BYTES);
  let closing = false;
  socket.onopen = () => events.onReady();
  socket.onmessage = (event: MessageEvent) => {
    if (event.data === FRAME_ACK) events.onAck();
  };
  socket.onclose = (event: CloseEvent) => {
    if (!closing) events.onClosed(`the frame connection closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`);
  };
  return {
    get ready() {
      return socket.readyState === WebSocket.OPEN;
    },
    target: (meta) => new Uint8Array(bufferFor(meta), FRAME_HEADER_BYTES),
    send(meta, pixels) {
      const header = new DataView(pixels.buffer, 0, FRAME_HEADER_BYTES);
      header.setUint32(0, meta.width, true);
      header.setUint32(4, meta.height, true);
      header.setUint32(8, meta.channels, true);
      socket.send(pixels.buffer as ArrayBuffer);
    },
    close() {
      closing = true;
      socket.close();
    },
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
  private intervalMs: number;
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
  private readonly copyMs = new Mean();
  private readonly ackMs = new Mean();
  private logged = false;

  constructor(command: StartCommand) {
    this.intervalMs = command.intervalMs;
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

  setInterval(intervalMs: number): void {
    this.due += intervalMs - this.intervalMs;
    this.intervalMs = intervalMs;
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
    this.due += this.intervalMs;
    const now = performance.now();
    // Times missed while the worker was busy or suspended are dropped, not caught up in a burst.
    if (this.due < now) this.due = now + this.intervalMs;
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
      this.due = performance.now() + this.intervalMs;
      this.schedule();
    }
    void this.copyAndSend(frame);
  }

  private async copyAndSend(frame: VideoFrame): Promise<void> {
    try {
      const meta: CameraFrameMeta = { width: frame.visibleRect?.width ?? frame.codedWidth, height: frame.visibleRect?.height ?? frame.codedHeight, channels: CHANNELS };
      const pixels = this.sink.target(meta);
      const copyStart = performance.now();
      await frame.copyTo(pixels, { format: 'RGBA' });
      this.copyMs.add(performance.now() - copyStart);
      if (this.stopped) return;
      this.sink.send(meta, pixels);
      this.sentAt = performance.now();
      this.captured++;
      this.size = { width: meta.width, height: meta.height };
      this.ackTimer = setTimeout(() => this.sendNext(), ACK_TIMEOUT_MS);
    } catch (err) {
      this.inFlight = false;
      if (!this.stopped) this.fail(`cannot copy a camera frame: ${(err as Error).message}`);
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
    const stats: CaptureStats = { captured: this.captured, skipped: this.skipped, copyMs: this.copyMs.take(), ackMs: this.ackMs.take(), ...this.size };
    if (!this.logged && stats.copyMs > 0) {
      this.logged = true;
      console.info(`capture: ${stats.width}x${stats.height} copyTo ${stats.copyMs} ms per frame, ${stats.ackMs} ms from send to acknowledgement`);
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
    run?.setInterval(command.intervalMs);
  }
};
