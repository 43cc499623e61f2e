import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import sharp from 'sharp';
import type { Rgb } from './chromium.js';

// One-colour pictures in files, for tests of what a viewer sees when a file source changes.

export const RED: Rgb = [220, 20, 20];
export const BLUE: Rgb = [20, 40, 220];
export const GREEN: Rgb = [20, 200, 40];

export function solidJpeg([r, g, b]: Rgb): Promise<Buffer> {
  return sharp({ create: { width: 320, height: 240, channels: 3, background: { r, g, b } } }).jpeg().toBuffer();
}

/** A picture file in a fresh folder, removed when the test ends. */
export async function pictureFile(t: TestContext, color: Rgb): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pushcam-picture-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'cam.jpg');
  await writeFile(path, await solidJpeg(color));
  return path;
}

/**
 * Replaces the picture as a careful writer does (written beside it and renamed over it, so the
 * source never sees half a file); resolves with performance.now() at the rename.
 */
export async function replacePicture(path: string, color: Rgb): Promise<number> {
  await writeFile(`${path}.tmp`, await solidJpeg(color));
  const at = performance.now();
  await rename(`${path}.tmp`, path);
  return at;
}
