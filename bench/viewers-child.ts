// A child process holding the bench's viewers: raw HTTP connections that read a stream and count
// its frames, plus stalled ones that send a request and never read. Kept out of the parent so the
// parent's own work never competes with them, and their CPU can be reported on its own.
import { connect } from 'node:net';
import { BoundaryCounter } from './boundary-counter.js';
import { StampReader } from './stamp.js';
import { exitWithParent } from './child-life.js';
import { type ConnectViewers, type Counters, isMessage, STALLED_AGENT, type ViewersConnected } from './messages.js';

const CONNECT_TIMEOUT_MS = 15_000;
const HEADER_END = Buffer.from('\r\n\r\n');

exitWithParent();
const healthy: Reader[] = [];

/** What a reading viewer keeps: its frame count and the stamps of the frames it read. */
interface Reader {
  counter: BoundaryCounter;
  stamps: StampReader;
}

function request(path: string, agent = 'pushcam-bench'): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: ${agent}\r\nAccept: */*\r\n\r\n`;
}

/** The boundary from a response head, or the reason there is no stream. */
function boundaryOf(head: string): { boundary: string } | { failure: string } {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (!status || status[1] !== '200') return { failure: `HTTP ${status?.[1] ?? '?'}` };
  const match = /boundary="?([^";\r\n]+)"?/i.exec(head);
  return match ? { boundary: match[1].trim() } : { failure: 'no boundary' };
}

/** One reading viewer: resolves once the response head has arrived. */
function openReader(port: number, path: string): Promise<Reader> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let head = Buffer.alloc(0);
    let reader: Reader | undefined;
    const timer = setTimeout(() => reject(new Error('timeout')), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => socket.write(request(path)));
    socket.on('error', (err) => reject(err));
    socket.on('data', (chunk: Buffer) => {
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
    });
  });
}

function take(reader: Reader, chunk: Buffer): void {
  reader.counter.push(chunk);
  reader.stamps.push(chunk);
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
      socket.write(request(path, STALLED_AGENT), () => resolve());
    });
  });
}

async function connectAll(m: ConnectViewers): Promise<ViewersConnected> {
  const failures: Record<string, number> = {};
  const tally = (err: unknown): void => {
    const reason = err instanceof Error ? err.message : String(err);
    failures[reason] = (failures[reason] ?? 0) + 1;
  };
  const readers = Array.from({ length: m.healthy }, () => openReader(m.port, m.path));
  const stalled = Array.from({ length: m.stalled }, () => openStalled(m.port, m.path));
  let stalledOk = 0;
  await Promise.all([
    ...readers.map((p) => p.then((c) => void healthy.push(c), tally)),
    ...stalled.map((p) => p.then(() => void stalledOk++, tally)),
  ]);
  return { type: 'connected', healthy: healthy.length, stalled: stalledOk, failures };
}

function counters(): Counters {
  const cpu = process.cpuUsage();
  return {
    type: 'counters',
    at: performance.now(),
    frames: healthy.map((r) => r.counter.count),
    ages: healthy.flatMap((r) => r.stamps.take()),
    bytes: healthy.reduce((n, r) => n + r.counter.bytes, 0),
    cpuMicros: cpu.user + cpu.system,
  };
}

process.on('message', (message: unknown) => {
  if (isMessage<ConnectViewers>(message, 'connect')) void connectAll(message).then((reply) => process.send?.(reply));
  else if (isMessage(message, 'mark')) process.send?.(counters());
});
