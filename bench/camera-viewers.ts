// A child process of the camera bench holding its viewers: raw HTTP connections to a stream that
// count its parts by boundary, as bench/viewers-child.ts does for the fan-out bench (which is a
// process of its own, not a module to import). Apart from PushCam and its capture browser, so its
// CPU shows on its own. Arguments: port, path, number of viewers.
import { connect } from 'node:net';
import { BoundaryCounter } from './boundary-counter.js';
import type { CameraViewerCounters, CameraViewersConnected } from './camera-protocol.js';
import { exitWithParent } from './child-life.js';
import { isMessage } from './messages.js';

const CONNECT_TIMEOUT_MS = 15_000;
const HEADER_END = Buffer.from('\r\n\r\n');
// Every socket reads into this one buffer (net's `onread`) and each read is counted before the
// next: no Buffer per read, so the viewers cost little next to what they measure.
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

exitWithParent();
const [portText, path, countText] = process.argv.slice(2);
const readers: BoundaryCounter[] = [];

function boundaryOf(head: string): string {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!status || status[1] !== '200') throw new Error(`HTTP ${status?.[1] ?? '?'}`);
  const match = /boundary="?([^";\r\n]+)"?/i.exec(head);
  if (!match) throw new Error('no boundary');
  return match[1].trim();
}

/** One viewer: resolves with its counter once the response head has come. */
function openViewer(port: number): Promise<BoundaryCounter> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let counter: BoundaryCounter | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, CONNECT_TIMEOUT_MS);
    const onRead = (length: number): boolean => {
      const chunk = READ_BUFFER.subarray(0, length);
      if (counter) {
        counter.push(chunk);
        return true;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEADER_END);
      if (end === -1) return true;
      clearTimeout(timer);
      try {
        counter = new BoundaryCounter(Buffer.from(`--${boundaryOf(head.subarray(0, end).toString('latin1'))}`));
      } catch (err) {
        socket.destroy();
        reject(err as Error);
        return true;
      }
      counter.push(head.subarray(end + HEADER_END.length));
      resolve(counter);
      return true;
    };
    const socket = connect({ host: '127.0.0.1', port, onread: { buffer: READ_BUFFER, callback: onRead } });
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: pushcam-camera-bench\r\nAccept: */*\r\n\r\n`));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function connectAll(): Promise<CameraViewersConnected> {
  const failures: Record<string, number> = {};
  const attempts = Array.from({ length: Number(countText) }, () => openViewer(Number(portText)));
  for (const result of await Promise.allSettled(attempts)) {
    if (result.status === 'fulfilled') readers.push(result.value);
    else {
      const reason = result.reason instanceof Error ? result.reason.message : String(result.reason);
      failures[reason] = (failures[reason] ?? 0) + 1;
    }
  }
  return { type: 'connected', viewers: readers.length, failures };
}

process.on('message', (message: unknown) => {
  if (!isMessage(message, 'mark')) return;
  const cpu = process.cpuUsage();
  const counters: CameraViewerCounters = {
    type: 'counters',
    at: performance.now(),
    frames: readers.map((r) => r.count),
    bytes: readers.reduce((n, r) => n + r.bytes, 0),
    cpuMicros: cpu.user + cpu.system,
  };
  process.send?.(counters);
});

void connectAll().then((connected) => process.send?.(connected));
