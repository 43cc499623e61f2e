// A child process holding the bench's viewers, so their CPU is reported on its own: raw HTTP
// connections that read a stream, count its frames and read their stamps (bench/stamp.ts), and
// stalled ones that send a request and never read.
import { connect } from 'node:net';
import { AGENT, type ConnectViewers, type Counters, exitWithParent, isMessage, type ViewersConnected } from './messages.js';
import { FrameReader } from './stamp.js';

const CONNECT_TIMEOUT_MS = 15_000;
const HEADER_END = Buffer.from('\r\n\r\n');
// Every reading socket reads into this one buffer (net's `onread`), each read scanned before the
// next starts: a fresh Buffer per read, as 'data' events make, costs more CPU than the servers spend.
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

exitWithParent();
const readers: FrameReader[] = [];

function request(path: string, agent: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: ${agent}\r\nAccept: */*\r\n\r\n`;
}

/** Why a response head starts no stream, or null if it does. */
function failureOf(head: string): string | null {
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
  if (status !== '200') return `HTTP ${status ?? '?'}`;
  return /^content-type: multipart\/x-mixed-replace/im.test(head) ? null : 'not a multipart stream';
}

/** One reading viewer: resolves once the response head has arrived. */
function openReader(port: number, path: string): Promise<FrameReader> {
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let reader: FrameReader | undefined;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, CONNECT_TIMEOUT_MS);
    const onRead = (length: number): boolean => {
      const chunk = READ_BUFFER.subarray(0, length);
      if (reader) return void reader.push(chunk), true;
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf(HEADER_END);
      if (end === -1) return true;
      clearTimeout(timer);
      const failure = failureOf(head.subarray(0, end).toString('latin1'));
      if (failure) {
        socket.destroy();
        reject(new Error(failure));
        return true;
      }
      reader = new FrameReader();
      reader.push(head.subarray(end + HEADER_END.length));
      resolve(reader);
      return true;
    };
    const socket = connect({ host: '127.0.0.1', port, onread: { buffer: READ_BUFFER, callback: onRead } });
    socket.once('connect', () => socket.write(request(path, AGENT.healthy)));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
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
  let stalled = 0;
  await Promise.all([
    ...Array.from({ length: m.healthy }, () => openReader(m.port, m.path).then((r) => void readers.push(r), tally)),
    ...Array.from({ length: m.stalled }, () => openStalled(m.port, m.path).then(() => void stalled++, tally)),
  ]);
  return { type: 'connected', healthy: readers.length, stalled, failures };
}

process.on('message', (message: unknown) => {
  if (isMessage<ConnectViewers>(message, 'connect')) void connectAll(message).then((reply) => process.send?.(reply));
  else if (isMessage(message, 'mark')) {
    const counters: Counters = { type: 'counters', at: performance.now(), frames: readers.map((r) => r.frames), ages: readers.flatMap((r) => r.take()) };
    process.send?.(counters);
  }
});
