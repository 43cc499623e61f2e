import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { MjpegClient } from './helpers/mjpeg-client.js';

const BIN = join(import.meta.dirname, '../bin/pushcam.js');

interface Run {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  exit: Promise<number | null>;
}

/** `pushcam ...args` as a user runs it, with its own config folder. */
function pushcam(t: TestContext, args: string[], configDir?: string): Run {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, PUSHCAM_CONFIG_DIR: configDir ?? join(tmpdir(), `pushcam-cli-${process.pid}-${Math.random()}`) },
  });
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

test('--help and --version', async (t) => {
  const help = pushcam(t, ['--help']);
  assert.equal(await help.exit, 0);
  assert.match(help.stdout, /Usage: pushcam serve/);
  for (const option of ['--source', '--port', '--host', '--interval', '--size', '--quality', '--timestamp', '--text', '--mirror', '--rotate', '--key', '--no-auth', '--max-clients', '--send-timeout', '--name']) {
    assert.ok(help.stdout.includes(option), option);
  }
  const version = pushcam(t, ['--version']);
  assert.equal(await version.exit, 0);
  assert.match(version.stdout, /^pushcam \d+\.\d+\.\d+\n$/);
});

const BAD = [
  [[], /say what to do/],
  [['serve', '--port', 'abc'], /--port must be a whole number from 0 to 65535/],
  [['serve', '--port', '70000'], /--port must be/],
  [['serve', '--bogus'], /unknown option --bogus/],
  [['serve', '--port'], /option --port needs a value/],
  [['serve', '--source', 'webcam'], /--source must be pattern, file:PATH, dir:PATH or camera\[:NAME\]/],
  [['serve', '--ui'], /--ui goes with --source camera/],
  [['serve', '--size', '10x10'], /--size must be WIDTHxHEIGHT/],
  [['serve', '--size', 'big'], /--size must be/],
  [['serve', '--rotate', '45'], /--rotate must be 90, 180 or 270/],
  [['serve', '--quality', '0'], /--quality must be a whole number from 1 to 100/],
  [['serve', '--interval', '5'], /--interval must be/],
  [['serve', '--max-clients', '0'], /--max-clients must be/],
  [['serve', '--send-timeout', '0'], /--send-timeout must be a whole number from 1 to 3600/],
  [['serve', '--key', 'short'], /--key must be 8 to 128/],
  [['serve', '--name', 'x'.repeat(61)], /--name must be text of at most 60 characters/],
  [['serve', '--key', 'abcdefghij', '--no-auth'], /contradict/],
  [['stream'], /unknown command "stream"/],
  [['serve', 'extra'], /unexpected argument "extra"/],
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

test('a busy port: exit 1 naming the port and a free one to use', async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', String(port)]);
  assert.equal(await run.exit, 1);
  assert.match(run.stderr, new RegExp(`^pushcam: port ${port} is in use; try --port \\d+, which is free\\n$`));
});

test('serve prints the viewer URL with the key, keeps the key, logs viewers, and stops on SIGINT', async (t) => {
  const config = await mkdtemp(join(tmpdir(), 'pushcam-config-'));
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--size', '320x240'], config);
  const [, url, , key] = await until(run, VIEWER_LINE);
  assert.match(key, /^[A-Za-z0-9_-]{22}$/, '128 bits, base64url');
  assert.equal((await readFile(join(config, 'access-key'), 'utf8')).trim(), key);

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
  const config = await mkdtemp(join(tmpdir(), 'pushcam-config-'));
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
  const [, url] = await until(open, /Viewer: (http:\/\/127\.0\.0\.1:\d+\/)\n/);
  assert.match(open.stderr, /WARNING: --no-auth/);
  assert.equal((await fetch(`${url}status.json`)).status, 200);

  const keyed = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--key', 'my-own-key-123']);
  const [, , port, key] = await until(keyed, VIEWER_LINE);
  assert.equal(key, 'my-own-key-123');
  assert.equal((await fetch(`http://127.0.0.1:${port}/status.json`)).status, 401);
});

test('--name titles the viewer page', async (t) => {
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--no-auth', '--name', ' Back yard ']);
  const [, url] = await until(run, /Viewer: (http:\/\/127\.0\.0\.1:\d+\/)\n/);
  assert.match(await (await fetch(url)).text(), /<title>Back yard<\/title>/);
  assert.equal(((await (await fetch(`${url}status.json`)).json()) as { name: string }).name, 'Back yard');
});

test('listening on all interfaces prints one viewer line per LAN address', async (t) => {
  const run = pushcam(t, ['serve', '--port', '0']);
  await until(run, /Viewer: /);
  await new Promise((r) => setTimeout(r, 200));
  const lines = run.stdout.trim().split('\n');
  assert.ok(lines.length >= 1);
  for (const line of lines) assert.match(line, /^Viewer: http:\/\/\d+\.\d+\.\d+\.\d+:\d+\/\?key=[A-Za-z0-9_-]{22}$/);
  const hosts = lines.map((l) => new URL(l.slice('Viewer: '.length)).host);
  assert.equal(new Set(hosts).size, hosts.length, 'one line per address');
});

test('--source file: with a missing file serves a waiting picture and says so', async (t) => {
  const missing = join(await mkdtemp(join(tmpdir(), 'pushcam-missing-')), 'cam.jpg');
  const run = pushcam(t, ['serve', '--host', '127.0.0.1', '--port', '0', '--source', `file:${missing}`]);
  const [, , port, key] = await until(run, VIEWER_LINE);
  const snap = await fetch(`http://127.0.0.1:${port}/snapshot.jpg?key=${key}`);
  assert.equal(snap.status, 200);
  const status = (await (await fetch(`http://127.0.0.1:${port}/status.json?key=${key}`)).json()) as { source: { state: string; error: string } };
  assert.equal(status.source.state, 'waiting');
  assert.match(status.source.error, /waiting for .*cam\.jpg/);
});

test('serve --source camera --fake-camera --ui: a headless Chromium captures, viewers get frames, the control panel URL is printed', async (t) => {
  const run = pushcam(t, ['serve', '--source', 'camera', '--fake-camera', '--ui', '--host', '127.0.0.1', '--port', '0', '--size', '640x480', '--interval', '100']);
  const [, url] = await until(run, VIEWER_LINE, 20_000);
  const [, panel] = await until(run, /Control panel: (http:\/\/127\.0\.0\.1:\d+\/app\/#token=[A-Za-z0-9_-]{22})\n/);
  assert.equal((await fetch(panel)).status, 200);
  const client = await MjpegClient.open(url.replace('/?', '/stream.mjpg?'));
  const parts = await client.waitForParts(3, 30_000);
  const { width, height } = await sharp(parts[2].body).metadata();
  assert.deepEqual([width, height], [640, 480]);
  run.child.kill('SIGINT');
  assert.equal(await run.exit, 0);
});

test('serve --source camera with a browser that is not there: exit 1 naming it', async (t) => {
  const run = pushcam(t, ['serve', '--source', 'camera', '--browser', '/nonexistent/chrome', '--port', '0']);
  assert.equal(await run.exit, 1);
  assert.match(run.stderr, /^pushcam: --browser \/nonexistent\/chrome: [^\n]+\n$/);
});
