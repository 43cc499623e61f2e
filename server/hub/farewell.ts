import sharp from 'sharp';
import { PLACEHOLDER_SIZE, placeholderImage } from '../source/placeholder.js';

/** Why PushCam ends a viewer's stream (or long-poll) on purpose. */
export type Farewell = 'kicked' | 'stopped' | 'restarting' | 'moved' | 'new-key' | 'expired';

/** What the last picture says: every client shows it, a browser, VLC or a dashboard alike. */
const WORDS: Record<Farewell, string[]> = {
  kicked: ['The broadcaster disconnected you'],
  stopped: ['The broadcast has stopped'],
  restarting: ['PushCam is restarting', 'The picture is back in a moment'],
  moved: ['PushCam moved to another address', 'Ask the broadcaster for the new link'],
  'new-key': ['The access key has changed', 'Ask the broadcaster for the new link'],
  expired: ['This guest link has expired', 'Ask the broadcaster for a new link'],
};

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
    jpeg = render(WORDS[reason], width, height);
    cache.set(key, jpeg);
    jpeg.catch(() => cache.delete(key));
  }
  return jpeg;
}

async function render(lines: string[], width: number, height: number): Promise<Buffer> {
  const image = await placeholderImage(width, height, lines);
  return sharp(image.data, { raw: image }).jpeg({ quality: 80 }).toBuffer();
}
