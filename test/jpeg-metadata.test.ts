import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import { segments } from '../shared/jpeg-info.js';
import { withoutMetadata } from '../server/encoder/jpeg-metadata.js';
import { FileSource } from '../server/source/file.js';
import { startTestServer } from './helpers/server.js';
import { tempDir } from './helpers/fixtures.js';

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);
const APP0 = 0xe0;
const APP1 = 0xe1;
const APP2 = 0xe2;
const APP14 = 0xee;
const COM = 0xfe;
const MAKE = 'Phonemaker';

function noise(width: number, height: number): ReturnType<typeof sharp> {
  const gaussian = { type: 'gaussian', mean: 128, sigma: 40 } as const;
  return sharp({ create: { width, height, channels: 3, background: 'black', noise: gaussian } });
}

/** A marker segment: FF, marker, big-endian length (counting itself), payload. */
function segment(marker: number, payload: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/**
 * An EXIF segment as a phone writes one: the make, an orientation, a GPS position (IFD0 points
 * to the GPS IFD) and a JPEG thumbnail (IFD1). Big-endian TIFF; offsets count from its header.
 */
function exifSegment(thumbnail: Buffer, orientation: number): Buffer {
  const [ifd0, ifd1, gps, make, latitude, thumb] = [8, 50, 80, 110, 122, 146];
  const tiff = Buffer.alloc(thumb + thumbnail.length);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(ifd0, 4);
  const ifd = (at: number, next: number, entries: [tag: number, type: number, count: number, value: number][]): void => {
    tiff.writeUInt16BE(entries.length, at);
    entries.forEach(([tag, type, count, value], i) => {
      const e = at + 2 + i * 12;
      tiff.writeUInt16BE(tag, e);
      tiff.writeUInt16BE(type, e + 2);
      tiff.writeUInt32BE(count, e + 4);
      // A SHORT sits in the first two bytes of the value field.
      if (type === 3) tiff.writeUInt16BE(value, e + 8);
      else tiff.writeUInt32BE(value, e + 8);
    });
    tiff.writeUInt32BE(next, at + 2 + entries.length * 12);
  };
  const ASCII = 2;
  const SHORT = 3;
  const LONG = 4;
  const RATIONAL = 5;
  ifd(ifd0, ifd1, [
    [0x010f, ASCII, MAKE.length + 1, make],
    [0x0112, SHORT, 1, orientation],
    [0x8825, LONG, 1, gps],
  ]);
  ifd(ifd1, 0, [
    [0x0201, LONG, 1, thumb],
    [0x0202, LONG, 1, thumbnail.length],
  ]);
  // GPSLatitudeRef "N" (held in the entry), GPSLatitude 48/1 51/1 30/1.
  ifd(gps, 0, [
    [0x0001, ASCII, 2, 0x4e000000],
    [0x0002, RATIONAL, 3, latitude],
  ]);
  tiff.write(`${MAKE}\0`, make, 'latin1');
  [48, 1, 51, 1, 30, 1].forEach((n, i) => tiff.writeUInt32BE(n, latitude + i * 4));
  thumbnail.copy(tiff, thumb);
  return segment(APP1, Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]));
}

/**
 * A camera picture with everything a camera or an editor puts before the picture: JFIF, EXIF with
 * GPS and a thumbnail, XMP, an ICC profile, a JFXX thumbnail, Adobe's colour segment, a comment.
 */
async function cameraJpeg(width: number, height: number, orientation = 1): Promise<Buffer> {
  const plain = await noise(width, height).jpeg({ quality: 85 }).toBuffer();
  const thumbnail = await noise(32, 24).jpeg().toBuffer();
  const adobe = Buffer.from([...Buffer.from('Adobe', 'latin1'), 0, 100, 0, 0, 0, 0, 1]);
  const extra = Buffer.concat([
    exifSegment(thumbnail, orientation),
    segment(APP1, Buffer.from(`http://ns.adobe.com/xap/1.0/\0<x:xmpmeta><tiff:Make>${MAKE}</tiff:Make></x:xmpmeta>`, 'latin1')),
    segment(APP2, Buffer.concat([Buffer.from('ICC_PROFILE\0', 'latin1'), Buffer.from([1, 1]), Buffer.alloc(64, 7)])),
    segment(APP0, Buffer.concat([Buffer.from('JFXX\0', 'latin1'), Buffer.from([0x10]), thumbnail])),
    segment(APP14, adobe),
    segment(COM, Buffer.from(`Shot by ${MAKE}`, 'latin1')),
  ]);
  // sharp writes no JFIF segment; cameras write it first.
  const jfif = segment(APP0, Buffer.from([...Buffer.from('JFIF\0', 'latin1'), 1, 1, 0, 0, 1, 0, 1, 0, 0]));
  return Buffer.concat([SOI, jfif, extra, plain.subarray(2)]);
}

const markersOf = (jpeg: Buffer): number[] => [...segments(jpeg)].map((s) => s.marker);
const pixels = (jpeg: Buffer): Promise<Buffer> => sharp(jpeg).raw().toBuffer();

/** What Home Assistant's MJPEG parser keeps of a part: from the first FFD8 to the first FFD9. */
function cutAtFirstEnd(bytes: Buffer): Buffer {
  const start = bytes.indexOf(SOI);
  return bytes.subarray(start, bytes.indexOf(EOI, start) + 2);
}

test('withoutMetadata', async (t) => {
  await t.test('cuts EXIF (GPS, make, thumbnail), XMP, ICC, JFXX and comments, keeps JFIF and Adobe, and the picture decodes the same', async () => {
    const camera = await cameraJpeg(160, 120);
    assert.equal((await sharp(camera).metadata()).exif?.length !== undefined, true, 'sharp does not see the EXIF');
    assert.notEqual(cutAtFirstEnd(camera).length, camera.length, 'the thumbnail does not fool a cut at the first FFD9');
    const clean = withoutMetadata(camera);
    assert.ok(clean);
    const markers = markersOf(clean);
    assert.deepEqual(markers.filter((m) => m >= APP0 && m <= 0xef), [APP0, APP14]);
    assert.ok(!markers.includes(COM));
    assert.equal(clean.indexOf(MAKE), -1, 'the make is still in the picture');
    assert.equal(clean.indexOf('GPS'), -1);
    assert.deepEqual(await pixels(clean), await pixels(camera));
    assert.deepEqual(cutAtFirstEnd(clean), clean);
    assert.equal((await sharp(clean).metadata()).exif, undefined);
  });

  await t.test('keeps an orientation other than upright, alone', async () => {
    const clean = withoutMetadata(await cameraJpeg(64, 48, 6));
    assert.ok(clean);
    const meta = await sharp(clean).metadata();
    assert.equal(meta.orientation, 6);
    assert.ok(meta.exif && meta.exif.length < 40, `EXIF of ${meta.exif?.length} bytes`);
    assert.equal(clean.indexOf(MAKE), -1);
    assert.equal((await sharp(withoutMetadata(await cameraJpeg(64, 48, 1)) ?? Buffer.alloc(0)).metadata()).orientation, undefined);
  });

  await t.test('returns the same buffer when there is nothing to cut, and null for headers that are not a JPEG', async () => {
    const plain = await noise(64, 48).jpeg().toBuffer();
    assert.equal(withoutMetadata(plain), plain);
    const camera = await cameraJpeg(64, 48);
    const sos = camera.indexOf(Buffer.from([0xff, 0xda]));
    assert.equal(withoutMetadata(camera.subarray(0, sos - 10)), null, 'cut short before the scan');
    assert.equal(withoutMetadata(Buffer.concat([SOI, Buffer.from('garbage'), EOI])), null);
  });
});

test('a file: source serves camera JPEGs without metadata, and a cut at the first FFD9 gets the whole picture', { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t, 'exif');
  const path = join(dir, 'cam.jpg');
  const camera = await cameraJpeg(320, 240);
  await writeFile(path, camera);
  const s = await startTestServer(t, { source: new FileSource({ path, intervalMs: 50, log: () => undefined }) });
  const served = Buffer.from(await (await fetch(s.url('/snapshot.jpg'))).arrayBuffer());
  assert.deepEqual(served, withoutMetadata(camera));
  // The stream, read as Home Assistant does.
  const part = await new Promise<Buffer>((resolve, reject) => {
    const req = get(s.url('/stream.mjpg'), (res) => {
      let bytes = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        bytes = Buffer.concat([bytes, chunk]);
        const start = bytes.indexOf(SOI);
        if (start >= 0 && bytes.indexOf(EOI, start) >= 0) {
          resolve(cutAtFirstEnd(bytes));
          req.destroy();
        }
      });
    });
    req.on('error', reject);
  });
  assert.deepEqual(part, served);
  assert.deepEqual(await pixels(part), await pixels(camera));
});
