// Faults of the file: and dir: sources, in a real `pushcam serve`: the watched file truncated,
// made huge, replaced by a folder or a FIFO, the watched folder removed. Each must leave PushCam
// serving (health answered, the stream open, memory flat), tell viewers in a picture, and show
// the picture again once it is back; the figures go to the diagnostics.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import sharp from 'sharp';
import { near, type Rgb } from './helpers/chromium.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { BLUE, RED, replacePicture } from './helpers/pictures.js';
import { eventually } from './helpers/server.js';
import { tempDir } from './helpers/fixtures.js';

const BIN = join(import.meta.dirname, '../bin/pushcam.js');
const VIEWER_LINE = /Viewer: http:\/\/127\.0\.0\.1:(\d+)\/\?key=([A-Za-z0-9_-]+)/;
const INTERVAL_MS = 50;
/** The placeholder pictures are dark grey with light text. */
const PLACEHOLDER: Rgb = [40, 40, 40];

interface Served {
  pid: number;
  url(path: string): string;
  viewer: MjpegClient;
}

/** `pushcam serve` on `source`, with one viewer of its stream that has had its first part. */
async function serve(t: TestContext, source: string): Promise<Served> {
  const config = tempDir(t, 'faults-config');
  const child = spawn(process.execPath, [BIN, 'serve', '--host', '127.0.0.1', '--port', '0', '--interval', String(INTERVAL_MS), '--source', source], {
    env: { ...process.env, PUSHCAM_CONFIG_DIR: config },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  t.after(() => child.kill('SIGKILL'));
  await eventually(() => VIEWER_LINE.test(output) || child.exitCode !== null, 'the viewer link', 15_000);
  const [, port, key] = VIEWER_LINE.exec(output) ?? assert.fail(`no viewer link in:\n${output}`);
  const url = (path: string): string => `http://127.0.0.1:${port}${path}${path.includes('?') ? '&' : '?'}key=${key}`;
  const viewer = await MjpegClient.open(url('/stream.mjpg'));
  t.after(() => viewer.close());
  await viewer.waitForParts(1, 10_000);
  return { pid: child.pid ?? 0, url, viewer };
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) / 1024;
}

/** The mean colour of a JPEG. */
async function colourOf(jpeg: Buffer): Promise<Rgb> {
  const { data } = await sharp(jpeg).resize(1, 1).raw().toBuffer({ resolveWithObject: true });
  return [data[0], data[1], data[2]];
}

/** Milliseconds until the viewer's newest part has the colour `expected`. */
async function untilShown(s: Served, expected: Rgb, what: string, timeoutMs = 10_000): Promise<number> {
  const started = performance.now();
  let seen = -1;
  let shown = false;
  await eventually(
    async () => {
      const last = s.viewer.parts.length - 1;
      if (last > seen) {
        seen = last;
        shown = near(await colourOf(s.viewer.parts[last].body), expected);
      }
      return shown;
    },
    what,
    timeoutMs,
  );
  return performance.now() - started;
}

/** The source's state as viewers see it, and how long /healthz took to answer meanwhile. */
async function check(s: Served): Promise<{ source: { state: string; error?: string }; healthMs: number }> {
  const started = performance.now();
  const health = await fetch(s.url('/healthz'), { signal: AbortSignal.timeout(2000) });
  const healthMs = performance.now() - started;
  assert.equal(health.status, 200);
  const status = (await (await fetch(s.url('/status.json'))).json()) as { source: { state: string; error?: string } };
  return { source: status.source, healthMs };
}

/** A fault on a file source showing RED, and BLUE written back after it: what viewers see, and the figures. */
async function survives(t: TestContext, fault: (path: string) => Promise<void>, expect: { state: string; error: string; viewers: Rgb }): Promise<void> {
  const dir = tempDir(t, 'faults');
  const path = join(dir, 'cam.jpg');
  await replacePicture(path, RED);
  const s = await serve(t, `file:${path}`);
  await untilShown(s, RED, 'the first picture');
  const rssBefore = rssMb(s.pid);

  await fault(path);
  await eventually(async () => (await check(s)).source.error === expect.error, `"${expect.error}" in /status.json`);
  const shownIn = await untilShown(s, expect.viewers, 'what viewers see during the fault');
  // Several polls of the broken file.
  await new Promise((r) => setTimeout(r, 20 * INTERVAL_MS));
  const during = await check(s);
  assert.equal(during.source.state, expect.state);
  assert.ok(!JSON.stringify(during.source).includes(dir), 'a path reached viewers');
  const rssDuring = rssMb(s.pid);

  await rm(path, { recursive: true, force: true });
  const back = await replacePicture(path, BLUE);
  await untilShown(s, BLUE, 'the picture back');
  const recoveredMs = performance.now() - back;
  assert.equal(s.viewer.ended, false, 'the stream ended');
  assert.ok(rssDuring - rssBefore < 20, `RSS went from ${rssBefore.toFixed(0)} to ${rssDuring.toFixed(0)} MB`);
  t.diagnostic(
    `viewers saw the fault in ${shownIn.toFixed(0)} ms; /healthz in ${during.healthMs.toFixed(1)} ms; ` +
      `RSS ${rssBefore.toFixed(0)} -> ${rssDuring.toFixed(0)} MB; picture back ${recoveredMs.toFixed(0)} ms after the good file`,
  );
}

test('the watched file truncated: viewers keep the last picture', async (t) => {
  await survives(t, (path) => truncate(path, 100), { state: 'running', error: 'The newest picture is incomplete; showing the one before', viewers: RED });
});

test('the watched file made huge (2 GB, sparse): not read, viewers are told', async (t) => {
  await survives(t, (path) => truncate(path, 2 * 1024 ** 3), { state: 'error', error: 'The picture is too big to show', viewers: PLACEHOLDER });
});

test('the watched file replaced by a folder', async (t) => {
  await survives(
    t,
    async (path) => {
      await rm(path);
      await mkdir(path);
    },
    { state: 'error', error: 'The picture cannot be read', viewers: PLACEHOLDER },
  );
});

test('the watched file replaced by a FIFO nobody writes to', async (t) => {
  await survives(
    t,
    async (path) => {
      await rm(path);
      execFileSync('mkfifo', [path]);
    },
    { state: 'error', error: 'The picture cannot be read', viewers: PLACEHOLDER },
  );
});

test('the watched folder removed, and made again', async (t) => {
  const parent = tempDir(t, 'faults');
  const dir = join(parent, 'shots');
  await mkdir(dir);
  await replacePicture(join(dir, 'shot.jpg'), RED);
  const s = await serve(t, `dir:${dir}`);
  await untilShown(s, RED, 'the first picture');
  const rssBefore = rssMb(s.pid);
  await rm(dir, { recursive: true });
  const shownIn = await untilShown(s, PLACEHOLDER, 'the waiting picture');
  const during = await check(s);
  assert.deepEqual(during.source, { kind: 'dir', state: 'waiting', failures: 0, error: 'Waiting for the picture' });
  await mkdir(dir);
  const back = await replacePicture(join(dir, 'shot.jpg'), BLUE);
  await untilShown(s, BLUE, 'the picture back');
  const recoveredMs = performance.now() - back;
  assert.equal(s.viewer.ended, false, 'the stream ended');
  t.diagnostic(
    `viewers saw the wait in ${shownIn.toFixed(0)} ms; /healthz in ${during.healthMs.toFixed(1)} ms; ` +
      `RSS ${rssBefore.toFixed(0)} -> ${rssMb(s.pid).toFixed(0)} MB; picture back ${recoveredMs.toFixed(0)} ms after the good file`,
  );
});
