import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { get as getPlain, type IncomingHttpHeaders } from 'node:http';
import { get as getTls } from 'node:https';
import { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { UNSENT_LIMIT_BYTES } from '../server/hub/link.js';
import { TlsFileError } from '../server/http/listener.js';
import { socketFd, tcpUnavailable, unsentLimit } from '../server/net/tcp.js';
import { startPushCam } from '../server/pushcam.js';
import { PatternSource } from '../server/source/pattern.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually, startTestServer, TEST_KEY } from './helpers/server.js';
import { makeCertificates } from './helpers/tls.js';

const run = promisify(execFile);

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One GET; https:// is checked against `ca`. */
function fetchText(url: string, ca?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const done = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    };
    const req = url.startsWith('https:') ? getTls(url, { ca }, done) : getPlain(url, done);
    req.on('error', reject);
  });
}

/** The serial number of the certificate the server at `port` presents now. */
function servedSerial(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

test('with a certificate the viewer page, the stream and the snapshot are served over HTTPS, checked against the CA', async (t) => {
  const certs = await makeCertificates(t);
  const s = await startTestServer(t, { tls: { cert: certs.cert, key: certs.key } });
  assert.ok(s.secure);
  const page = await fetchText(s.url('/'), certs.ca);
  assert.equal(page.status, 200);
  assert.match(page.body, /<img/);
  // The cookie that keeps the key is Secure: the browser never sends it over plain HTTP.
  assert.match(String(page.headers['set-cookie']), /; Secure/);
  const client = await MjpegClient.open(s.url('/stream.mjpg'), {}, certs.ca);
  t.after(() => client.close());
  const parts = await client.waitForParts(3);
  assert.equal(parts[0].body.readUInt16BE(0), 0xffd8);
  assert.equal((await fetchText(s.bare('/healthz'), certs.ca)).body, 'ok');
  await assert.rejects(fetchText(s.url('/'), undefined), /self-signed|unable to verify|certificate/i, 'an unknown CA is refused by the client');
});

test('over plain HTTP the cookie is not Secure (a browser would drop it)', async (t) => {
  const s = await startTestServer(t);
  const page = await fetchText(s.url('/'));
  assert.doesNotMatch(String(page.headers['set-cookie']), /Secure/);
});

test('plain HTTP on the HTTPS port answers with a redirect to the same address over https', async (t) => {
  const certs = await makeCertificates(t);
  const s = await startTestServer(t, { tls: { cert: certs.cert, key: certs.key } });
  const plain = `http://127.0.0.1:${s.port}/stream.mjpg?key=${TEST_KEY}&fps=2`;
  const answer = await fetchText(plain);
  assert.equal(answer.status, 308);
  assert.equal(answer.headers.location, `https://127.0.0.1:${s.port}/stream.mjpg?key=${TEST_KEY}&fps=2`);
  // What the redirect points at works.
  const client = await MjpegClient.open(answer.headers.location!, {}, certs.ca);
  t.after(() => client.close());
  await client.waitForParts(1);
  // A Host that is no host name is not echoed into a Location.
  const socket = new Socket();
  t.after(() => socket.destroy());
  const raw = await new Promise<string>((resolve) => {
    let text = '';
    socket.connect(s.port, '127.0.0.1', () => socket.write('GET / HTTP/1.1\r\nHost: evil.example/x\r\n\r\n'));
    socket.on('data', (chunk) => (text += chunk.toString()));
    socket.on('close', () => resolve(text));
  });
  assert.match(raw, /^HTTP\/1\.1 400/);
  assert.doesNotMatch(raw, /Location/i);
});

test('a renewed certificate is served without a restart; a broken renewal keeps the one before and says so once', async (t) => {
  const certs = await makeCertificates(t);
  const s = await startTestServer(t, { tls: { cert: certs.cert, key: certs.key } });
  const first = await certs.serial();
  assert.equal(await servedSerial(s.port, certs.ca), first);
  const viewer = await MjpegClient.open(s.url('/stream.mjpg'), {}, certs.ca);
  t.after(() => viewer.close());
  await viewer.waitForParts(1);
  await certs.renew();
  const renewed = await certs.serial();
  assert.notEqual(renewed, first);
  await eventually(async () => (await servedSerial(s.port, certs.ca)) === renewed, 'the renewed certificate to be served', 10_000);
  assert.ok(s.logs.some((line) => line.includes('reloaded')), s.logs.join('\n'));
  // The viewer that was watching goes on: a reload is no restart.
  const before = viewer.parts.length;
  await viewer.waitForParts(before + 3);
  assert.equal(viewer.ended, false);

  await writeFile(certs.key, 'half a key');
  await eventually(() => s.logs.some((line) => line.includes('still serving the certificate loaded before')), 'the broken renewal to be said', 10_000);
  assert.equal(await servedSerial(s.port, certs.ca), renewed);
  assert.equal(s.logs.filter((line) => line.includes('still serving')).length, 1, s.logs.join('\n'));
});

test('a missing, unreadable, non-PEM or mismatched certificate or key: one line that names the file', async (t) => {
  const certs = await makeCertificates(t);
  const start = (cert: string, key: string): Promise<unknown> =>
    startPushCam({ source: new PatternSource({ width: 64, height: 48, intervalMs: 100 }), host: '127.0.0.1', port: 0, key: TEST_KEY, tls: { cert, key }, log: () => undefined });
  const cases: [string, string, RegExp][] = [
    [`${certs.dir}/nope.pem`, certs.key, /^TLS certificate .*nope\.pem: no such file$/],
    [certs.cert, certs.dir, /^TLS key .*: a folder, not a file$/],
    [certs.cert, `${certs.dir}/leaf.ext`, /^TLS key .*leaf\.ext: not a PEM file/],
    [certs.cert, await certs.otherKey(), /^TLS key .*other\.key does not belong to the certificate .*cert\.pem$/],
  ];
  if (process.getuid?.() !== 0) {
    // root reads any file, so an unreadable one can only be made for other users.
    await writeFile(`${certs.dir}/locked.pem`, '', { mode: 0o000 });
    cases.push([`${certs.dir}/locked.pem`, certs.key, /not readable by PushCam$/]);
  }
  for (const [cert, key, message] of cases) {
    await assert.rejects(start(cert, key), (err: Error) => err instanceof TlsFileError && message.test(err.message) && !err.message.includes('\n'), `${cert} ${key}`);
  }
});

const tcpSkip = tcpUnavailable() ? { skip: `no TCP socket options here: ${tcpUnavailable()}` } : {};

test("over TLS each viewer's socket still keeps at most UNSENT_LIMIT_BYTES unsent", tcpSkip, async (t) => {
  const certs = await makeCertificates(t);
  const s = await startTestServer(t, { tls: { cert: certs.cert, key: certs.key } });
  const client = await MjpegClient.open(s.url('/stream.mjpg'), {}, certs.ca);
  t.after(() => client.close());
  await client.waitForParts(1);
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const localPort = client.response.socket.localPort;
  const server = handles.find((h): h is Socket => h instanceof Socket && h.remotePort === localPort && h.remoteAddress === '127.0.0.1');
  assert.ok(server, 'the server end of the viewer connection');
  const fd = socketFd(server);
  assert.ok(fd !== null);
  assert.equal(unsentLimit(fd), UNSENT_LIMIT_BYTES);
});

test('ffmpeg reads the stream over HTTPS, checking the certificate against the CA', async (t) => {
  const certs = await makeCertificates(t);
  const s = await startTestServer(t, { source: new PatternSource({ width: 320, height: 240, intervalMs: 30 }), tls: { cert: certs.cert, key: certs.key } });
  const url = s.url('/stream.mjpg').replace('127.0.0.1', 'localhost');
  const { stdout } = await run(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-tls_verify', '1', '-ca_file', certs.caFile, '-f', 'mpjpeg', '-i', url, '-frames:v', '5', '-f', 'framemd5', '-'],
    { timeout: 20_000 },
  );
  assert.equal(stdout.split('\n').filter((line) => line && !line.startsWith('#')).length, 5);
});
