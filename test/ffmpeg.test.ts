import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { PatternSource } from '../server/source/pattern.js';
import { startTestServer } from './helpers/server.js';

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
