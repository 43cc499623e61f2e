// What we need to know about a JPEG without decoding it: whether it was written completely, and
// its size (from the frame header), read from the marker segments.

const MARKER = 0xff;
const SOI = 0xd8;
const EOI = 0xd9;
export const SOS = 0xda;
const TEM = 0x01;
const RST0 = 0xd0;
const RST7 = 0xd7;
const SOF0 = 0xc0;
const SOF15 = 0xcf;
// In the SOF range but not frame headers: Huffman tables, the reserved JPG marker, arithmetic
// coding conditioning.
const DHT = 0xc4;
const JPG = 0xc8;
const DAC = 0xcc;

/**
 * True when `buf` starts with the start-of-image marker and ends with the end-of-image marker:
 * a writer that is still writing the file has not written FFD9 yet.
 */
export function isCompleteJpeg(buf: Uint8Array): boolean {
  const n = buf.length;
  return (
    n >= 4 && buf[0] === MARKER && buf[1] === SOI && buf[n - 2] === MARKER && buf[n - 1] === EOI
  );
}

function isFrameHeader(marker: number): boolean {
  return marker >= SOF0 && marker <= SOF15 && marker !== DHT && marker !== JPG && marker !== DAC;
}

/** Markers that stand alone, without a length and payload after them. */
function isStandalone(marker: number): boolean {
  return marker === TEM || (marker >= RST0 && marker <= RST7);
}

/** One marker segment of a JPEG's headers: FF, the marker, and for most a length and a payload. */
export interface Segment {
  marker: number;
  /** Where its FF is. */
  start: number;
  /** Just past its payload, as its length says: past the end of the buffer if it is cut short. */
  end: number;
}

/**
 * The marker segments after SOI in order, up to and including SOS (the scan header: the
 * compressed data follows its end) or EOI. Ends early where `buf` stops being a JPEG or is cut
 * short (the last segment then ends past the buffer): look at the last one to know which.
 */
export function* segments(buf: Uint8Array): Generator<Segment> {
  if (buf.length < 4 || buf[0] !== MARKER || buf[1] !== SOI) return;
  let pos = 2;
  while (pos + 1 < buf.length) {
    if (buf[pos] !== MARKER) return;
    const marker = buf[pos + 1];
    // Any number of FF bytes may pad the space before a marker.
    if (marker === MARKER) {
      pos += 1;
      continue;
    }
    if (isStandalone(marker) || marker === EOI) {
      yield { marker, start: pos, end: pos + 2 };
      if (marker === EOI) return;
      pos += 2;
      continue;
    }
    if (pos + 4 > buf.length) return;
    const length = uint16(buf, pos + 2);
    if (length < 2) return;
    const end = pos + 2 + length;
    yield { marker, start: pos, end };
    if (marker === SOS || end > buf.length) return;
    pos = end;
  }
}

/**
 * The picture size from the frame header (SOF0..SOF15, so baseline, progressive, lossless...),
 * or null when `buf` is not a JPEG, or ends before the frame header.
 */
export function jpegSize(buf: Uint8Array): { width: number; height: number } | null {
  for (const segment of segments(buf)) {
    if (isFrameHeader(segment.marker)) return frameSize(buf, segment.start + 2);
  }
  return null;
}

/** Reads height and width from a frame header whose length field starts at `pos`. */
function frameSize(buf: Uint8Array, pos: number): { width: number; height: number } | null {
  // length (2), sample precision (1), height (2), width (2)
  if (pos + 7 > buf.length) return null;
  const height = uint16(buf, pos + 3);
  const width = uint16(buf, pos + 5);
  // A height of 0 is deferred to a DNL marker after the scan; we do not read that far.
  return width > 0 && height > 0 ? { width, height } : null;
}

/** A big-endian u16, as JPEG writes them; on Uint8Array, so the capture worker's bundle can read sizes too. */
function uint16(buf: Uint8Array, pos: number): number {
  return (buf[pos] << 8) | buf[pos + 1];
}

const COM = 0xfe;

/**
 * The comment segments (COM, marker included) before the scan, in order; none for a buffer that
 * is not a JPEG. A re-encode drops them; a tier keeps them, as the main picture passes them through.
 */
export function jpegComments(buf: Uint8Array): Uint8Array[] {
  const comments: Uint8Array[] = [];
  if (buf.length < 4 || buf[0] !== MARKER || buf[1] !== SOI) return comments;
  let pos = 2;
  while (pos + 3 < buf.length && buf[pos] === MARKER) {
    const marker = buf[pos + 1];
    if (marker === MARKER) {
      pos += 1;
      continue;
    }
    if (isStandalone(marker)) {
      pos += 2;
      continue;
    }
    if (marker === SOS || marker === EOI) break;
    const end = pos + 2 + uint16(buf, pos + 2);
    if (end > buf.length) break;
    if (marker === COM) comments.push(buf.subarray(pos, end));
    pos = end;
  }
  return comments;
}
