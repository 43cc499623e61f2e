import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { get } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { promisify } from 'node:util';
import MjpegConsumer from 'mjpeg-consumer';
import sharp from 'sharp';
import { PatternSource } from '../server/source/pattern.js';
import { startTestServer, TEST_KEY } from './helpers/server.js';

// Which multipart layout each kind of client gets by default, and that every real client in
// the tests has each frame as soon as it has arrived, not when the next one starts.

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

/** The first bytes of the stream for a request with these header lines (raw, so "no User-Agent" really is none). */
async function streamStart(port: number, headerLines: string[]): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.write([`GET /stream.mjpg?key=${TEST_KEY} HTTP/1.1`, 'Host: 127.0.0.1', ...headerLines, '', ''].join('\r\n'));
  let data = '';
  for await (const chunk of socket) {
    data += (chunk as Buffer).toString('latin1');
    const body = data.indexOf('\r\n\r\n');
    if (body !== -1 && data.length > body + 200) break;
  }
  socket.destroy();
  return data.slice(data.indexOf('\r\n\r\n') + 4);
}

test('no User-Agent at all, or libavformat: the length layout; anything else that names itself: advance headers', async (t) => {
  const s = await startTestServer(t);
  const length = /^--pushcam\w+\r\nContent-Type: image\/jpeg\r\nContent-Length: \d+\r\n\r\n\xff\xd8/;
  const advance = /^--pushcam\w+\r\nContent-Type: image\/jpeg\r\n\r\n\xff\xd8/;
  assert.match(await streamStart(s.port, []), length);
  assert.match(await streamStart(s.port, ['User-Agent: Lavf/61.7.100']), length);
  assert.match(await streamStart(s.port, ['User-Agent: HomeAssistant/2025.1 aiohttp/3.11 Python/3.13']), advance);
  assert.match(await streamStart(s.port, ['User-Agent: VLC/3.0.21 LibVLC/3.0.21']), advance);
  assert.match(await streamStart(s.port, ['User-Agent: ']), advance, 'an empty User-Agent still names itself');
});

/** Frames mjpeg-consumer (which needs Content-Length) parses from `url`, fetched as Node's http.get does: no User-Agent. */
function consume(url: string, count: number, timeoutMs: number): Promise<{ frames: Buffer[]; firstAfterMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const frames: Buffer[] = [];
    let firstAfterMs = Number.NaN;
    const req = get(url, (res) => {
      res.pipe(new MjpegConsumer()).on('data', (jpeg: Buffer) => {
        if (frames.length === 0) firstAfterMs = performance.now() - started;
        frames.push(jpeg);
        if (frames.length === count) {
          clearTimeout(timer);
          req.destroy();
          resolve({ frames, firstAfterMs });
        }
      });
    });
    req.on('error', () => {});
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`mjpeg-consumer got ${frames.length} of ${count} frames in ${timeoutMs} ms`));
    }, timeoutMs);
  });
}

test('mjpeg-consumer (a parser that needs Content-Length) gets every frame whole', async (t) => {
  const s = await startTestServer(t, { source: new PatternSource({ width: 160, height: 120, intervalMs: 40 }) });
  const { frames } = await consume(s.url('/stream.mjpg'), 10, 5000);
  for (const jpeg of frames) {
    const meta = await sharp(jpeg).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 160, 120]);
  }
  assert.notDeepEqual(frames[0], frames[9], 'the picture moves');
});

// A frame every 3 s: a client that holds a frame until the next one starts has its first frame
// about 3 s after connecting; a prompt one has it at once.
const SLOW_SOURCE = { width: 160, height: 120, intervalMs: 3000 };
const PROMPT_MS = 1500;

test('every program has each frame as it arrives: mjpeg-consumer, ffmpeg, OpenCV', async (t) => {
  const s = await startTestServer(t, { source: new PatternSource(SLOW_SOURCE) });
  // Wait for a fresh frame, so each client connects early in an interval.
  const firstFrame = async (what: string, got: () => Promise<number>): Promise<void> => {
    await s.hub.waitForFrame(s.hub.latest?.seq ?? 0, 5000);
    const ms = await got();
    assert.ok(ms < PROMPT_MS, `${what}: first frame after ${Math.round(ms)} ms`);
  };
  await firstFrame('mjpeg-consumer', async () => (await consume(s.url('/stream.mjpg'), 1, 8000)).firstAfterMs);
  await firstFrame('ffmpeg', async () => {
    const started = performance.now();
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', s.url('/stream.mjpg'), '-frames:v', '1', '-f', 'null', '-'], { timeout: 10_000 });
    return performance.now() - started;
  });
  if (!existsSync(PYTHON)) return t.diagnostic('no /usr/bin/python3: OpenCV not checked');
  await firstFrame('OpenCV', async () => {
    const script = 'import sys, time, cv2\nt = time.time()\nok, frame = cv2.VideoCapture(sys.argv[1], cv2.CAP_FFMPEG).read()\nassert ok and frame.shape == (120, 160, 3), frame\nprint(time.time() - t)';
    const { stdout } = await run(PYTHON, ['-c', script, s.url('/stream.mjpg')], { timeout: 10_000 });
    return Number(stdout) * 1000;
  });
});
