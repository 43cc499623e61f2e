import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import sharp from 'sharp';
import type { Rgb } from './chromium.js';

// What many tests need and each once made its own: a folder, a picture, a port.

/**
 * A fresh folder in the temp dir, removed with all it holds when the test ends, so a run of the
 * suite leaves nothing behind. Synchronous, so it fits where a path is needed at once.
 */
export function tempDir(t: TestContext, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `pushcam-${name}-`));
  // after() hooks run in the order they were added, and this one is usually added before the
  // hook that closes what uses the folder: it adds the removal again, to run after those.
  t.after(() => t.after(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 })));
  return dir;
}

/** A one-colour JPEG, 320x240 unless told. */
export function solidJpeg(color: Rgb | string, width = 320, height = 240): Promise<Buffer> {
  const background = typeof color === 'string' ? color : { r: color[0], g: color[1], b: color[2] };
  return sharp({ create: { width, height, channels: 3, background } }).jpeg().toBuffer();
}

/** A loopback port something listens on until the test ends: for tests of a port in use. */
export async function busyPort(t: TestContext): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
