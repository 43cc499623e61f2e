import { type Segment, segments, SOS } from '../../shared/jpeg-info.js';

// A camera's JPEG carries metadata no viewer needs and some must not get: EXIF with the make,
// the serial number and the GPS position, an embedded thumbnail (whose own end-of-image marker
// makes parsers that cut at the first FFD9, like Home Assistant's, show half a picture), XMP,
// ICC profiles, comments. They are cut out of the headers; the compressed picture is copied as
// it is, so nothing is decoded or encoded again.

const APP0 = 0xe0;
const APP1 = 0xe1;
const APP14 = 0xee;
const APP15 = 0xef;
const COM = 0xfe;

const EXIF = Buffer.from('Exif\0\0', 'latin1');
const ORIENTATION_TAG = 0x0112;
const UPRIGHT = 1;

/**
 * `jpeg` without its metadata segments: every APPn and COM but APP0 JFIF (pixel aspect and
 * density) and APP14 Adobe (says whether three channels are YCbCr or RGB, and four CMYK or
 * YCCK: without it Adobe's JPEGs decode to wrong colours). An EXIF orientation other than upright
 * is kept, alone in an EXIF segment of its own, so a phone's portrait photo stays upright.
 * The same buffer when there is nothing to cut; null when the headers are not a JPEG's.
 */
export function withoutMetadata(jpeg: Buffer): Buffer | null {
  const kept: Buffer[] = [jpeg.subarray(0, 2)];
  let cut = false;
  for (const segment of segments(jpeg)) {
    if (segment.end > jpeg.length) return null;
    if (segment.marker === SOS) {
      if (!cut) return jpeg;
      kept.push(jpeg.subarray(segment.start));
      return Buffer.concat(kept);
    }
    const bytes = jpeg.subarray(segment.start, segment.end);
    if (!isMetadata(segment, bytes)) {
      kept.push(bytes);
      continue;
    }
    cut = true;
    const orientation = segment.marker === APP1 ? exifOrientation(bytes.subarray(4)) : UPRIGHT;
    if (orientation !== UPRIGHT) kept.push(orientationSegment(orientation));
  }
  return null;
}

function isMetadata(segment: Segment, bytes: Buffer): boolean {
  if (segment.marker === COM) return true;
  if (segment.marker < APP0 || segment.marker > APP15) return false;
  const payload = bytes.subarray(4);
  if (segment.marker === APP0) return !startsWith(payload, 'JFIF\0');
  if (segment.marker === APP14) return !startsWith(payload, 'Adobe');
  return true;
}

function startsWith(payload: Buffer, text: string): boolean {
  return payload.toString('latin1', 0, text.length) === text;
}

/** The orientation (1 to 8) in IFD0 of an APP1 payload, or UPRIGHT when it is no EXIF or says none. */
function exifOrientation(payload: Buffer): number {
  if (!payload.subarray(0, EXIF.length).equals(EXIF)) return UPRIGHT;
  const tiff = payload.subarray(EXIF.length);
  if (tiff.length < 8) return UPRIGHT;
  const little = tiff.toString('latin1', 0, 2) === 'II';
  const u16 = (at: number): number => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const ifd = little ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
  if (ifd + 2 > tiff.length) return UPRIGHT;
  const entries = u16(ifd);
  for (let at = ifd + 2; at + 12 <= tiff.length && at < ifd + 2 + entries * 12; at += 12) {
    if (u16(at) !== ORIENTATION_TAG) continue;
    const value = u16(at + 8);
    return value >= 1 && value <= 8 ? value : UPRIGHT;
  }
  return UPRIGHT;
}

/** An APP1 segment whose EXIF holds the orientation and nothing else (big-endian TIFF, one IFD0 entry). */
function orientationSegment(orientation: number): Buffer {
  const tiff = Buffer.alloc(26);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4); // IFD0 right after this header
  tiff.writeUInt16BE(1, 8); // one entry
  tiff.writeUInt16BE(ORIENTATION_TAG, 10);
  tiff.writeUInt16BE(3, 12); // SHORT
  tiff.writeUInt32BE(1, 14); // one value, held in the entry
  tiff.writeUInt16BE(orientation, 18);
  // 22..25: no next IFD
  const header = Buffer.from([0xff, APP1, 0, 0]);
  header.writeUInt16BE(2 + EXIF.length + tiff.length, 2);
  return Buffer.concat([header, EXIF, tiff]);
}
