import { randomBytes } from 'node:crypto';
import type { StreamCompat } from '../types.js';

// The bytes of a multipart/x-mixed-replace stream, in two layouts.
//
// advance (default): the stream opens with the first part's headers, and right after each JPEG
//   comes the boundary and the complete headers of the NEXT part. A browser displays a part once
//   it sees the next one begin, so this shows every frame the moment it arrives (DESIGN.md:
//   Chromium otherwise shows each frame one frame late). The cost: parts carry no Content-Length.
// plain: the classic layout, `--B`, headers with Content-Length, the JPEG; for clients that want
//   the length up front. Browsers show each frame one frame late with it.
// A stream PushCam ends on purpose ends with a last picture and the closing boundary, which
// Chromium, Firefox and WebKit all show at once (WebKit shows nothing if the stream ends on the
// headers of a part that never comes).

/** A fresh boundary: "pushcam" and 32 hex digits, too random to occur inside a JPEG. */
export function newBoundary(): string {
  return `pushcam${randomBytes(16).toString('hex')}`;
}

export function streamContentType(boundary: string): string {
  return `multipart/x-mixed-replace;boundary=${boundary}`;
}

/** What to write when a stream opens, and around each frame, for one layout. */
export interface PartLayout {
  opening: Buffer;
  before(jpeg: Buffer): Buffer | null;
  after: Buffer;
  /** After the last JPEG of a stream that ends. */
  closing: Buffer;
}

export function partLayout(boundary: string, compat: StreamCompat): PartLayout {
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`);
  if (compat === 'plain') {
    return {
      opening: Buffer.alloc(0),
      before: (jpeg) => Buffer.from(`--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n`),
      after: Buffer.from('\r\n'),
      closing,
    };
  }
  const partHeaders = Buffer.from(`--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`);
  return {
    opening: partHeaders,
    before: () => null,
    after: Buffer.concat([Buffer.from('\r\n'), partHeaders]),
    closing,
  };
}
