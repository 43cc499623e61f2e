import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { test } from 'node:test';
import { connect as connectTls } from 'node:tls';
import { HEADERS_TIMEOUT_MS } from '../server/http/connections.js';
import { FREE_FAILURES } from '../server/http/key-failures.js';
import { PerAddress } from '../server/http/per-address.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually, startTestServer, TEST_KEY } from './helpers/server.js';
import { makeCertificates } from './helpers/tls.js';

// The viewer server against hostile clients, over real loopback sockets. Other loopback addresses
// (127.0.0.2, 127.0.0.3) stand for other hosts: Linux answers the whole 127/8 on lo.

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request from a given local address, without keep-alive. */
function ask(port: number, path: string, o: { from?: string; headers?: Record<string, string>; method?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', localAddress: o.from, headers: o.headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(3000, () => req.destroy(new Error(`no answer to ${path} in 3 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** A raw connection from `from`, sending `bytes` and nothing more; its answer and when it closed. */
function halfOpen(port: number, from: string, bytes: string): { socket: Socket; answer: () => string; closed: Promise<number> } {
  const opened = performance.now();
  const socket = connect({ port, host: '127.0.0.1', localAddress: from }, () => socket.write(bytes));
  let answer = '';
  socket.on('data', (d) => (answer += d.toString('latin1')));
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(performance.now() - opened)));
  return { socket, answer: () => answer, closed };
}

/** Sends raw bytes, returns the whole answer once the server closes. */
async function rawAnswer(port: number, bytes: string, from = '127.0.0.1'): Promise<string> {
  const c = halfOpen(port, from, bytes);
  await c.closed;
  return c.answer();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('one address cannot hold more than its share of connections; the rest are closed as they come', async (t) => {
  const s = await startTestServer(t);
  const open = Array.from({ length: 40 }, () => halfOpen(s.port, '127.0.0.2', ''));
  t.after(() => open.forEach((c) => c.socket.destroy()));
  const early = await Promise.race([Promise.all(open.slice(32).map((c) => c.closed)), sleep(2000).then(() => null)]);
  assert.ok(early, 'the 8 connections over the cap of 32 are closed at once');
  assert.ok(early.every((ms) => ms < 2000));
  assert.ok(open.slice(32).every((c) => c.answer() === ''), 'refused without a byte');
  assert.equal(open.filter((c) => !c.socket.destroyed && !c.socket.readableEnded).length, 32);
  // Another address is not affected; nor is this one once it has fewer open.
  assert.equal((await ask(s.port, '/healthz')).status, 200);
  open[0].socket.destroy();
  await sleep(100);
  assert.equal((await ask(s.port, '/healthz', { from: '127.0.0.2' })).status, 200);
});

test('--max-per-address sets the cap', async (t) => {
  const s = await startTestServer(t, { maxPerAddress: 2 });
  const open = [halfOpen(s.port, '127.0.0.2', ''), halfOpen(s.port, '127.0.0.2', '')];
  t.after(() => open.forEach((c) => c.socket.destroy()));
  await sleep(200);
  await assert.rejects(ask(s.port, '/healthz', { from: '127.0.0.2' }));
  assert.equal((await ask(s.port, '/healthz', { from: '127.0.0.3' })).status, 200);
});

test('a slowloris of 1,100 reconnecting half-open connections from one host locks nobody else out', async (t) => {
  const s = await startTestServer(t);
  let attacking = true;
  const sockets = new Set<Socket>();
  const attack = (): void => {
    if (!attacking) return;
    const c = halfOpen(s.port, '127.0.0.2', 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    sockets.add(c.socket);
    void c.closed.then(() => {
      sockets.delete(c.socket);
      setTimeout(attack, 100);
    });
  };
  for (let i = 0; i < 1100; i++) attack();
  t.after(() => {
    attacking = false;
    for (const socket of sockets) socket.destroy();
  });
  await sleep(1000);
  for (let round = 0; round < 3; round++) {
    assert.equal((await ask(s.port, '/healthz')).status, 200, 'healthz');
    assert.equal((await ask(s.port, `/snapshot.jpg?key=${TEST_KEY}`)).status, 200, 'snapshot');
    const viewer = await MjpegClient.open(s.url('/stream.mjpg'));
    await eventually(() => viewer.parts.length > 0, 'a frame for the new viewer', 1000);
    viewer.close();
    await sleep(300);
  }
});

test(`a connection that sends nothing, or a request's head too slowly, is closed after ${HEADERS_TIMEOUT_MS / 1000} s; streams and keep-alive are not`, async (t) => {
  const s = await startTestServer(t);
  const silent = halfOpen(s.port, '127.0.0.1', '');
  const slow = halfOpen(s.port, '127.0.0.1', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  t.after(() => (silent.socket.destroy(), slow.socket.destroy()));
  const viewer = await MjpegClient.open(s.url('/stream.mjpg'));
  t.after(() => viewer.close());
  // Two requests on one kept-alive connection, the second after Node's timeout check has run.
  const keptAlive = halfOpen(s.port, '127.0.0.1', 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  t.after(() => keptAlive.socket.destroy());
  await sleep(1500);
  keptAlive.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
  // Node checks every second: closed between 5 and 6 s, given a busy machine's slack.
  for (const c of [silent, slow]) {
    const ms = await c.closed;
    assert.ok(ms >= HEADERS_TIMEOUT_MS - 100 && ms < HEADERS_TIMEOUT_MS + 2500, `closed after ${Math.round(ms)} ms`);
    assert.match(c.answer(), /^HTTP\/1\.1 408 Request Timeout\r\n[\s\S]*Content-Security-Policy: /);
  }
  assert.equal(keptAlive.answer().match(/HTTP\/1\.1 200 OK/g)?.length, 2, 'both requests answered on one connection');
  const frames = viewer.parts.length;
  await eventually(() => viewer.parts.length > frames, 'the stream to go on');
});

test("the Host header must name this machine (DNS rebinding): others get 421 with a reason; /healthz answers any", async (t) => {
  const s = await startTestServer(t, { allowHosts: () => ['cam.example.org'] });
  const lan = Object.values(networkInterfaces()).flat().find((a) => a && !a.internal)?.address;
  const allowed = [
    `127.0.0.1:${s.port}`,
    '127.0.0.9',
    `localhost:${s.port}`,
    'LocalHost.',
    'pushcam.localhost',
    `[::1]:${s.port}`,
    hostname(),
    `${hostname()}.local:${s.port}`,
    'cam.example.org',
    'CAM.example.org:80',
    ...(lan ? [lan.includes(':') ? `[${lan}]` : lan] : []),
  ];
  for (const host of allowed) {
    assert.equal((await ask(s.port, `/status.json?key=${TEST_KEY}`, { headers: { host } })).status, 200, host);
  }
  for (const host of ['evil.example', 'localhost.evil.example', '127.0.0.1.nip.io', 'cam.example.org.evil.example', '10.99.99.99', '[::2]', 'a:b:c']) {
    const res = await ask(s.port, `/snapshot.jpg?key=${TEST_KEY}`, { headers: { host } });
    assert.equal(res.status, 421, host);
    assert.match((JSON.parse(res.body) as { error: string }).error, /^this PushCam does not answer to the name .*--allow-host/, host);
    assert.equal((await ask(s.port, '/healthz', { headers: { host } })).status, 200, `healthz for ${host}`);
  }
  assert.match(await rawAnswer(s.port, `GET /status.json?key=${TEST_KEY} HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 421 /);
  // Programs speaking HTTP/1.0 may send no Host; an HTTP/1.1 request must have one.
  assert.match(await rawAnswer(s.port, `GET /status.json?key=${TEST_KEY} HTTP/1.0\r\n\r\n`), /^HTTP\/1\.1 200/);
  assert.match(await rawAnswer(s.port, `GET /status.json?key=${TEST_KEY} HTTP/1.1\r\nConnection: close\r\n\r\n`), /^HTTP\/1\.1 400 [\s\S]*Host header/);
});

test('wrong keys are slowed down per address: 429 with Retry-After; the right key from elsewhere is unaffected', async (t) => {
  const s = await startTestServer(t);
  for (let i = 0; i < FREE_FAILURES; i++) {
    assert.equal((await ask(s.port, `/snapshot.jpg?key=guess-${i}`, { from: '127.0.0.2' })).status, 401, `guess ${i}`);
  }
  const limited = await ask(s.port, '/snapshot.jpg?key=guess-next', { from: '127.0.0.2' });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers['retry-after']) >= 1, 'Retry-After');
  assert.match((JSON.parse(limited.body) as { error: string }).error, /too many wrong keys/);
  // While slowed down its keys are not compared at all: the right one waits too.
  assert.equal((await ask(s.port, `/snapshot.jpg?key=${TEST_KEY}`, { from: '127.0.0.2' })).status, 429);
  const page = await ask(s.port, '/?key=guess', { from: '127.0.0.2', headers: { 'sec-fetch-mode': 'navigate' } });
  assert.equal(page.status, 429);
  assert.match(page.body, /Too many wrong access keys/);
  // Without a key nothing is guessed: the usual 401.
  assert.equal((await ask(s.port, '/snapshot.jpg', { from: '127.0.0.2' })).status, 401);
  assert.equal((await ask(s.port, `/snapshot.jpg?key=${TEST_KEY}`, { from: '127.0.0.1' })).status, 200);
  assert.equal((await ask(s.port, '/snapshot.jpg?key=guess', { from: '127.0.0.1' })).status, 401);
  // A page that retries with the same old cookie guesses nothing new, and is never slowed down.
  const cookie = `${`pushcam_key_${s.port}`}=an-old-key`;
  for (let i = 0; i < FREE_FAILURES * 2; i++) {
    assert.equal((await ask(s.port, '/status.json', { from: '127.0.0.3', headers: { cookie } })).status, 401);
  }
  assert.equal((await ask(s.port, `/status.json?key=${TEST_KEY}`, { from: '127.0.0.3', headers: { cookie } })).status, 200);
});

test('what is kept per address is bounded: the address touched longest ago goes first', () => {
  const kept = new PerAddress<number>(3);
  for (const [i, address] of ['a', 'b', 'c', 'd'].entries()) kept.set(address, i);
  kept.set('b', 9);
  kept.set('e', 5);
  assert.equal(kept.size, 3);
  assert.deepEqual(['a', 'b', 'c', 'd', 'e'].map((a) => kept.get(a)), [undefined, 9, undefined, 3, 5]);
});

test('every answer of the viewer server has the security headers, and the source map is not served', async (t) => {
  const s = await startTestServer(t);
  const key = `key=${TEST_KEY}`;
  const routes: [string, Record<string, string>?, string?][] = [
    ['/healthz'],
    [`/?${key}`],
    [`/index.html?${key}`],
    [`/?key=%20${TEST_KEY}`, { 'sec-fetch-mode': 'navigate' }],
    ['/', { 'sec-fetch-mode': 'navigate' }],
    ['/status.json'],
    [`/status.json?${key}`],
    [`/snapshot.jpg?${key}`],
    [`/stream.mjpg?${key}`, {}, 'HEAD'],
    [`/viewer.js?${key}`],
    [`/viewer.css?${key}`],
    [`/viewer.js.map?${key}`],
    [`/key.html?${key}`],
    [`/nothing?${key}`],
    [`/?${key}`, {}, 'POST'],
    [`/stream.mjpg?fps=0&${key}`],
    ['/%E0%A4%A', {}],
    [`/?${key}`, { host: 'evil.example' }],
    [`/?${key}`, { expect: 'bogus' }],
  ];
  for (const [path, headers, method] of routes) {
    const res = await ask(s.port, path, { headers, method });
    const what = `${method ?? 'GET'} ${path} ${JSON.stringify(headers ?? {})} (${res.status})`;
    assert.match(String(res.headers['content-security-policy']), /frame-ancestors '(self|none)'/, what);
    assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
    assert.equal(res.headers['referrer-policy'], 'no-referrer', what);
  }
  assert.equal((await ask(s.port, `/viewer.js.map?${key}`)).status, 404);
  assert.equal((await ask(s.port, `/key.html?${key}`)).status, 404);
  const page = await ask(s.port, `/index.html?${key}`);
  assert.equal(page.status, 200);
  assert.match(String(page.headers['content-security-policy']), /script-src 'self'/);
  // Node's own answers to what it cannot parse, written before express sees a request.
  for (const bytes of ['GARBAGE\r\n\r\n', `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20000)}\r\n\r\n`]) {
    const answer = await rawAnswer(s.port, bytes);
    assert.match(answer, /^HTTP\/1\.1 4(00|31) /, bytes.slice(0, 20));
    for (const header of ["Content-Security-Policy: default-src 'none'", 'X-Content-Type-Options: nosniff', 'Referrer-Policy: no-referrer']) {
      assert.ok(answer.includes(`\r\n${header}`), `${header} in ${answer.slice(0, 200)}`);
    }
  }
});

test("a client's malformed request is answered 400 and logged as the client's, once per address a minute", async (t) => {
  const s = await startTestServer(t);
  for (const from of ['127.0.0.2', '127.0.0.2', '127.0.0.2', '127.0.0.3', '127.0.0.2']) {
    assert.match(await rawAnswer(s.port, 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n', from), /^HTTP\/1\.1 400 Bad Request\r\n/);
  }
  const lines = s.logs.filter((line) => /malformed/.test(line));
  assert.deepEqual(
    lines.map((line) => /^client (\S+) sent a malformed request/.exec(line)?.[1]),
    ['127.0.0.2', '127.0.0.3'],
    lines.join('\n'),
  );
  assert.ok(!s.logs.some((line) => /failed|Error:/.test(line)), s.logs.join('\n'));
});

test('with HTTPS the same guards hold: the per-address cap on the TCP socket, a malformed request inside TLS answered 400 with the headers, a stalled handshake closed in 5 s', async (t) => {
  const certs = await makeCertificates(t);
  const s = await startTestServer(t, { tls: { cert: certs.cert, key: certs.key }, maxPerAddress: 2 });
  // Half a TLS handshake: the first byte of a ClientHello, then nothing.
  const stalled = halfOpen(s.port, '127.0.0.3', '\x16\x03\x01');
  t.after(() => stalled.socket.destroy());
  const open = [halfOpen(s.port, '127.0.0.2', ''), halfOpen(s.port, '127.0.0.2', '')];
  t.after(() => open.forEach((c) => c.socket.destroy()));
  await sleep(200);
  const third = halfOpen(s.port, '127.0.0.2', '');
  assert.ok((await third.closed) < 2000, 'the third connection from one address is closed at once');
  assert.equal(third.answer(), '');
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port: s.port, ca: certs.ca, servername: 'localhost' }, () => socket.write('GARBAGE\r\n\r\n'));
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Referrer-Policy: no-referrer\r\n/);
  assert.deepEqual(s.logs.filter((line) => /malformed/.test(line)).length, 1);
  const ms = await stalled.closed;
  assert.ok(ms >= HEADERS_TIMEOUT_MS - 100 && ms < HEADERS_TIMEOUT_MS + 2500, `a stalled TLS handshake closed after ${Math.round(ms)} ms`);
});

test('held status requests that end together build the viewer list once, not once each (a long-poll flood stalls no stream)', async (t) => {
  const s = await startTestServer(t);
  const viewer = await MjpegClient.open(s.url('/stream.mjpg'));
  t.after(() => viewer.close());
  await viewer.waitForParts(1);
  let builds = 0;
  const viewerList = s.hub.viewerList.bind(s.hub);
  s.hub.viewerList = () => (builds++, viewerList());
  const held = Array.from({ length: 40 }, (_, i) => ask(s.port, `/status.json?key=${TEST_KEY}&wait=300`, { from: `127.0.1.${i + 1}` }));
  await eventually(() => s.hub.demand >= 1, 'the requests to arrive');
  await new Promise((resolve) => setTimeout(resolve, 100));
  // A busy loop until every hold has run out, so that all 40 end in one turn, as under load.
  const until = performance.now() + 400;
  while (performance.now() < until);
  const answers = await Promise.all(held);
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  assert.ok(builds <= 3, `${builds} viewer lists built for 40 answers`);
});
