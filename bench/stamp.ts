import { performance } from 'node:perf_hooks';

// Frame age at the viewer: each frame the servers send carries the time it was made in a JPEG
// comment (COM) segment, which decoders skip and PushCam passes through untouched; a viewer
// that reads it knows how late it is, which frame counts alone cannot tell (docs/benchmarks.md).

const MARKER = Buffer.from('pushcam-bench-t=');
const DIGITS = 17;
const STAMP_LENGTH = MARKER.length + DIGITS;
const COM = 0xfe;
const EOI = Buffer.from([0xff, 0xd9]);

/** Milliseconds since the epoch with a fraction, comparable between processes on one machine. */
function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A copy of `jpeg` with a comment segment holding the time now, right after its SOI marker. */
export function stampJpeg(jpeg: Buffer): Buffer {
  const payload = Buffer.concat([MARKER, Buffer.from(nowMs().toFixed(3).padStart(DIGITS, '0'))]);
  const header = Buffer.from([0xff, COM, 0, 0]);
  // The segment length counts its own two length bytes, not the marker.
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

/**
 * Counts the frames of a stream read in chunks by their JPEG end markers (entropy-coded data
 * never holds FF D9, and the bench's frames carry no thumbnails) and reads their stamps, also
 * those split between chunks; a frame's age is taken when its last byte has arrived.
 */
export class FrameReader {
  /** Whole frames read so far. */
  frames = 0;
  /** Age, ms, of each frame read since the last take(). */
  private ages: number[] = [];
  // The last STAMP_LENGTH - 1 bytes: the most of a stamp that a chunk can end with.
  private tail = Buffer.alloc(0);
  /** The stamp of the frame being read, until its end marker comes. */
  private sent: number | null = null;

  push(chunk: Buffer): void {
    const now = nowMs();
    if (this.tail.length > 0) {
      if (this.tail[this.tail.length - 1] === 0xff && chunk[0] === 0xd9) this.end(now);
      const seam = Buffer.concat([this.tail, chunk.subarray(0, STAMP_LENGTH)]);
      const at = seam.indexOf(MARKER);
      if (at !== -1 && at < this.tail.length && at + STAMP_LENGTH <= seam.length) this.read(seam, at);
    }
    // Stamps and end markers in the order they come; a stamp that runs past the chunk's end is
    // read from the seam with the next chunk, and so is an end marker split in two.
    let stamp = chunk.indexOf(MARKER);
    let eoi = chunk.indexOf(EOI);
    while (stamp !== -1 || eoi !== -1) {
      if (stamp !== -1 && (eoi === -1 || stamp < eoi)) {
        if (stamp + STAMP_LENGTH <= chunk.length) this.read(chunk, stamp);
        stamp = chunk.indexOf(MARKER, stamp + STAMP_LENGTH);
      } else {
        this.end(now);
        eoi = chunk.indexOf(EOI, eoi + EOI.length);
      }
    }
    const joined = chunk.length >= STAMP_LENGTH - 1 ? chunk : Buffer.concat([this.tail, chunk]);
    this.tail = Buffer.from(joined.subarray(Math.max(0, joined.length - (STAMP_LENGTH - 1))));
  }

  /** The ages read since the last call, and a fresh start. */
  take(): number[] {
    const ages = this.ages;
    this.ages = [];
    return ages;
  }

  private read(data: Buffer, at: number): void {
    const sent = Number(data.toString('latin1', at + MARKER.length, at + STAMP_LENGTH));
    if (Number.isFinite(sent)) this.sent = sent;
  }

  private end(now: number): void {
    this.frames++;
    if (this.sent !== null) this.ages.push(now - this.sent);
    this.sent = null;
  }
}
