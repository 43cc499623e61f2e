import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Rgb } from './chromium.js';
import { solidJpeg, tempDir } from './fixtures.js';

// One-colour pictures in files, for tests of what a viewer sees when a file source changes.

export const RED: Rgb = [220, 20, 20];
export const BLUE: Rgb = [20, 40, 220];
export const GREEN: Rgb = [20, 200, 40];

/** A picture file in a fresh folder, removed when the test ends. */
export async function pictureFile(t: TestContext, color: Rgb): Promise<string> {
  const dir = tempDir(t, 'picture');
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
