import assert from 'node:assert/strict';
import { connect, Socket } from 'node:net';
import { test } from 'node:test';
import { SAMPLE_MS, UNSENT_LIMIT_BYTES } from '../server/hub/link.js';
import { socketFd, tcpInfo, tcpUnavailable, unsentLimit } from '../server/net/tcp.js';
import { PatternSource } from '../server/source/pattern.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually, startTestServer, TEST_KEY } from './helpers/server.js';

const unavailable = tcpUnavailable();
const skip = unavailable ? { skip: `no TCP socket options here: ${unavailable}` } : {};

/** The server's end of a loopback connection whose client end has local port `port`: a real viewer socket. */
function serverSocketOf(port: number): Socket {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const socket = handles.find((h): h is Socket => h instanceof Socket && h.remotePort === port && h.remoteAddress === '127.0.0.1');
  assert.ok(socket, `no server socket for client port ${port}`);
  return socket;
}

test("each viewer's socket keeps at most UNSENT_LIMIT_BYTES unsent (TCP_NOTSENT_LOWAT, read back with getsockopt)", skip, async (t) => {
  const s = await startTestServer(t);
  const client = await MjpegClient.open(s.url('/stream.mjpg'));
  t.after(() => client.close());
  await client.waitForParts(1);
  const viewerFd = socketFd(serverSocketOf(client.response.socket.localPort!));
  assert.ok(viewerFd !== null);
  assert.equal(unsentLimit(viewerFd), UNSENT_LIMIT_BYTES);
  // The client's own socket, which nobody tuned, has the system's default (no cap).
  assert.notEqual(unsentLimit(socketFd(client.response.socket)!), UNSENT_LIMIT_BYTES);
});

test('a stalled viewer: the kernel holds about the cap unsent for it, not megabytes', skip, async (t) => {
  const s = await startTestServer(t, { source: new PatternSource({ width: 1280, height: 720, intervalMs: 20 }) });
  const stalled = connect(s.port, '127.0.0.1');
  await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
  stalled.write(`GET /stream.mjpg?key=${TEST_KEY} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: stalled\r\n\r\n`);
  stalled.pause();
  t.after(() => stalled.destroy());
  const viewer = (): { framesSkipped: number } | undefined => s.hub.viewerList().find((v) => v.userAgent === 'stalled');
  await eventually(() => (viewer()?.framesSkipped ?? 0) > 20, 'the stalled viewer to skip frames', 15_000);
  const info = tcpInfo(socketFd(serverSocketOf(stalled.localPort!))!);
  assert.ok(info);
  // The kernel takes writes until its unsent bytes reach the cap, a segment at a time (up to
  // 64 KB on loopback). Without the cap Linux grows the send buffer to about 4 MB.
  assert.ok(info.unsentBytes <= UNSENT_LIMIT_BYTES + 64 * 1024, `${info.unsentBytes} bytes unsent`);
});

test("/status.json gives each viewer's link: round-trip time, delivery rate, what is queued, how far behind", skip, async (t) => {
  const s = await startTestServer(t);
  // A viewer sees its own entry: the one of the page it names.
  const page = 'link-test-page-0123';
  const client = await MjpegClient.open(s.url(`/stream.mjpg?viewer=${page}`), { 'user-agent': 'link-test' });
  t.after(() => client.close());
  await client.waitForParts(10);
  const status = (await (await fetch(s.url(`/status.json?viewer=${page}`))).json()) as { clients: { link: Record<string, number> | null }[] };
  const { link } = status.clients[0];
  assert.ok(link, 'a link sample');
  assert.deepEqual(Object.keys(link).sort(), ['behindMs', 'deliveryBitsPerSecond', 'inFlightBytes', 'rttMs', 'unsentBytes']);
  assert.ok(link.rttMs > 0 && link.rttMs < 1000, `rtt ${link.rttMs} ms`);
  assert.ok(link.deliveryBitsPerSecond > 1e6, `loopback delivers ${link.deliveryBitsPerSecond} bit/s`);
  assert.ok(link.inFlightBytes >= 0 && link.unsentBytes >= 0);
  assert.ok(link.behindMs >= 0 && link.behindMs < 1000, `${link.behindMs} ms behind on loopback`);
});

test("a burst of viewer lists (status answers) looks at each viewer's link once per SAMPLE_MS, not once per list", skip, async (t) => {
  const s = await startTestServer(t);
  const client = await MjpegClient.open(s.url('/stream.mjpg'));
  t.after(() => client.close());
  await client.waitForParts(2);
  const link = (): unknown => s.hub.viewerList()[0].link;
  const first = link();
  assert.ok(first, 'a link sample');
  // The same sample, not a new TCP_INFO call: 1,000 long-polls answered together with 400 viewers made 400,000.
  for (let i = 0; i < 100; i++) assert.equal(link(), first);
  await new Promise((r) => setTimeout(r, SAMPLE_MS + 50));
  assert.notEqual(link(), first, 'a newer sample once it is old');
});

test('send timeout: a stalled reader is dropped and frees its slot; a viewer that reads stays', async (t) => {
  const s = await startTestServer(t, { source: new PatternSource({ width: 1280, height: 720, intervalMs: 20 }), maxViewers: 2, sendTimeoutMs: 1000 });
  const healthy = await MjpegClient.open(s.url('/stream.mjpg'), { 'user-agent': 'reads' });
  t.after(() => healthy.close());
  const stalled = connect(s.port, '127.0.0.1');
  t.after(() => stalled.destroy());
  await new Promise<void>((resolve) => stalled.once('connect', () => resolve()));
  stalled.write(`GET /stream.mjpg?key=${TEST_KEY} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: stalled\r\n\r\n`);
  stalled.pause();
  await eventually(() => s.hub.viewerCount === 2, 'both viewers to join');
  assert.equal((await fetch(s.url('/stream.mjpg'))).status, 503, 'full while the stalled reader holds its slot');
  // Its socket fills within a moment on loopback, then takes nothing for the timeout.
  await eventually(() => s.hub.viewerList().every((v) => v.userAgent !== 'stalled'), 'the stalled reader to be dropped', 10_000);
  assert.equal(s.hub.viewerCount, 1);
  const parts = healthy.parts.length;
  await healthy.waitForParts(parts + 5);
  const next = await MjpegClient.open(s.url('/stream.mjpg'), { 'user-agent': 'next' });
  t.after(() => next.close());
  assert.equal(next.response.statusCode, 200, 'its slot is free again');
});
