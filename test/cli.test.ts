import './helpers/offline.js';
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import sharp from 'sharp';
import WebSocket from 'ws';
import { connectControl, type WsControlClient } from '../renderer/common/ws-client.js';
import { CHROMIUM_PATH } from './helpers/chromium.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { makeCertificates } from './helpers/tls.js';
import { busyPort, freePort, solidJpeg, tempDir } from './helpers/fixtures.js';

const BIN = join(import.meta.dirname, '../bin/pushcam.js');

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

/** `pushcam ...args` as a user runs it, with its own config folder. */
function pushcam(t: TestContext, args: string[], configDir?: string): Run {
  const dir = configDir ?? join(tmpdir(), `pushcam-cli-${process.pid}-${Math.random()}`);
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PUSHCAM_CONFIG_DIR: dir } });
  if (!configDir) t.after(() => rm(dir, { recursive: true, force: true }));
  const run: Run = { child, stdout: '', stderr: '', exit: new Promise((r) => child.on('exit', (code) => r(code))) };
  child.stdout!.on('data', (d) => (run.stdout += d));
  child.stderr!.on('data', (d) => (run.stderr += d));
  t.after(() => child.kill('SIGKILL'));
  return run;
}

async function until(run: Run, pattern: RegExp, timeoutMs = 8000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(run.stdout + run.stderr);
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${run.stdout}${run.stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const VIEWER_LINE = /Viewer: (http:\/\/127\.0\.0\.1:(\d+)\/\?key=([A-Za-z0-9_-]+))/;
const PANEL_LINE = /Control panel: (http:\/\/127\.0\.0\.1:(\d+)\/app\/#token=([A-Za-z0-9_-]{22}))/;

/** A config folder for one test, removed after it. */
async function configFolder(t: TestContext): Promise<string> {
  const dir = tempDir(t, 'config');
  return dir;
}

/** The panel's own client (renderer/common/ws-client.ts) on the control panel link a run printed. */
async function panelClient(t: TestContext, run: Run): Promise<WsControlClient> {
  const [, , port, token] = await until(run, PANEL_LINE);
  const client = await connectControl(`ws://127.0.0.1:${port}/control?token=${token}`, WebSocket as never);
  t.after(() => client.close());
  return client;
}

test('--help, help, and pushcam alone print the usage; --version the version', async (t) => {
  for (const args of [['--help'], ['help'], []]) {
    const help = pushcam(t, args);
    assert.equal(await help.exit, 0, args.join(' '));
    assert.match(help.stdout, /^Usage: pushcam serve/);
    assert.equal(help.stderr, '');
  }
  const help = pushcam(t, ['--help']);
  await help.exit;
  for (const option of ['--source', '--port', '--host', '--interval', '--size', '--quality', '--timestamp', '--text', '--mirror', '--rotate', '--key', '--no-auth', '--max-viewers', '--send-timeout', '--max-per-address', '--allow-host', '--name', '--ui', '--browser', '--fake-camera']) {
    assert.ok(help.stdout.includes(option), option);
  }
  const version = pushcam(t, ['--version']);
  assert.equal(await version.exit, 0);
  assert.match(version.stdout, /^pushcam \d+\.\d+\.\d+\n$/);
});

const BAD = [
  [['serve', '--port', 'abc'], /--port must be a whole number from 0 to 65535/],
  [['serve', '--port', '70000'], /--port must be/],
  [['serve', '--bogus'], /unknown option --bogus/],
  [['serve', '--port'], /option --port needs a value/],
  [['serve', '--source', 'webcam'], /--source must be pattern, file:PATH, dir:PATH or camera\[:NAME\]/],
  [['serve', '--fake-camera'], /--fake-camera goes with --source camera/],
  [['serve', '--size', '10x10'], /--size must be WIDTHxHEIGHT/],
  [['serve', '--size', 'big'], /--size must be/],
  [['serve', '--rotate', '45'], /--rotate must be 90, 180 or 270/],
  [['serve', '--quality', '0'], /--quality must be a whole number from 1 to 100/],
  [['serve', '--interval', '5'], /--interval must be/],
  [['serve', '--max-viewers', '0'], /--max-viewers must be/],
  [['serve', '--max-clients', '0'], /--max-clients must be/],
  [['serve', '--send-timeout', '0'], /--send-timeout must be a whole number from 1 to 3600/],
  [['serve', '--max-per-address', '0'], /--max-per-address must be a whole number from 1 to 10000/],
  [['serve', '--allow-host', 'http://cam.example.org'], /--allow-host takes a host name or an address/],
  [['serve', '--allow-host', 'cam.example.org:8080'], /--allow-host takes a host name or an address/],
  [['serve', '--allow-host', 'a,,b'], /--allow-host takes a host name or an address/],
  [['serve', '--key', 'short'], /--key must be 8 to 128/],
  [['serve', '--name', 'x'.repeat(61)], /--name must be text of at most 60 characters/],
  [['serve', '--key', 'abcdefghij', '--no-auth'], /contradict/],
  [['stream'], /unknown command "stream"/],
  [['serve', 'extra'], /unexpected argument "extra"/],
  [['serve', '--tls-cert', 'cert.pem'], /--tls-cert and --tls-key go together/],
  [['serve', '--tls-key', 'key.pem'], /--tls-cert and --tls-key go together/],
] as const;

for (const [args, message] of BAD) {
  test(`pushcam ${args.join(' ') || '(nothing)'}: exit 2 with one line`, async (t) => {
    const run = pushcam(t, [...args]);
    assert.equal(await run.exit, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, message);
    assert.match(run.stderr, /^pushcam: [^\n]+\n$/, 'exactly one line');
  });
}

test('a busy port: exit 1 naming the port and a free one to use, in the words the window uses', async (t) => {
  const port = await busyPort(t);
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', String(port)]);
  assert.equal(await run.exit, 1);
  assert.match(run.stderr, new RegExp(`^pushcam: Port ${port} is in use by another program\\. Try --port \\d+, which is free\\.\\n$`));
  assert.equal(run.stdout, '');
});

test('serve prints a start-up block, keeps the key, logs viewers, and stops on SIGINT', async (t) => {
  const config = await configFolder(t);
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--size', '320x240'], config);
  const [, url, port, key] = await until(run, VIEWER_LINE);
  await until(run, /Ctrl-C to stop\.\n/);
  assert.match(key, /^[A-Za-z0-9_-]{22}$/, '128 bits, base64url');
  assert.equal((await readFile(join(config, 'access-key'), 'utf8')).trim(), key);
  assert.deepEqual(run.stdout.split('\n'), [
    `PushCam ${JSON.parse(await readFile(join(import.meta.dirname, '../package.json'), 'utf8')).version} serves the test pattern, 320x240 at 10 fps.`,
    `Viewer: http://127.0.0.1:${port}/?key=${key}   (this computer)`,
    `Access key: in ${join(config, 'access-key')}`,
    'Ctrl-C to stop.',
    '',
  ]);
  assert.equal(run.stderr, '');

  const client = await MjpegClient.open(url.replace('/?', '/stream.mjpg?'), { 'user-agent': 'Lavf/60' });
  await client.waitForParts(2);
  await until(run, /Viewer joined: 127\.0\.0\.1 \(ffmpeg\), 1 watching/);
  const stoppedAt = Date.now();
  run.child.kill('SIGINT');
  assert.equal(await run.exit, 0);
  assert.ok(Date.now() - stoppedAt < 2000, 'exits within two seconds');
  await client.waitForEnd();

  const again = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0'], config);
  const [, , , sameKey] = await until(again, VIEWER_LINE);
  assert.equal(sameKey, key, 'the key is kept across runs');
  again.child.kill('SIGTERM');
  assert.equal(await again.exit, 0);
});

test('a damaged key file is set aside, a new key made, and the user told', async (t) => {
  const config = await configFolder(t);
  await writeFile(join(config, 'access-key'), 'garbage!\n');
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0'], config);
  const [, , , key] = await until(run, VIEWER_LINE);
  assert.match(run.stderr, /the saved access key was damaged; kept it as .*access-key\.bad-\d+ and made a new one/);
  const files = await readdir(config);
  const backup = files.find((f) => f.startsWith('access-key.bad-'))!;
  assert.equal(await readFile(join(config, backup), 'utf8'), 'garbage!\n', 'nothing lost');
  assert.equal((await readFile(join(config, 'access-key'), 'utf8')).trim(), key);
});

test('--no-auth warns and serves without a key; --key sets the key', async (t) => {
  const open = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--no-auth']);
  const [, url] = await until(open, /Viewer: (http:\/\/127\.0\.0\.1:\d+\/) /);
  await until(open, /WARNING: open access: anyone who can reach this port can watch, without a key/);
  assert.equal((await fetch(`${url}status.json`)).status, 200);

  const keyed = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--key', 'my-own-key-123']);
  const [, , port, key] = await until(keyed, VIEWER_LINE);
  assert.equal(key, 'my-own-key-123');
  assert.equal((await fetch(`http://127.0.0.1:${port}/status.json`)).status, 401);
});

/** The status of a GET sent with this Host header (fetch cannot set one). */
function statusWithHost(url: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { host }, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

test('--allow-host adds names viewers may use (repeated or a list); --max-per-address caps one address', async (t) => {
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--no-auth', '--allow-host', 'cam.example.org,Second.example', '--allow-host', 'third.example', '--max-per-address', '2']);
  const [, url] = await until(run, /Viewer: (http:\/\/127\.0\.0\.1:\d+\/) /);
  for (const host of ['cam.example.org', 'second.example:8080', 'third.example', '127.0.0.1']) assert.equal(await statusWithHost(`${url}status.json`, host), 200, host);
  assert.equal(await statusWithHost(`${url}status.json`, 'fourth.example'), 421);
  const { port } = new URL(url);
  const held = [0, 1].map(() => connect(Number(port), '127.0.0.1'));
  t.after(() => held.forEach((socket) => socket.destroy()));
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(statusWithHost(`${url}status.json`, '127.0.0.1'));
});

test('--name titles the viewer page', async (t) => {
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--no-auth', '--name', ' Back yard ']);
  const [, url] = await until(run, /Viewer: (http:\/\/127\.0\.0\.1:\d+\/)\s/);
  assert.match(await (await fetch(url)).text(), /<title>Back yard<\/title>/);
  assert.equal(((await (await fetch(`${url}status.json`)).json()) as { name: string }).name, 'Back yard');
});

test('listening on all interfaces prints the link for this computer, then one per LAN address', async (t) => {
  const run = pushcam(t, ['serve', '--port', '0']);
  await until(run, /Ctrl-C to stop/);
  const lines = run.stdout.split('\n').filter((line) => line.startsWith('Viewer: '));
  assert.match(lines[0], /^Viewer: http:\/\/127\.0\.0\.1:\d+\/\?key=[A-Za-z0-9_-]{22} {3}\(this computer\)$/);
  for (const line of lines.slice(1)) assert.match(line, /^Viewer: http:\/\/\d+\.\d+\.\d+\.\d+:\d+\/\?key=[A-Za-z0-9_-]{22} {3}\(network\)$/);
  const hosts = lines.map((l) => new URL(l.split(' ')[1]).host);
  assert.equal(new Set(hosts).size, hosts.length, 'one line per address');
});

test('a source that cannot work is said at start, in one line, exit 1 (it was found when the first viewer came)', async (t) => {
  const dir = await configFolder(t);
  const file = join(dir, 'cam.jpg');
  await writeFile(file, 'not yet');
  const cases: [string, RegExp][] = [
    [`dir:${join(dir, 'missing')}`, /^pushcam: --source dir:\S+: there is no folder \S+missing\n$/],
    [`file:${dir}`, /^pushcam: --source file:\S+: \S+ is a folder; for the newest image in it, use --source dir:\S+\n$/],
    [`dir:${file}`, /^pushcam: --source dir:\S+: \S+cam\.jpg is a file, not a folder; for one file, use --source file:\S+cam\.jpg\n$/],
    [`file:${join(dir, 'missing', 'cam.jpg')}`, /^pushcam: --source file:\S+: there is no folder \S+missing for the file to appear in\n$/],
  ];
  for (const [source, message] of cases) {
    const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--source', source]);
    assert.equal(await run.exit, 1, source);
    assert.match(run.stderr, message);
    assert.equal(run.stdout, '');
  }
});

test('--tls-cert and --tls-key: the start-up block gives https:// links, and they serve with that certificate', async (t) => {
  const certs = await makeCertificates(t);
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--tls-cert', certs.cert, '--tls-key', certs.key]);
  const [, url] = await until(run, /Viewer: (https:\/\/127\.0\.0\.1:\d+\/\?key=[A-Za-z0-9_-]+) {3}\(this computer\)\n/);
  const client = await MjpegClient.open(url.replace('/?', '/stream.mjpg?'), {}, certs.ca);
  t.after(() => client.close());
  await client.waitForParts(2);
  assert.doesNotMatch(run.stdout, /http:\/\//);
});

test('a certificate or key that cannot be used: one line naming the file, exit 1', async (t) => {
  const certs = await makeCertificates(t);
  const cases: [string[], RegExp][] = [
    [['--tls-cert', join(certs.dir, 'missing.pem'), '--tls-key', certs.key], /^pushcam: TLS certificate \S+missing\.pem: no such file\.\n$/],
    [['--tls-cert', certs.cert, '--tls-key', await certs.otherKey()], /^pushcam: TLS key \S+other\.key does not belong to the certificate \S+cert\.pem\.\n$/],
  ];
  for (const [args, message] of cases) {
    const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', ...args]);
    assert.equal(await run.exit, 1, args.join(' '));
    assert.match(run.stderr, message);
    assert.equal(run.stdout, '');
  }
});

test('--host with an address this computer does not have: one line saying so, exit 1', async (t) => {
  const run = pushcam(t, ['serve', '--host', '192.0.2.254', '--port', '0']);
  assert.equal(await run.exit, 1);
  assert.match(run.stderr, /^pushcam: --host 192\.0\.2\.254: this computer has no such address; it has [^\n]*127\.0\.0\.1[^\n]*\.\n$/);
});

test('expected events are one line, once, with no stack trace: a full server refusing viewers (a stack per viewer before)', async (t) => {
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--max-viewers', '1', '--size', '160x120']);
  const [, url] = await until(run, VIEWER_LINE);
  const first = await MjpegClient.open(url.replace('/?', '/stream.mjpg?'));
  t.after(() => first.close());
  for (let i = 0; i < 3; i++) assert.equal((await fetch(url.replace('/?', '/stream.mjpg?'))).status, 503);
  // A client's malformed requests are answered 400 and not logged at all.
  for (const query of ['stream.mjpg?fps=abc&', 'snapshot.jpg?after=x&', '?action=bogus&']) assert.equal((await fetch(url.replace('/?', `/${query}`))).status, 400, query);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(run.stderr, 'pushcam: refused /stream.mjpg: PushCam is at its limit of 1 viewers; try again later\n');
});

test('--source file: with a missing file serves a waiting picture and says so', async (t) => {
  const missing = join(tempDir(t, 'missing'), 'cam.jpg');
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--source', `file:${missing}`]);
  const [, , port, key] = await until(run, VIEWER_LINE);
  const snap = await fetch(`http://127.0.0.1:${port}/snapshot.jpg?key=${key}`);
  assert.equal(snap.status, 200);
  const status = (await (await fetch(`http://127.0.0.1:${port}/status.json?key=${key}`)).json()) as { source: { state: string; error: string } };
  assert.equal(status.source.state, 'waiting');
  // The path is for whoever runs PushCam; viewers are told in their words.
  assert.equal(status.source.error, 'Waiting for the picture');
  await until(run, /waiting for .*cam\.jpg/);
});

test('serve --source camera --fake-camera --ui: a headless Chromium captures, viewers get frames, the control panel URL is printed', async (t) => {
  const run = pushcam(t, ['serve', '--source', 'camera:fake', '--fake-camera', '--ui', '--host', '127.0.0.1', '--port', '0', '--size', '640x480', '--interval', '100'], await configFolder(t));
  const [, url] = await until(run, VIEWER_LINE, 30_000);
  const [, panel] = await until(run, PANEL_LINE);
  assert.match(run.stdout, /^PushCam \S+ serves the camera "fake_device_0", 640x480, at up to 10 fps\.\n/, 'camera:NAME finds the camera by part of its label');
  assert.equal((await fetch(panel)).status, 200);
  const client = await MjpegClient.open(url.replace('/?', '/stream.mjpg?'));
  const parts = await client.waitForParts(3, 30_000);
  const { width, height } = await sharp(parts[2].body).metadata();
  assert.deepEqual([width, height], [640, 480]);
  run.child.kill('SIGINT');
  assert.equal(await run.exit, 0);
});

test('serve --source camera with no camera: said at start with what to try, exit 1', async (t) => {
  const run = pushcam(t, ['serve', '--source', 'camera', '--browser', CHROMIUM_PATH, '--host', '127.0.0.1', '--port', '0']);
  assert.equal(await run.exit, 1);
  assert.equal(run.stderr, "pushcam: No camera found: plug one in, or try --fake-camera (Chromium's test camera) or --source pattern.\n");
  assert.equal(run.stdout, '');
});

test('serve --source camera with a browser that is not there: exit 1 naming it', async (t) => {
  const run = pushcam(t, ['serve', '--source', 'camera', '--browser', '/nonexistent/chrome', '--port', '0']);
  assert.equal(await run.exit, 1);
  assert.match(run.stderr, /^pushcam: --browser \/nonexistent\/chrome: [^\n]+\n$/);
});

test('--ui works with every source: the pattern, a file and a folder (camera only before)', async (t) => {
  const dir = await configFolder(t);
  await writeFile(join(dir, 'cam.jpg'), await solidJpeg('#204080', 64, 48));
  for (const [source, kind] of [['pattern', 'pattern'], [`file:${join(dir, 'cam.jpg')}`, 'file'], [`dir:${dir}`, 'dir']] as const) {
    const run = pushcam(t, ['serve', '--ui', '--source', source, '--host', '127.0.0.1', '--port', '0'], dir);
    const panel = await panelClient(t, run);
    const state = await panel.call('getState');
    assert.equal(state.source.kind, kind);
    assert.equal(state.broadcast.state, 'broadcasting');
    assert.equal(state.captureInWindow, false);
    const viewer = await MjpegClient.open(state.share.urls[0].replace('/?', '/stream.mjpg?'));
    t.after(() => viewer.close());
    await viewer.waitForParts(1, 15_000);
    run.child.kill('SIGINT');
    assert.equal(await run.exit, 0, source);
  }
});

test('--ui keeps the panel’s settings across runs; an option given on the command line wins for that run only', async (t) => {
  const dir = await configFolder(t);
  const first = pushcam(t, ['serve', '--ui', '--host', '127.0.0.1', '--port', '0', '--size', '320x240'], dir);
  const panel = await panelClient(t, first);
  assert.equal((await panel.call('getState')).settings.width, 320, 'the command line wins over the defaults');
  await panel.call('updateSettings', { quality: 42, text: 'Front door' });
  first.child.kill('SIGINT');
  assert.equal(await first.exit, 0);
  const saved = JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(saved.quality, 42);
  assert.equal(saved.width, 1280, '--size was for that run: not saved');

  const second = pushcam(t, ['serve', '--ui', '--host', '127.0.0.1', '--port', '0', '--quality', '70'], dir);
  const again = await panelClient(t, second);
  const state = await again.call('getState');
  assert.equal(state.settings.text, 'Front door', 'kept from the panel');
  assert.equal(state.settings.quality, 70, '--quality wins over the saved 42 for this run');
  assert.equal(state.settings.width, 1280);
  await again.call('updateSettings', { quality: 55 });
  assert.equal((JSON.parse(await readFile(join(dir, 'settings.json'), 'utf8')) as { quality: number }).quality, 55, 'a change in the panel wins, and is kept');

  const plain = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0'], dir);
  await until(plain, /Ctrl-C to stop/);
  assert.match(plain.stdout, /serves the test pattern, 1280x720 at 10 fps/);
  assert.doesNotMatch(plain.stdout, /Control panel/, 'plain serve is its command line alone');
});

test('--key K --ui: "New key" is refused in words (it overwrote the saved key that --key overrode, or failed with a raw ENOENT)', async (t) => {
  const dir = await configFolder(t);
  await writeFile(join(dir, 'access-key'), 'Saved_key_0123456789abc\n');
  const run = pushcam(t, ['serve', '--ui', '--key', 'my-own-key-123', '--host', '127.0.0.1', '--port', '0'], dir);
  const panel = await panelClient(t, run);
  const state = await panel.call('getState');
  assert.equal(state.share.canRenewKey, false);
  assert.equal(state.share.keyKept, 'set with --key for this run (not saved)');
  assert.match(run.stdout, /^Access key: set with --key for this run \(not saved\)$/m);
  await assert.rejects(panel.call('newKey'), { message: 'the key was set with --key for this run; to make a new one, start PushCam without --key' });
  assert.equal(await readFile(join(dir, 'access-key'), 'utf8'), 'Saved_key_0123456789abc\n', 'the saved key is untouched');
  assert.equal((await panel.call('getState')).share.key, 'my-own-key-123');

  // No config folder, and none can be made: the same words, no file error.
  const blocker = join(dir, 'a-file');
  await writeFile(blocker, '');
  const nowhere = pushcam(t, ['serve', '--ui', '--key', 'my-own-key-123', '--host', '127.0.0.1', '--port', '0'], join(blocker, 'pushcam'));
  await assert.rejects((await panelClient(t, nowhere)).call('newKey'), { message: /^the key was set with --key for this run/ });
});

test('a change in the panel that moves the links prints the new ones: port, key, stop and start', async (t) => {
  const run = pushcam(t, ['serve', '--ui', '--host', '127.0.0.1', '--port', '0'], await configFolder(t));
  const panel = await panelClient(t, run);
  const port = await freePort();
  await panel.call('updateSettings', { port });
  const [, moved] = await until(run, /New links \(changed in the control panel\):\nViewer: (http:\/\/127\.0\.0\.1:(\d+)\/\?key=\S+) {3}\(this computer\)\n/);
  assert.match(moved, new RegExp(`:${port}/`));
  const renewed = await panel.call('newKey');
  await until(run, new RegExp(`Viewer: http://127\\.0\\.0\\.1:${port}/\\?key=${renewed.share.key} `));
  await panel.call('stop');
  await until(run, /Broadcast stopped from the control panel; Start broadcasting there serves viewers again\.\n/);
  await panel.call('start');
  await until(run, new RegExp(`Broadcast stopped[^]*New links[^]*key=${renewed.share.key}`));
  assert.equal(run.stderr, '');
});

test('--max-clients, the former name of --max-viewers, still sets it; the name now wins when both are given', async () => {
  const { parseCommand } = await import('../server/cli/options.js');
  const maxViewers = (args: string[]): unknown => {
    const command = parseCommand(['serve', ...args]);
    return command.kind === 'serve' ? command.options.settings.maxViewers : command.kind;
  };
  assert.equal(maxViewers(['--max-clients', '5']), 5);
  assert.equal(maxViewers(['--max-clients', '5', '--max-viewers', '7']), 7);
  const { HELP } = await import('../server/cli/options.js');
  assert.ok(!HELP.includes('--max-clients'), '--help names only the name now');
});

test("the README's options table lists exactly the options of --help, in its order", async () => {
  const readme = await readFile(join(import.meta.dirname, '../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Options of `pushcam serve`'));
  const table = section.slice(0, section.indexOf('\n## '));
  const documented = [...table.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
  const { HELP } = await import('../server/cli/options.js');
  const offered = [...HELP.matchAll(/^ {2}(-\S+(?: \S+)*?)(?: {2,}|$)/gm)].map((m) => m[1]);
  assert.ok(offered.length > 10, offered.join(', '));
  assert.deepEqual(documented, offered);
});
