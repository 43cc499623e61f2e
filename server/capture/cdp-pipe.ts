import { EventEmitter } from 'node:events';
import type { Readable, Writable } from 'node:stream';

// The Chrome DevTools Protocol over `--remote-debugging-pipe`: JSON messages, each ended by a NUL
// byte, written to the browser's fd 3 and read from its fd 4. Only PushCam holds the pipe: unlike
// a debugging port, no other local user or page can connect to it, and the browser quits when it
// closes, so it cannot outlive PushCam. Just what the capture browser needs: calls and events.

/** A message larger than this from the browser is a broken pipe, not a reply. */
const MAX_MESSAGE = 16 * 1024 * 1024;
const CALL_TIMEOUT_MS = 15_000;

type Events = { event: [method: string, params: Record<string, unknown>, sessionId: string | undefined]; close: [] };

export class CdpPipe extends EventEmitter<Events> {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: Record<string, unknown>): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  private chunks: Buffer[] = [];
  private buffered = 0;
  private closed = false;

  constructor(
    private readonly toBrowser: Writable,
    fromBrowser: Readable,
  ) {
    super();
    fromBrowser.on('data', (data: Buffer) => this.receive(data));
    for (const stream of [toBrowser, fromBrowser]) {
      stream.on('error', () => this.close());
      stream.on('close', () => this.close());
    }
  }

  /** Calls `method` (on a page's session if given); resolves with its result, rejects with the browser's error. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    if (this.closed) return Promise.reject(new Error(`cannot call ${method}: the browser's pipe is closed`));
    const id = this.nextId++;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, { error: { message: `no answer within ${CALL_TIMEOUT_MS / 1000} s` } }), CALL_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    }).catch((err: Error) => {
      throw new Error(`${method}: ${err.message}`);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.pending.keys()]) this.settle(id, { error: { message: 'the browser closed its pipe' } });
    this.toBrowser.destroy();
    this.emit('close');
  }

  private receive(data: Buffer): void {
    let start = 0;
    for (let end = data.indexOf(0); end !== -1; end = data.indexOf(0, start)) {
      this.chunks.push(data.subarray(start, end));
      const text = Buffer.concat(this.chunks).toString('utf8');
      this.chunks = [];
      this.buffered = 0;
      this.dispatch(text);
      start = end + 1;
    }
    if (start < data.length) {
      this.chunks.push(data.subarray(start));
      this.buffered += data.length - start;
      if (this.buffered > MAX_MESSAGE) this.close();
    }
  }

  private dispatch(text: string): void {
    let message: { id?: number; method?: string; params?: Record<string, unknown>; sessionId?: string; result?: Record<string, unknown>; error?: { message?: string } };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (typeof message.id === 'number') this.settle(message.id, message);
    else if (typeof message.method === 'string') this.emit('event', message.method, message.params ?? {}, message.sessionId);
  }

  private settle(id: number, message: { result?: Record<string, unknown>; error?: { message?: string } }): void {
    const call = this.pending.get(id);
    if (!call) return;
    this.pending.delete(id);
    clearTimeout(call.timer);
    if (message.error) call.reject(new Error(message.error.message ?? 'failed'));
    else call.resolve(message.result ?? {});
  }
}
