import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { isCompleteJpeg, jpegSize } from '../shared/jpeg-info.js';

function noise(width: number, height: number): ReturnType<typeof sharp> {
  const gaussian = { type: 'gaussian', mean: 128, sigma: 40 } as const;
  return sharp({ create: { width, height, channels: 3, background: 'black', noise: gaussian } });
}

/** A marker segment: FF, marker, big-endian length (counting itself), payload. */
function segment(marker: number, payload: number[]): Buffer {
  const length = payload.length + 2;
  return Buffer.from([0xff, marker, length >> 8, length & 0xff, ...payload]);
}

function frameHeader(marker: number, width: number, height: number): Buffer {
  return segment(marker, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
}

const SOI = Buffer.from([0xff, 0xd8]);
const EOI = Buffer.from([0xff, 0xd9]);

test('isCompleteJpeg', async (t) => {
  await t.test('accepts a whole JPEG and rejects every shorter prefix of it', async () => {
    const jpeg = await noise(64, 48).jpeg().toBuffer();
    assert.equal(isCompleteJpeg(jpeg), true);
    for (const length of [0, 1, 2, 3, 100, jpeg.length - 1]) {
      assert.equal(isCompleteJpeg(jpeg.subarray(0, length)), false, `prefix of ${length} bytes`);
    }
  });

  await t.test('rejects other images and text', async () => {
    assert.equal(isCompleteJpeg(await noise(8, 8).png().toBuffer()), false);
    assert.equal(isCompleteJpeg(Buffer.from('not a picture')), false);
  });
});

test('jpegSize', async (t) => {
  await t.test('reads the size of baseline and progressive JPEGs made by sharp', async () => {
    assert.deepEqual(jpegSize(await noise(64, 48).jpeg().toBuffer()), { width: 64, height: 48 });
    assert.deepEqual(jpegSize(await noise(321, 123).jpeg({ progressive: true }).toBuffer()), {
      width: 321,
      height: 123,
    });
  });

  await t.test('skips metadata segments that come before the frame header', async () => {
    const jpeg = await noise(50, 70).withMetadata().withExif({ IFD0: { Copyright: 'PushCam' } }).jpeg().toBuffer();
    assert.deepEqual(jpegSize(jpeg), { width: 50, height: 70 });
  });

  await t.test('does not take Huffman (DHT), arithmetic (DAC) or JPG segments for frame headers', () => {
    // Their payloads would read as 0x0102 x 0x0304 if they were taken for a frame header.
    const misleading = [8, 1, 2, 3, 4, 0, 0];
    const jpeg = Buffer.concat([
      SOI,
      segment(0xc4, misleading),
      segment(0xcc, misleading),
      segment(0xc8, misleading),
      frameHeader(0xc2, 640, 480),
      EOI,
    ]);
    assert.deepEqual(jpegSize(jpeg), { width: 640, height: 480 });
  });

  await t.test('allows fill bytes (FF) before a marker', () => {
    const jpeg = Buffer.concat([SOI, Buffer.from([0xff, 0xff]), frameHeader(0xc0, 7, 9), EOI]);
    assert.deepEqual(jpegSize(jpeg), { width: 7, height: 9 });
  });

  await t.test('gives a size only for prefixes that hold the whole frame header, never reading past the end', async () => {
    const jpeg = await noise(64, 48).jpeg().toBuffer();
    // Marker (2), length (2), precision (1), height (2), width (2).
    const frameHeaderEnd = jpeg.indexOf(Buffer.from([0xff, 0xc0])) + 9;
    assert.ok(frameHeaderEnd > 9);
    for (let length = 0; length <= jpeg.length; length++) {
      const expected = length >= frameHeaderEnd ? { width: 64, height: 48 } : null;
      assert.deepEqual(jpegSize(jpeg.subarray(0, length)), expected, `prefix of ${length} bytes`);
    }
  });

  await t.test('returns null for garbage and for JPEG markers that lead nowhere', async () => {
    assert.equal(jpegSize(Buffer.alloc(0)), null);
    assert.equal(jpegSize(Buffer.from('hello, world')), null);
    assert.equal(jpegSize(await noise(8, 8).png().toBuffer()), null);
    assert.equal(jpegSize(Buffer.concat([SOI, Buffer.from('garbage after the start marker')])), null);
    assert.equal(jpegSize(Buffer.concat([SOI, EOI])), null);
    // A segment whose length points far beyond the end.
    assert.equal(jpegSize(Buffer.concat([SOI, Buffer.from([0xff, 0xe0, 0xff, 0xf0, 0, 0])])), null);
    // A length shorter than the length field itself would loop for ever if trusted.
    assert.equal(jpegSize(Buffer.concat([SOI, Buffer.from([0xff, 0xe0, 0x00, 0x00]), frameHeader(0xc0, 1, 1)])), null);
    // The scan starts before any frame header.
    assert.equal(jpegSize(Buffer.concat([SOI, segment(0xda, [0, 0]), frameHeader(0xc0, 1, 1)])), null);
    // A zero height is deferred to a DNL marker, which we do not read.
    assert.equal(jpegSize(Buffer.concat([SOI, frameHeader(0xc0, 10, 0), EOI])), null);
  });

  await t.test('never throws on random bytes after a start marker', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const soup = Buffer.concat([SOI, pseudoRandomBytes(seed, 64)]);
      assert.doesNotThrow(() => jpegSize(soup), `seed ${seed}`);
    }
  });
});

/** Deterministic bytes, rich in FF so that markers occur often. */
function pseudoRandomBytes(seed: number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    bytes[i] = state % 4 === 0 ? 0xff : state >> 16;
  }
  return bytes;
}
