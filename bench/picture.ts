import sharp from 'sharp';
import type { RawImage } from '../server/types.js';

// A camera-like test picture, the same pixels for every tool. A flat colour or a test card of
// flat bars compresses far better than a camera frame and flatters every encoder; pure noise is
// the opposite extreme. This mixes what a webcam sees: smooth lighting gradients, soft shapes at
// a few scales, some hard-edged objects, and fine sensor noise. Seeded, so every run is the same.

/** mulberry32: a tiny seeded generator; Math.random cannot be seeded. Also the fuzz's (test/fuzz). */
export function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random RGB at 1/`scale` of the size, blown up smoothly: blobs about `scale` pixels across. */
async function softNoise(width: number, height: number, scale: number, seed: number): Promise<Buffer> {
  const w = Math.max(2, Math.round(width / scale));
  const h = Math.max(2, Math.round(height / scale));
  const random = generator(seed);
  const small = Buffer.alloc(w * h * 3);
  for (let i = 0; i < small.length; i++) small[i] = Math.floor(random() * 256);
  return sharp(small, { raw: { width: w, height: h, channels: 3 } })
    .resize(width, height, { kernel: 'cubic', fit: 'fill' })
    .raw()
    .toBuffer();
}

type Box = { x: number; y: number; w: number; h: number; rgb: readonly [number, number, number] };

/** A few hard-edged "objects" (a window, a shelf, a mug): edges are what JPEG works hardest on. */
function boxesFor(width: number, height: number, seed: number): Box[] {
  const random = generator(seed ^ 0x5eed);
  return Array.from({ length: 6 }, () => ({
    x: Math.floor(random() * width * 0.8),
    y: Math.floor(random() * height * 0.8),
    w: Math.floor((0.05 + random() * 0.2) * width),
    h: Math.floor((0.05 + random() * 0.3) * height),
    rgb: [random() * 200, random() * 200, random() * 200] as const,
  }));
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/**
 * The test picture at `width`x`height`, 3 channels. `variant` moves the objects and changes the
 * noise, so a ring of variants gives a stream of different frames of a similar size.
 */
export async function testPicture(width: number, height: number, variant = 0): Promise<RawImage> {
  const [coarse, medium] = await Promise.all([
    softNoise(width, height, 48, 1 + variant),
    softNoise(width, height, 6, 101 + variant),
  ]);
  const boxes = boxesFor(width, height, 7 + variant);
  const grain = generator(1001 + variant);
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const box = boxes.find((b) => x >= b.x && x < b.x + b.w && y >= b.y && y < b.y + b.h);
      const light = [70 + (110 * x) / width, 60 + (90 * y) / height, 120 - (60 * x) / width];
      // Real scenes vary mostly in brightness: the fine detail and most of the grain are shared
      // by the three channels, only the large blobs carry colour.
      const detail = 0.3 * (medium[i] - 128) + (grain() - 0.5) * 10;
      for (let c = 0; c < 3; c++) {
        const base = box ? box.rgb[c] : light[c];
        data[i + c] = clamp(Math.round(base + detail + 0.4 * (coarse[i + c] - 128) + (grain() - 0.5) * 4));
      }
    }
  }
  return { width, height, channels: 3, data };
}
