// Times every frame inside PushCam's own capture worker, which reports only per-second means
// (prepareMs, ackMs): a median and a p95 need each frame. Loaded into the worker before
// renderer/capture/capture-worker.ts (bench/camera-probed-worker.ts), it wraps the calls the
// worker makes (VideoFrame.copyTo, WebSocket and MessagePort sends, FRAME_ACK arrivals) and
// changes nothing they do, so the figures are those of the code PushCam ships.

import { FRAME_ACK } from '../server/control/frame-format.js';
import type { ProbeReport } from './camera-protocol.js';

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;

// The worker keeps one frame in flight (copy, encode, send, wait for FRAME_ACK), so one set of
// timestamps follows it through.
let copyStart = 0;
let copyMs = 0;
let prepareMs = 0;
let sentAt = 0;
let sendMs = 0;

function beforeSend(): void {
  sentAt = performance.now();
  prepareMs = sentAt - copyStart;
}

function afterSend(): void {
  sendMs = performance.now() - sentAt;
}

function acknowledged(): void {
  if (sentAt === 0) return;
  const report: ProbeReport = { probe: { copyMs, prepareMs, ackMs: performance.now() - sentAt, sendMs } };
  sentAt = 0;
  scope.postMessage(report);
}

const copyTo = VideoFrame.prototype.copyTo;
VideoFrame.prototype.copyTo = function (this: VideoFrame, ...args: Parameters<VideoFrame['copyTo']>) {
  const start = performance.now();
  copyStart = start;
  const done = copyTo.apply(this, args);
  // Attached before the worker awaits the same promise, so this runs first.
  void done.then(
    () => void (copyMs = performance.now() - start),
    () => undefined,
  );
  return done;
};

// The worker opens its socket with `new WebSocket(url)`, which finds this class on the global.
const NativeWebSocket = WebSocket;
class ProbedWebSocket extends NativeWebSocket {
  constructor(url: string | URL, protocols?: string | string[]) {
    super(url, protocols);
    // Added before the worker sets onmessage, so it runs first.
    this.addEventListener('message', (event: MessageEvent) => {
      if (event.data === FRAME_ACK) acknowledged();
    });
  }

  override send(data: Parameters<WebSocket['send']>[0]): void {
    beforeSend();
    super.send(data);
    afterSend();
  }
}
(globalThis as unknown as { WebSocket: typeof WebSocket }).WebSocket = ProbedWebSocket;

// In the worker, only the frame port's sink posts on a MessagePort (reports go through the scope).
const portPost = MessagePort.prototype.postMessage;
MessagePort.prototype.postMessage = function (this: MessagePort, ...args: unknown[]): void {
  beforeSend();
  Reflect.apply(portPost, this, args);
  afterSend();
};

// The port arrives in the start command; listening on it too does not start it (onmessage does,
// which the worker sets right after this listener runs).
scope.addEventListener('message', (event: MessageEvent) => {
  const channel = (event.data as { channel?: { kind?: string; port?: MessagePort } } | null)?.channel;
  if (channel?.kind === 'port' && channel.port) {
    channel.port.addEventListener('message', (message: MessageEvent) => {
      if (message.data === FRAME_ACK) acknowledged();
    });
  }
});
