import { writeFile } from 'node:fs/promises';
import type { RawImage } from '../server/types.js';
import { testPicture } from './picture.js';

// A camera-like video for Chromium's fake camera (`--use-file-for-fake-video-capture`): its own
// picture is flat colours and a clock, whose 720p JPEG is a tenth of a real camera's, which
// flatters every JPEG figure. This plays bench/picture.ts's test picture (gradients, texture,
// edges, grain), a few variants in a loop, as the encode table measures it.

/** RGB to the Y4M's 4:2:0 planes (BT.601, video range), chroma averaged over each 2x2 block. */
function toI420({ width, height, data }: RawImage): Buffer {
  const cw = width >> 1;
  const ch = height >> 1;
  const out = Buffer.alloc(width * height + 2 * cw * ch);
  const u = width * height;
  const v = u + cw * ch;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      out[y * width + x] = Math.round(16 + (65.481 * data[i] + 128.553 * data[i + 1] + 24.966 * data[i + 2]) / 255);
    }
  }
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const i = ((2 * y + dy) * width + 2 * x + dx) * 3;
        r += data[i] / 4;
        g += data[i + 1] / 4;
        b += data[i + 2] / 4;
      }
      out[u + y * cw + x] = Math.round(128 + (-37.797 * r - 74.203 * g + 112 * b) / 255);
      out[v + y * cw + x] = Math.round(128 + (112 * r - 93.786 * g - 18.214 * b) / 255);
    }
  }
  return out;
}

/** Writes `frames` variants of the test picture as a Y4M video at `fps`, which Chromium loops. */
export async function writeCameraLikeY4m(path: string, width: number, height: number, fps: number, frames: number): Promise<void> {
  const parts: Buffer[] = [Buffer.from(`YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`)];
  for (let variant = 0; variant < frames; variant++) {
    parts.push(Buffer.from('FRAME\n'), toI420(await testPicture(width, height, variant)));
  }
  await writeFile(path, Buffer.concat(parts));
}
