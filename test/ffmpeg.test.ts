import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { PatternSource } from '../server/source/pattern.js';
import { startTestServer } from './helpers/server.js';
import { tempDir } from './helpers/fixtures.js';

const run = promisify(execFile);

/** ffmpeg's mpjpeg demuxer (with its strictest boundary check) decodes `count` frames of `url`. */
async function ffmpegFrames(url: string, count: number): Promise<string[]> {
  const { stdout } = await run(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-strict_mime_boundary', '1', '-f', 'mpjpeg', '-i', url, '-frames:v', String(count), '-f', 'framemd5', '-'],
    { timeout: 20_000 },
  );
  return stdout.split('\n').filter((line) => line && !line.startsWith('#'));
}

for (const path of ['/stream.mjpg', '/stream.mjpg?compat=advance', '/stream.mjpg?compat=length', '/stream.mjpg?compat=plain', '/stream.mjpg?compat=dual', '/?action=stream']) {
  test(`ffmpeg decodes ${path}`, async (t) => {
    const s = await startTestServer(t, { source: new PatternSource({ width: 320, height: 240, intervalMs: 30 }) });
    const frames = await ffmpegFrames(s.url(path), 10);
    assert.equal(frames.length, 10);
    const hashes = new Set(frames.map((line) => line.split(',').pop()?.trim()));
    assert.ok(hashes.size >= 9, `frames differ (${hashes.size} distinct)`);
  });
}

test("the README's recording recipe gives a file as long as the time it recorded (ffmpeg's 25 fps guess made it 2.7 times too short)", async (t) => {
  const readme = await readFile(join(import.meta.dirname, '../README.md'), 'utf8');
  const recipe = /^# 60 s of the stream as an MP4 file\n(ffmpeg [^\n]+\\\n[^\n]+)$/m.exec(readme)?.[1];
  assert.ok(recipe, 'the MP4 recipe is in the README');
  const s = await startTestServer(t, { source: new PatternSource({ width: 320, height: 240, intervalMs: 100 }) });
  const dir = tempDir(t, 'ffmpeg');
  const args = recipe
    .replace('\\\n', ' ')
    .split(/\s+/)
    .slice(1)
    .map((arg) => arg.replace(/^"http:\/\/HOST:8080(\/[^"]*)\?key=K"$/, (_m, path: string) => s.url(path)))
    .map((arg) => (arg === '60' ? '3' : arg === 'recording.mp4' ? join(dir, 'recording.mp4') : arg));
  const started = performance.now();
  await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args], { timeout: 30_000 });
  const recordedS = (performance.now() - started) / 1000;
  const { stdout } = await run('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', join(dir, 'recording.mp4')]);
  const duration = Number(stdout.trim());
  t.diagnostic(`ffmpeg ran ${recordedS.toFixed(1)} s for a ${duration.toFixed(1)} s file`);
  assert.ok(duration > 2.5 && duration <= 3.1, `a 3 s recording, not ${duration} s`);
  assert.ok(recordedS < 6, `3 s of real time, not ${recordedS.toFixed(1)} s (10 fps read as 25 fps takes 7.5 s)`);
});
