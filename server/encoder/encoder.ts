import sharp from 'sharp';
import { DEFAULT_ENCODE } from '../../shared/settings-table.js';
import type { RawImage, SourceImage } from '../types.js';
import type { EncodeSettings } from '../../shared/settings-table.js';
import { drawLabel, labelSizeFor, renderLabel } from './text.js';
import { inverse, isTurned, type Turn, turned, turnedLabel, turnedSize, turnPoint } from './turn.js';

// libvips caches operations for reuse; on a live stream no two frames are alike, so the cache
// only holds memory (measured: RSS 80 -> 161 MB when every camera frame is decoded and re-encoded).
sharp.cache(false);

export interface EncodedImage {
  jpeg: Buffer;
  width: number;
  height: number;
  /** What the JPEG was encoded from, when it was (tiers resize these: server/encoder/tiers.ts). */
  pixels?: RawImage;
}

/**
 * Turns what a source made into the JPEG viewers get, in one libvips pass where it can: the
 * overlays are drawn into the source's pixels where orientation will carry them (turned back,
 * so text is never mirrored), then orientation and the JPEG encode run as one sharp call. A
 * JPEG from a file that needs none of that is passed through untouched.
 */
export class Encoder {
  settings: EncodeSettings;
  /** Encodes done (pass-throughs are not encodes) and the time they took. */
  frames = 0;
  totalMs = 0;

  constructor(settings: Partial<EncodeSettings> = {}) {
    this.settings = { ...DEFAULT_ENCODE, ...settings };
  }

  get avgMs(): number {
    return this.frames === 0 ? 0 : this.totalMs / this.frames;
  }

  async encode(input: SourceImage): Promise<EncodedImage> {
    const s = this.settings;
    if (input.kind === 'jpeg' && !needsPixels(s)) return { jpeg: input.data, width: input.width, height: input.height };
    const started = performance.now();
    const source = s.timestamp || s.text !== '' ? await withOverlays(input, s) : input;
    // A JPEG is decoded in the same pass, with no EXIF auto-rotation (sharp's default).
    let pipeline = source.kind === 'raw' ? sharp(source.image.data, { raw: source.image }) : sharp(source.data);
    // Four channels are the camera's RGBA (VideoFrame.copyTo), always opaque. Dropping the alpha
    // band costs ~2 ms less a 720p frame than letting the JPEG writer flatten it; same pixels.
    if (source.kind === 'raw' && source.image.channels === 4) pipeline = pipeline.removeAlpha();
    const { data, info } = await turned(pipeline, s)
      // Huffman optimisation costs ~30 % more time for ~5 % fewer bytes: not worth it live.
      .jpeg({ quality: s.quality, optimiseCoding: false })
      .toBuffer({ resolveWithObject: true });
    this.frames++;
    this.totalMs += performance.now() - started;
    // Tiers resize these pixels when they are the picture as sent; turned ones are not (the turn is in the encode).
    const pixels = source.kind === 'raw' && !isTurned(s) ? source.image : undefined;
    return { jpeg: data, width: info.width, height: info.height, pixels };
  }
}

/** Whether frames must be drawn on or turned; if not, a JPEG is passed through as it is. */
export function needsPixels(s: EncodeSettings): boolean {
  return s.mirror || s.rotate !== 0 || s.timestamp || s.text !== '';
}

async function decode(data: Buffer): Promise<RawImage> {
  const { data: pixels, info } = await sharp(data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data: pixels };
}

/**
 * The source's pixels with the labels drawn where mirror-then-rotate carries them to their spot
 * on the output frame (timestamp top left, text bottom left), each label turned back first so
 * that it reads upright and unmirrored in the end. Raw pixels are drawn on in place.
 */
async function withOverlays(input: SourceImage, s: EncodeSettings): Promise<SourceImage> {
  const image = input.kind === 'raw' ? input.image : await decode(input.data);
  const turn: Turn = { mirror: s.mirror, rotate: s.rotate };
  const out = turnedSize(image, turn);
  const size = labelSizeFor(out);
  const margin = Math.round(size / 2);
  if (s.timestamp) await drawTurned(image, await renderLabel(formatTimestamp(new Date()), size), turn, margin, margin);
  if (s.text !== '') await drawTurned(image, await renderLabel(s.text, size), turn, margin, out.height - size - margin);
  return { kind: 'raw', image };
}

/** Draws `label` so that it lies at (x, y) of the output frame, upright, once `image` is turned by `t`. */
async function drawTurned(image: RawImage, label: RawImage, t: Turn, x: number, y: number): Promise<void> {
  if (!isTurned(t)) {
    drawLabel(image, label, x, y);
    return;
  }
  const back = inverse(t);
  const out = turnedSize(image, t);
  const [ax, ay] = turnPoint(x, y, out.width, out.height, back);
  const [bx, by] = turnPoint(x + label.width - 1, y + label.height - 1, out.width, out.height, back);
  drawLabel(image, await turnedLabel(label, back), Math.min(ax, bx), Math.min(ay, by));
}

/** Local date and time, `2026-11-24 14:03:07`: sorts, and reads the same everywhere. */
export function formatTimestamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
