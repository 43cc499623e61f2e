import { randomBytes } from 'node:crypto';
import type { StreamCompat } from '../types.js';

// The bytes of a multipart/x-mixed-replace stream, in three layouts.
//
// advance (default; also 'dual'): the stream opens with the first part's headers, and right after
//   each JPEG comes the boundary and the complete headers of the NEXT part. A browser displays a
//   part once it sees the next one begin, so this shows every frame the moment it arrives
//   (Chromium otherwise shows each frame one frame late). Parts carry no Content-Length.
// length (mjpg-streamer's): the boundary right after each JPEG, then the next part's headers with
//   its Content-Length. Prompt for parsers that scan for the boundary and for those that need the
//   length (npm mjpeg-consumer); browsers show each frame one frame late with it.
// plain: the classic layout, `--B`, headers with Content-Length, the JPEG. Late for both kinds.
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

/**
 * What to write when a stream opens, and for each frame, in one layout. A frame's part is one
 * buffer, built once and shared by every viewer of the layout, so a viewer's frame is one write.
 */
export class PartLayout {
  /** Each frame's part, for as long as its JPEG lives: viewers of the main picture and of each tier ask in turn. */
  private readonly parts = new WeakMap<Buffer, Buffer>();

  constructor(
    readonly opening: Buffer,
    /** What goes before a JPEG in its part. */
    private readonly head: (jpeg: Buffer) => Buffer[],
    /** What follows a JPEG while the stream goes on. */
    private readonly tail: Buffer,
    /** What follows the last JPEG of a stream that ends. */
    private readonly closing: Buffer,
  ) {}

  /** The bytes of one frame, built once for all the viewers that get it. */
  part(jpeg: Buffer): Buffer {
    let part = this.parts.get(jpeg);
    if (!part) this.parts.set(jpeg, (part = Buffer.concat([...this.head(jpeg), jpeg, this.tail])));
    return part;
  }

  /** The bytes of a stream's last part, ending with the closing boundary. */
  last(jpeg: Buffer): Buffer {
    return Buffer.concat([...this.head(jpeg), jpeg, this.closing]);
  }
}

export function partLayout(boundary: string, compat: StreamCompat): PartLayout {
  const type = 'Content-Type: image/jpeg\r\n';
  const length = (jpeg: Buffer): Buffer => Buffer.from(`${type}Content-Length: ${jpeg.length}\r\n\r\n`);
  const closing = Buffer.from(`\r\n--${boundary}--\r\n`);
  if (compat === 'plain') {
    const delimiter = Buffer.from(`--${boundary}\r\n`);
    return new PartLayout(Buffer.alloc(0), (jpeg) => [delimiter, length(jpeg)], Buffer.from('\r\n'), closing);
  }
  if (compat === 'length') {
    const delimiter = Buffer.from(`\r\n--${boundary}\r\n`);
    return new PartLayout(delimiter.subarray(2), (jpeg) => [length(jpeg)], delimiter, closing);
  }
  const partHeaders = Buffer.from(`--${boundary}\r\n${type}\r\n`);
  return new PartLayout(partHeaders, () => [], Buffer.concat([Buffer.from('\r\n'), partHeaders]), closing);
}
