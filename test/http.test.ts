import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { once } from 'node:events';
import { test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { LINGER_MS } from '../server/pipeline.js';
import { FileSource } from '../server/source/file.js';
import { PatternSource } from '../server/source/pattern.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually, startTestServer, TEST_KEY } from './helpers/server.js';
import { solidJpeg, tempDir } from './helpers/fixtures.js';

/** A file that never changes: the source publishes once, then never again. */
async function stillFile(t: TestContext): Promise<string> {
  const path = join(tempDir(t, 'http'), 'cam.jpg');
  await writeFile(path, await solidJpeg([200, 30, 30], 64, 48));
  return path;
}

/** A GET as programs send it: node:http, without the Sec-Fetch headers fetch() adds. */
function plainGet(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string>, body }));
    }).on('error', reject);
  });
}

/** Sends raw bytes and returns the status line of the answer. */
function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('close', () => resolve(answer.split('\r\n')[0]));
    socket.on('error', reject);
  });
}

test('/healthz answers ok without a key', async (t) => {
  const s = await startTestServer(t);
  const res = await fetch(s.bare('/healthz'));
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'ok');
});

test('every other route needs the key, and says how to give it', async (t) => {
  const s = await startTestServer(t);
  // As programs ask (ffmpeg, VLC, Home Assistant): plain HTTP, no Sec-Fetch headers.
  for (const path of ['/', '/stream.mjpg', '/snapshot.jpg', '/status.json', '/?action=stream', '/viewer.js']) {
    const res = await plainGet(s.bare(path));
    assert.equal(res.status, 401, path);
    assert.match(res.headers['www-authenticate'] ?? '', /^Basic /, path);
    assert.match((JSON.parse(res.body) as { error: string }).error, /access key/);
  }
  // A browser's own fetch gets no challenge (no login box); a browser navigation gets a page.
  const fromPage = await plainGet(s.bare('/status.json'), { 'sec-fetch-mode': 'cors' });
  assert.equal(fromPage.status, 401);
  assert.equal(fromPage.headers['www-authenticate'], undefined);
  const navigation = await plainGet(s.bare('/'), { 'sec-fetch-mode': 'navigate' });
  assert.equal(navigation.status, 401);
  assert.match(navigation.headers['content-type'] ?? '', /text\/html/);
  assert.match(navigation.body, /needs its access key[\s\S]*<input id="key" name="key"/);
  // Its one style element (the viewer's sheet) is let in by hash, and nothing else.
  assert.match(navigation.headers['content-security-policy'] ?? '', /^default-src 'none'; style-src 'sha256-[\w+/=]+';/);
  const wrong = await fetch(s.bare('/status.json?key=not-the-key'));
  assert.equal(wrong.status, 401);
});

test('the key works as ?key=, as the Basic password, and as the cookie the viewer page sets', async (t) => {
  const s = await startTestServer(t);
  assert.equal((await fetch(s.url('/status.json'))).status, 200);
  const basic = `Basic ${Buffer.from(`anyone:${TEST_KEY}`).toString('base64')}`;
  assert.equal((await fetch(s.bare('/status.json'), { headers: { authorization: basic } })).status, 200);
  const badBasic = `Basic ${Buffer.from('anyone:nope').toString('base64')}`;
  assert.equal((await fetch(s.bare('/status.json'), { headers: { authorization: badBasic } })).status, 401);

  const page = await fetch(s.url('/'));
  assert.equal(page.status, 200);
  const cookie = page.headers.get('set-cookie') ?? '';
  assert.match(cookie, new RegExp(`^pushcam_key_${s.port}=${TEST_KEY};`));
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const withCookie = await fetch(s.bare('/status.json'), { headers: { cookie: cookie.split(';')[0] } });
  assert.equal(withCookie.status, 200);
  const wrongCookie = await fetch(s.bare('/status.json'), { headers: { cookie: `pushcam_key_${s.port}=x` } });
  assert.equal(wrongCookie.status, 401);
});

test('--no-auth (key null) opens every route', async (t) => {
  const s = await startTestServer(t, { key: null });
  assert.equal((await fetch(s.bare('/status.json'))).status, 200);
});

test('the viewer page comes with a strict CSP and no caching of the key', async (t) => {
  const s = await startTestServer(t);
  const res = await fetch(s.url('/'));
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(await res.text(), /stream\.mjpg|viewer\.js/);
});

test('the stream: headers, a long random boundary, and parts that are whole JPEGs', async (t) => {
  const s = await startTestServer(t);
  const client = await MjpegClient.open(s.url('/stream.mjpg'));
  t.after(() => client.close());
  const h = client.response.headers;
  assert.equal(client.response.statusCode, 200);
  const boundary = /boundary=(\S+)/.exec(h['content-type'] ?? '')?.[1] ?? '';
  assert.ok(boundary.length >= 32, `boundary ${boundary}`);
  assert.match(h['cache-control'] ?? '', /no-store/);
  assert.equal(h['x-accel-buffering'], 'no');
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.equal(h['transfer-encoding'], undefined, 'raw parts, not chunked');
  const parts = await client.waitForParts(5);
  for (const part of parts.slice(0, 5)) {
    assert.equal(part.headers['content-type'], 'image/jpeg');
    const meta = await sharp(part.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 160, 120]);
  }
  assert.notDeepEqual(parts[0].body, parts[4].body, 'frames change');

  const other = await startTestServer(t);
  const res = await fetch(other.url('/stream.mjpg'), { method: 'HEAD' });
  assert.notEqual(res.headers.get('content-type'), h['content-type'], 'a new boundary at each start');
});

test('advance headers: a lone frame is complete at once; the plain layout leaves it open', async (t) => {
  const s = await startTestServer(t, { source: new FileSource({ path: await stillFile(t), intervalMs: 50, log: () => {} }) });
  const advance = await MjpegClient.open(s.url('/stream.mjpg?compat=advance'));
  t.after(() => advance.close());
  await advance.waitForParts(1, 2000);

  // Classic layout: the only frame is followed by nothing a browser can take as its end.
  const plainBytes: Buffer[] = [];
  const plain = await fetch(s.url('/stream.mjpg?compat=plain'));
  const reader = plain.body!.getReader();
  t.after(() => reader.cancel());
  const deadline = Date.now() + 800;
  while (Date.now() < deadline) {
    const next = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), 100))]);
    if (next && !next.done) plainBytes.push(Buffer.from(next.value));
  }
  const all = Buffer.concat(plainBytes);
  assert.match(all.subarray(0, 120).toString('latin1'), /^--pushcam\w+\r\nContent-Type: image\/jpeg\r\nContent-Length: \d+/);
  assert.equal(all.subarray(-4).toString('hex'), 'ffd90d0a', 'ends with the JPEG, no next boundary yet');
});

test('a new viewer gets the newest frame at once, without waiting for the next', async (t) => {
  const s = await startTestServer(t, { source: new PatternSource({ width: 160, height: 120, intervalMs: 3000 }) });
  const first = await MjpegClient.open(s.url('/stream.mjpg'));
  t.after(() => first.close());
  await first.waitForParts(1, 2000);
  const started = performance.now();
  const second = await MjpegClient.open(s.url('/stream.mjpg'));
  t.after(() => second.close());
  const [part] = await second.waitForParts(1, 2000);
  assert.ok(part.at - started < 500, `first part after ${Math.round(part.at - started)} ms`);
  assert.equal(s.hub.latest?.seq, 1, 'no new frame was made for it');
});

test('an unchanged file is sent once, not again at every interval', async (t) => {
  const s = await startTestServer(t, { source: new FileSource({ path: await stillFile(t), intervalMs: 30, log: () => {} }) });
  const client = await MjpegClient.open(s.url('/stream.mjpg'));
  t.after(() => client.close());
  await client.waitForParts(1);
  await new Promise((r) => setTimeout(r, 800));
  assert.equal(client.parts.length, 1);
  assert.equal(s.encoder.frames, 0, 'a plain JPEG file is passed through, not re-encoded');
});

test('a stalled viewer neither grows memory nor slows a fast viewer', async (t) => {
  const s = await startTestServer(t, { source: new PatternSource({ width: 1280, height: 720, intervalMs: 20 }) });
  // The stalled viewer: a socket that asks for the stream and never reads.
  const stalled = connect(s.port, '127.0.0.1', () => {
    stalled.write(`GET /stream.mjpg?key=${TEST_KEY} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: stalled\r\n\r\n`);
    stalled.pause();
  });
  t.after(() => stalled.destroy());
  const fast = await MjpegClient.open(s.url('/stream.mjpg'), { 'user-agent': 'fast' });
  t.after(() => fast.close());
  const viewer = (ua: string) => s.hub.viewerList().find((c) => c.userAgent === ua)!;
  // Loopback socket buffers hold a few MB before the stall shows.
  await eventually(() => viewer('stalled')?.framesSkipped > 10, 'the stalled viewer to skip frames', 15_000);
  const bytesAtStall = viewer('stalled').bytesSent;
  const publishedAtStall = s.hub.latest!.seq;
  await new Promise((r) => setTimeout(r, 1000));
  const slow = viewer('stalled');
  const quick = viewer('fast');
  const published = s.hub.latest!.seq;
  assert.ok(published - publishedAtStall >= 10, 'frames kept coming');
  assert.equal(slow.bytesSent, bytesAtStall, 'nothing more was written (or queued) for the stalled viewer');
  // Every frame was sent, counted as skipped, or is the one newest frame it holds for later.
  assert.equal(slow.framesSent + slow.framesSkipped, published - 1);
  assert.ok(quick.framesSent >= published * 0.8, `fast viewer got ${quick.framesSent} of ${published}`);
});

test('?fps caps one viewer; bad values are a 400 with a reason', async (t) => {
  const s = await startTestServer(t);
  const client = await MjpegClient.open(s.url('/stream.mjpg?fps=4'));
  t.after(() => client.close());
  await new Promise((r) => setTimeout(r, 1500));
  assert.ok(client.parts.length >= 4 && client.parts.length <= 8, `${client.parts.length} parts in 1.5 s at fps=4`);
  for (const query of ['fps=0', 'fps=abc', 'fps=1000', 'fps=1&fps=2', 'compat=bogus', 'fps=-1', 'fps=1e3']) {
    const res = await fetch(s.url(`/stream.mjpg?${query}`));
    assert.equal(res.status, 400, query);
    assert.match(((await res.json()) as { error: string }).error, /must be/, query);
  }
});

test('--max-viewers: the next viewer gets 503 with a reason', async (t) => {
  const s = await startTestServer(t, { maxViewers: 2 });
  const a = await MjpegClient.open(s.url('/stream.mjpg'));
  const b = await MjpegClient.open(s.url('/stream.mjpg'));
  t.after(() => (a.close(), b.close()));
  const res = await fetch(s.url('/stream.mjpg'));
  assert.equal(res.status, 503);
  assert.ok(res.headers.get('retry-after'));
  assert.match(((await res.json()) as { error: string }).error, /limit of 2 viewers/);
});

test('snapshot: newest frame with ETag, 304 for the same, ?after waits for a newer one', async (t) => {
  const s = await startTestServer(t, { source: new PatternSource({ width: 160, height: 120, intervalMs: 300 }) });
  const res = await fetch(s.url('/snapshot.jpg'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'image/jpeg');
  const seq = Number(res.headers.get('x-frame-seq'));
  assert.equal(res.headers.get('etag'), `"${seq}"`);
  assert.equal((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format, 'jpeg');
  const again = await fetch(s.url('/snapshot.jpg'), { headers: { 'if-none-match': `"${seq}"` } });
  assert.equal(again.status, 304);

  const started = performance.now();
  const newer = await fetch(s.url(`/snapshot.jpg?after=${seq}`));
  assert.equal(newer.status, 200);
  assert.ok(Number(newer.headers.get('x-frame-seq')) > seq);
  assert.ok(performance.now() - started < 1500, 'answered when the next frame came');
  assert.equal((await fetch(s.url('/snapshot.jpg?after=x'))).status, 400);
});

test('snapshot ?after answers 304 when no newer frame comes within the wait (10 s; shorter here)', async (t) => {
  const s = await startTestServer(t, { source: new FileSource({ path: await stillFile(t), intervalMs: 100, log: () => {} }), snapshotWaitMs: 1000 });
  const first = await fetch(s.url('/snapshot.jpg'));
  const seq = Number(first.headers.get('x-frame-seq'));
  const res = await fetch(s.url(`/snapshot.jpg?after=${seq}`));
  assert.equal(res.status, 304);
});

test("mjpg-streamer's URLs: /?action=stream and /?action=snapshot", async (t) => {
  const s = await startTestServer(t);
  const client = await MjpegClient.open(s.url('/?action=stream'));
  t.after(() => client.close());
  await client.waitForParts(2);
  const snap = await fetch(s.url('/?action=snapshot'));
  assert.equal(snap.headers.get('content-type'), 'image/jpeg');
  assert.equal((await fetch(s.url('/?action=other'))).status, 400);
});

test('HEAD works and does not count as a viewer', async (t) => {
  const s = await startTestServer(t);
  const stream = await fetch(s.url('/stream.mjpg'), { method: 'HEAD' });
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type') ?? '', /multipart\/x-mixed-replace/);
  assert.equal(s.hub.viewerCount, 0);
  const snap = await fetch(s.url('/snapshot.jpg'), { method: 'HEAD' });
  assert.equal(snap.status, 200);
  assert.equal((await snap.arrayBuffer()).byteLength, 0);
});

test('unknown paths are 404, other methods 405, hostile requests 4xx, never 5xx', async (t) => {
  const s = await startTestServer(t);
  const missing = await fetch(s.url('/nope'));
  assert.equal(missing.status, 404);
  assert.match(((await missing.json()) as { error: string }).error, /no such page/);
  const post = await fetch(s.url('/stream.mjpg'), { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');
  assert.equal((await fetch(s.bare('/healthz'), { method: 'DELETE' })).status, 405);
  for (const path of ['/%E0%A4%A', '/..%2f..%2fetc/passwd', '/viewer.js/../../package.json', `/?key=${TEST_KEY}&action[]=x`, '/%00']) {
    const res = await fetch(s.url(path));
    assert.ok(res.status >= 400 && res.status < 500, `${path}: ${res.status}`);
  }
  assert.match(await rawRequest(s.port, 'GARBAGE\r\n\r\n'), /^HTTP\/1\.1 400/);
  assert.match(await rawRequest(s.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
  assert.equal((await fetch(s.bare('/healthz'))).status, 200, 'still serving');
});

test('nobody watching: nothing is made or encoded; the source starts on demand and stops after', async (t) => {
  const s = await startTestServer(t);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.encoder.frames, 0);
  assert.equal(s.pipeline.isRunning, false);
  const client = await MjpegClient.open(s.url('/stream.mjpg'));
  await client.waitForParts(3);
  assert.ok(s.encoder.frames >= 3);
  client.close();
  await eventually(() => !s.pipeline.isRunning, 'the source to stop', LINGER_MS + 2000);
  await new Promise((r) => setTimeout(r, 100)); // an encode already under way may still finish
  const frames = s.encoder.frames;
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.encoder.frames, frames, 'no encoding after the last viewer left');
});

test('/status.json reports source, frame, encoder, how many watch and the own viewer entry', async (t) => {
  const s = await startTestServer(t);
  const page = 'status-test-page-0123';
  const client = await MjpegClient.open(s.url(`/stream.mjpg?viewer=${page}`), { 'user-agent': 'status-test' });
  t.after(() => client.close());
  await client.waitForParts(3);
  const status = (await (await fetch(s.url(`/status.json?viewer=${page}`))).json()) as {
    viewers: number;
    source: { kind: string; state: string };
    frame: { seq: number; width: number; height: number; bytes: number; at: number };
    encoder: { frames: number; avgMs: number };
    clients: { id: number; ip: string; userAgent: string; since: number; framesSent: number; framesSkipped: number; framesDropped: number; bytesSent: number }[];
  };
  assert.deepEqual(status.source, { kind: 'pattern', state: 'running' });
  assert.ok(status.frame.seq >= 3 && status.frame.bytes > 0 && status.frame.width === 160 && status.frame.height === 120);
  assert.ok(Math.abs(status.frame.at - Date.now()) < 5000);
  assert.ok(status.encoder.frames >= 3 && status.encoder.avgMs > 0);
  assert.equal(status.viewers, 1);
  assert.equal(status.clients.length, 1);
  const [c] = status.clients;
  assert.equal(c.ip, '127.0.0.1');
  assert.equal(c.userAgent, 'status-test');
  assert.ok(c.framesSent >= 3 && c.bytesSent > 0 && c.framesSkipped >= 0 && c.since <= Date.now());
  assert.equal(c.framesDropped, c.framesSkipped, 'the old name, for programs that read it');
});

test('a kicked viewer is refused stream and snapshot for a while; others are not', async (t) => {
  const s = await startTestServer(t);
  const kicked = await MjpegClient.open(s.url('/stream.mjpg'), { 'user-agent': 'kicked-one' });
  await kicked.waitForParts(1);
  assert.equal(s.hub.kick(s.hub.viewerList()[0].id), true);
  await kicked.waitForEnd();
  for (const path of ['/stream.mjpg', '/snapshot.jpg', '/?action=stream']) {
    const res = await plainGet(s.url(path), { 'user-agent': 'kicked-one' });
    assert.equal(res.status, 403, path);
    assert.match((JSON.parse(res.body) as { error: string }).error, /the broadcaster disconnected you/);
  }
  const other = await plainGet(s.url('/snapshot.jpg'), { 'user-agent': 'someone-else' });
  assert.equal(other.status, 200);
  assert.equal(s.hub.kick(12345), false);
});

test('Safari (WebKit) gets a lone frame twice (dual final frame); Chrome once', async (t) => {
  const s = await startTestServer(t, { source: new FileSource({ path: await stillFile(t), intervalMs: 50, log: () => {} }) });
  const safari = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';
  const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
  const [webkit, chromium] = await Promise.all([
    MjpegClient.open(s.url('/stream.mjpg'), { 'user-agent': safari }),
    MjpegClient.open(s.url('/stream.mjpg'), { 'user-agent': chrome }),
  ]);
  t.after(() => (webkit.close(), chromium.close()));
  await webkit.waitForParts(2, 2000);
  assert.deepEqual(webkit.parts[1].body, webkit.parts[0].body, 'the same frame again');
  assert.equal(chromium.parts.length, 1);
});

test("the page's files, pipelined behind a stream, leave no descriptor open when the viewer drops the connection", async (t) => {
  const s = await startTestServer(t);
  const openFiles = (): number => readdirSync('/proc/self/fd').length;
  const pageFiles = ['/viewer.js', '/viewer.css', '/viewer.js.map', '/index.html'];
  const before = openFiles();
  for (let i = 0; i < 10; i++) {
    const socket = connect(s.port, '127.0.0.1');
    await once(socket, 'connect');
    // A stream never ends by itself: the files' answers wait behind it until the viewer leaves.
    const queued = pageFiles.map((path) => `GET ${path}?key=${TEST_KEY} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    socket.write(`GET /stream.mjpg?key=${TEST_KEY} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n${queued.join('')}`);
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
  }
  await eventually(() => openFiles() <= before, `descriptors back to ${before} (now ${openFiles()})`, 3000);
  for (const path of ['/viewer.js', '/viewer.css']) assert.equal((await fetch(s.url(path))).status, 200, `${path} is served`);
  for (const path of ['/viewer.js.map', '/key.html']) assert.equal((await fetch(s.url(path))).status, 404, `${path}: only the page's script and style sheet are files to fetch`);
});
