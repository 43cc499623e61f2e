import sharp from 'sharp';
import type { RawImage } from '../types.js';

// Text is drawn by rendering a small label once (Pango through sharp, so any Unicode text and
// the system's fonts) and blending it into the frame's pixels in place. Measured at 1280x720:
// compositing in sharp adds 4-6 ms to every encode; rendering a label costs 1.8 ms and the blend
// 0.2 ms, and labels that do not change (a text overlay, a clock between ticks) come from cache.

const CACHE_SIZE = 16;
const cache = new Map<string, Promise<RawImage>>();

function escapeMarkup(text: string): string {
  return text.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c] as string);
}

/**
 * A white-on-dark RGBA label of `text`, `size` pixels high. Cached, least recently used out, so
 * a text overlay used every frame stays while a clock's labels come and go; failures aren't kept.
 */
export function renderLabel(text: string, size: number): Promise<RawImage> {
  const key = `${size}\n${text}`;
  let label = cache.get(key);
  if (label) {
    cache.delete(key);
  } else {
    label = rasterize(text, size);
    label.catch(() => cache.delete(key));
  }
  cache.set(key, label);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return label;
}

const BACKDROP = { r: 0, g: 0, b: 0, alpha: 0.55 };

async function rasterize(text: string, size: number): Promise<RawImage> {
  const pad = Math.round(size * 0.25);
  const glyphs = text.trim()
    ? await sharp({
        text: {
          text: `<span foreground="white">${escapeMarkup(text)}</span>`,
          font: `sans ${Math.round(size * 0.62)}`,
          dpi: 72,
          rgba: true,
        },
      })
        .png()
        .toBuffer({ resolveWithObject: true })
    : null;
  const width = (glyphs?.info.width ?? 0) + pad * 2;
  const height = Math.max(size, glyphs?.info.height ?? 0);
  const overlay = glyphs
    ? [{ input: glyphs.data, left: pad, top: Math.round((height - glyphs.info.height) / 2) }]
    : [];
  const { data, info } = await sharp({ create: { width, height, channels: 4, background: BACKDROP } })
    .composite(overlay)
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 4, data };
}

/** Alpha-blends an RGBA `label` into `target` with its top-left corner at (x, y), clipped. */
export function drawLabel(target: RawImage, label: RawImage, x: number, y: number): void {
  const tc = target.channels;
  const x0 = Math.max(0, Math.round(x));
  const y0 = Math.max(0, Math.round(y));
  const x1 = Math.min(target.width, Math.round(x) + label.width);
  const y1 = Math.min(target.height, Math.round(y) + label.height);
  const dst = target.data;
  const src = label.data;
  for (let ty = y0; ty < y1; ty++) {
    let d = (ty * target.width + x0) * tc;
    let s = ((ty - Math.round(y)) * label.width + (x0 - Math.round(x))) * 4;
    for (let tx = x0; tx < x1; tx++, d += tc, s += 4) {
      const a = src[s + 3];
      if (a === 0) continue;
      const ia = 255 - a;
      dst[d] = (src[s] * a + dst[d] * ia + 127) / 255;
      dst[d + 1] = (src[s + 1] * a + dst[d + 1] * ia + 127) / 255;
      dst[d + 2] = (src[s + 2] * a + dst[d + 2] * ia + 127) / 255;
    }
  }
}

/** Label height that reads well on a frame of this size (about 1/24 of the shorter side). */
export function labelSizeFor(image: { width: number; height: number }): number {
  return Math.max(14, Math.round(Math.min(image.width, image.height) / 24));
}
