// The path PushCam abandoned, kept only to measure it beside the one in use: raw RGBA frames over
// the loopback WebSocket, in the wire format the core still reads (server/control/frame-format.ts).
// Given its best case: copyTo writes straight into one reused message buffer after the header, so
// the only extra work is the send itself. One frame in flight, as in the capture worker.

import { FRAME_ACK, FRAME_HEADER_BYTES, frameHeader } from '../server/control/frame-format.js';
import type { ProbeReport, RawStart } from './camera-protocol.js';

const scope = globalThis as unknown as DedicatedWorkerGlobalScope;
const CHANNELS = 4;
let stopped = false;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

async function run({ frames, url, intervalMs }: RawStart): Promise<void> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`cannot open ${url}`));
  });
  let onAck = null as (() => void) | null;
  socket.onmessage = (event: MessageEvent) => {
    if (event.data === FRAME_ACK) onAck?.();
  };

  // Reads all the time, keeping only the newest frame, as the capture worker does. (`as`: these
  // are set in callbacks, which TypeScript would not see after a `= null`.)
  let latest = null as VideoFrame | null;
  let onFrame = null as (() => void) | null;
  const reader = frames.getReader();
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      latest?.close();
      latest = value;
      onFrame?.();
    }
  })();

  let message = new ArrayBuffer(0);
  while (!stopped) {
    const due = performance.now() + intervalMs;
    while (!latest) await new Promise<void>((resolve) => (onFrame = resolve));
    const frame: VideoFrame = latest;
    latest = null;
    const width = frame.visibleRect?.width ?? frame.codedWidth;
    const height = frame.visibleRect?.height ?? frame.codedHeight;
    const size = FRAME_HEADER_BYTES + width * height * CHANNELS;
    if (message.byteLength !== size) {
      message = new ArrayBuffer(size);
      new Uint8Array(message).set(frameHeader({ format: 'pixels', width, height, channels: CHANNELS }));
    }
    const copyStart = performance.now();
    await frame.copyTo(new Uint8Array(message, FRAME_HEADER_BYTES), { format: 'RGBA' });
    frame.close();
    const sentAt = performance.now();
    const acked = new Promise<void>((resolve) => (onAck = resolve));
    socket.send(message);
    const sendMs = performance.now() - sentAt;
    await acked;
    const ackMs = performance.now() - sentAt;
    const report: ProbeReport = { probe: { copyMs: sentAt - copyStart, prepareMs: sentAt - copyStart, ackMs, sendMs } };
    scope.postMessage(report);
    await sleep(due - performance.now());
  }
  latest?.close();
  void reader.cancel().catch(() => undefined);
  socket.close();
}

scope.onmessage = (event: MessageEvent<RawStart | { stop: true }>) => {
  if ('stop' in event.data) {
    stopped = true;
    return;
  }
  run(event.data).catch((err: Error) => scope.postMessage({ failed: err.message }));
};
