import { request, type IncomingMessage } from 'node:http';
import { request as requestTls } from 'node:https';

export interface ReceivedPart {
  headers: Record<string, string>;
  body: Buffer;
  /** performance.now() when the part was complete, i.e. when a browser could show it. */
  at: number;
}

/**
 * A strict multipart/x-mixed-replace reader over a real socket. In the advance-headers layout a
 * part is complete when the next boundary arrives; with Content-Length, when that many bytes did.
 */
export class MjpegClient {
  readonly parts: ReceivedPart[] = [];
  bytes = 0;
  response!: IncomingMessage;
  private buffer = Buffer.alloc(0);
  private boundary = '';
  private listeners: (() => void)[] = [];
  private closed = false;

  /** `ca`: the certificate authority an https:// server's certificate is checked against. */
  static open(url: string, headers: Record<string, string> = {}, ca?: Buffer): Promise<MjpegClient> {
    const client = new MjpegClient();
    return new Promise((resolve, reject) => {
      const send = url.startsWith('https:') ? requestTls : request;
      const req = send(url, { headers, ca }, (res) => {
        client.response = res;
        const type = res.headers['content-type'] ?? '';
        client.boundary = /boundary=([^;]+)/.exec(type)?.[1] ?? '';
        res.on('data', (chunk: Buffer) => client.onData(chunk));
        res.on('close', () => {
          client.closed = true;
          client.notify();
        });
        resolve(client);
      });
      req.on('error', reject);
      req.end();
    });
  }

  get ended(): boolean {
    return this.closed;
  }

  /** What came after the last complete part (at the end of a stream: its closing boundary). */
  get rest(): string {
    return this.buffer.toString('latin1');
  }

  close(): void {
    this.response?.destroy();
  }

  /** Resolves when `count` parts have arrived; rejects after `timeoutMs`. */
  waitForParts(count: number, timeoutMs = 5000): Promise<ReceivedPart[]> {
    return this.waitFor(() => this.parts.length >= count, timeoutMs, `${count} parts (got ${this.parts.length})`).then(
      () => this.parts,
    );
  }

  waitForEnd(timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.closed, timeoutMs, 'the stream to end');
  }

  private waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = (): void => {
        if (!done()) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve();
      };
      this.listeners.push(check);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private onData(chunk: Buffer): void {
    this.bytes += chunk.length;
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.takePart());
    this.notify();
  }

  /** Parses one complete part off the front of the buffer, if there is one. */
  private takePart(): boolean {
    const delimiter = Buffer.from(`--${this.boundary}\r\n`);
    const start = this.buffer.indexOf(delimiter);
    if (start < 0) return false;
    const headerEnd = this.buffer.indexOf('\r\n\r\n', start);
    if (headerEnd < 0) return false;
    const headers: Record<string, string> = {};
    for (const line of this.buffer.subarray(start + delimiter.length, headerEnd).toString('latin1').split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const bodyStart = headerEnd + 4;
    let bodyEnd: number;
    let next: number;
    if (headers['content-length'] !== undefined) {
      bodyEnd = bodyStart + Number(headers['content-length']);
      if (this.buffer.length < bodyEnd) return false;
      next = bodyEnd;
    } else {
      bodyEnd = this.buffer.indexOf(`\r\n--${this.boundary}`, bodyStart);
      if (bodyEnd < 0) return false;
      next = bodyEnd + 2;
    }
    this.parts.push({ headers, body: this.buffer.subarray(bodyStart, bodyEnd), at: performance.now() });
    this.buffer = this.buffer.subarray(next);
    return true;
  }
}
