// A buffering proxy for the viewer page's tests in every engine: what a proxy that waits for a
// response's end does to an endless stream.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';

/**
 * A proxy in front of the server that passes everything but the stream's body, which it holds:
 * what a buffering proxy does to an endless response. The page's own requests still get through.
 */
export async function bufferingProxy(t: TestContext, target: number): Promise<number> {
  const proxy: Server = createServer((req, res) => {
    const upstream = request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if ((answer.headers['content-type'] ?? '').startsWith('multipart/x-mixed-replace')) {
        res.flushHeaders();
        answer.resume();
      } else {
        answer.pipe(res);
      }
    });
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => proxy.close(resolve)).then(() => proxy.closeAllConnections()));
  return (proxy.address() as AddressInfo).port;
}
