// A child process holding the bench's viewers: raw HTTP connections that read a stream, count its
// frames and read each frame's time stamp; slow ones that read no faster than a set rate; and
// stalled ones that send a request and never read. Kept out of the parent so the parent's own
// work never competes with them, and their CPU can be reported on its own.
import { connect, type Socket } from 'node:net';
import { BoundaryCounter } from './boundary-counter.js';
import { exitWithParent } from './child-life.js';
import { AGENT, type ConnectViewers, type Counters, type GroupCounters, isMessage, type ViewersConnected } from './messages.js';
import { StampReader } from './stamp.js';

const CONNECT_TIMEOUT_MS = 15_000;
const HEADER_END = Buffer.from('\r\n\r\n');
// Every reading socket reads into this one buffer (net's `onread`), and each read is scanned
// before the next one starts. 200 viewers at 30 fps is ~300 MB/s: a fresh Buffer per read, as
// 'data' events make, costs the viewers' process more CPU than the servers spend sending.
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);
// How often slow viewers get their next allowance of bytes.
const THROTTLE_TICK_MS = 20;

/** What a reading viewer keeps: its frame count and the stamps of the frames it read. */
interface Reader {
  counter: BoundaryCounter;
  stamps: StampReader;
}

/** A token bucket: a slow viewer reads while it has allowance, and pauses when it has none. */
interface Throttle {
  bytesPerSecond: number;
  allowance: number;
  socket?: Socket;
}

exitWithParent();
const groups = { healthy: [] as Reader[], slow: [] as Reader[] };
const throttles: Throttle[] = [];

function request(path: string, agent: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: ${agent}\r\nAccept: */*\r\n\r\n`;
}

/** The boundary from a response head, or the reason there is no stream. */
function boundaryOf(head: string): { boundary: string } | { failure: string } {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!status || status[1] !== '200') return { failure: `HTTP ${status?.[1] ?? '?'}` };
  const match = /boundary="?([^";\r\n]+)"?/i.exec(head);
  return match ? { boundary: match[1].trim() } : { failure: 'no boundary' };
}

function take(reader: Reader, chunk: Buffer): void {
  reader.counter.push(chunk);
  reader.stamps.push(chunk);
}

/** One reading viewer, throttled or not: resolves once the response head has arrived. */
function openReader(port: number, path: string, agent: string, throttle?: Throttle): Promise<Reader> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let reader: Reader | undefined;
    const timer = setTimeout(() => reject(new Error('timeout')), CONNECT_TIMEOUT_MS);
    const handle = (chunk: Buffer): void => {
      if (reader) return take(reader, chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEADER_END);
      if (end === -1) return;
      clearTimeout(timer);
      const found = boundaryOf(head.subarray(0, end).toString('latin1'));
      if ('failure' in found) {
        socket.destroy();
        return reject(new Error(found.failure));
      }
      reader = { counter: new BoundaryCounter(Buffer.from(`--${found.boundary}`)), stamps: new StampReader() };
      take(reader, head.subarray(end + HEADER_END.length));
      resolve(reader);
    };
    // net's onread callback. A throttled viewer out of allowance pauses through socket.pause(),
    // not by returning false: only pause() marks the socket paused, so that resume() restarts it.
    const onRead = (length: number): boolean => {
      handle(READ_BUFFER.subarray(0, length));
      if (throttle) {
        throttle.allowance -= length;
        if (throttle.allowance <= 0) socket.pause();
      }
      return true;
    };
    const socket = connect({ host: '127.0.0.1', port, onread: { buffer: READ_BUFFER, callback: onRead } });
    if (throttle) throttle.socket = socket;
    socket.once('connect', () => socket.write(request(path, agent)));
    socket.on('error', (err) => reject(err));
  });
}

/** Tops up every slow viewer's allowance (at most one tick's worth ahead) and resumes it. */
function startThrottling(): void {
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    for (const t of throttles) {
      const tick = (t.bytesPerSecond * (now - last)) / 1000;
      t.allowance = Math.min(t.allowance + tick, tick);
      if (t.allowance > 0 && t.socket?.isPaused()) t.socket.resume();
    }
    last = now;
  }, THROTTLE_TICK_MS).unref();
}

/** A stalled viewer: asks for the stream, then never reads, so the server's writes back up. */
function openStalled(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.pause();
    const timer = setTimeout(() => reject(new Error('timeout')), CONNECT_TIMEOUT_MS);
    socket.on('error', (err) => reject(err));
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.write(request(path, AGENT.stalled), () => resolve());
    });
  });
}

async function connectAll(m: ConnectViewers): Promise<ViewersConnected> {
  const failures: Record<string, number> = {};
  const tally = (err: unknown): void => {
    const reason = err instanceof Error ? err.message : String(err);
    failures[reason] = (failures[reason] ?? 0) + 1;
  };
  const slowThrottle = (): Throttle => {
    const throttle: Throttle = { bytesPerSecond: m.slowBytesPerSecond, allowance: 0 };
    throttles.push(throttle);
    return throttle;
  };
  const healthy = Array.from({ length: m.healthy }, () => openReader(m.port, m.path, AGENT.healthy));
  const slow = Array.from({ length: m.slow }, () => openReader(m.port, m.path, AGENT.slow, slowThrottle()));
  const stalled = Array.from({ length: m.stalled }, () => openStalled(m.port, m.path));
  if (m.slow > 0) startThrottling();
  let stalledOk = 0;
  await Promise.all([
    ...healthy.map((p) => p.then((r) => void groups.healthy.push(r), tally)),
    ...slow.map((p) => p.then((r) => void groups.slow.push(r), tally)),
    ...stalled.map((p) => p.then(() => void stalledOk++, tally)),
  ]);
  return { type: 'connected', healthy: groups.healthy.length, slow: groups.slow.length, stalled: stalledOk, failures };
}

function group(readers: readonly Reader[]): GroupCounters {
  return {
    frames: readers.map((r) => r.counter.count),
    ages: readers.flatMap((r) => r.stamps.take()),
    bytes: readers.reduce((n, r) => n + r.counter.bytes, 0),
  };
}

function counters(): Counters {
  const cpu = process.cpuUsage();
  return { type: 'counters', at: performance.now(), healthy: group(groups.healthy), slow: group(groups.slow), cpuMicros: cpu.user + cpu.system };
}

process.on('message', (message: unknown) => {
  if (isMessage<ConnectViewers>(message, 'connect')) void connectAll(message).then((reply) => process.send?.(reply));
  else if (isMessage(message, 'mark')) process.send?.(counters());
});
