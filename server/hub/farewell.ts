import sharp from 'sharp';
import { type Farewell, FAREWELL_WORDS } from '../../shared/farewell.js';
import { PLACEHOLDER_SIZE, placeholderImage } from '../source/placeholder.js';


/** Pictures kept, by reason and size; a few sizes at most are ever in use. */
const MAX_CACHED = 16;
const cache = new Map<string, Promise<Buffer>>();

/** The last picture for `reason` as a JPEG, the size of the stream's frames so the layout does not jump. */
export function farewellJpeg(reason: Farewell, size: { width: number; height: number } | null): Promise<Buffer> {
  const { width, height } = size ?? PLACEHOLDER_SIZE;
  const key = `${reason} ${width}x${height}`;
  let jpeg = cache.get(key);
  if (!jpeg) {
    if (cache.size >= MAX_CACHED) cache.clear();
    jpeg = render(FAREWELL_WORDS[reason], width, height);
    cache.set(key, jpeg);
    jpeg.catch(() => cache.delete(key));
  }
  return jpeg;
}

async function render(lines: string[], width: number, height: number): Promise<Buffer> {
  const image = await placeholderImage(width, height, lines);
  return sharp(image.data, { raw: image }).jpeg({ quality: 80 }).toBuffer();
}
