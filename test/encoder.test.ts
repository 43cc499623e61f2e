import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { Encoder, formatTimestamp } from '../server/encoder/encoder.js';
import type { RawImage } from '../server/types.js';

/** 320x240 RGB: left half red, right half blue. */
function halves(): RawImage {
  const width = 320;
  const height = 240;
  const data = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const left = i % width < width / 2;
    data[i * 3] = left ? 220 : 0;
    data[i * 3 + 2] = left ? 0 : 220;
  }
  return { width, height, channels: 3, data };
}

/** Mean RGB of a rectangle of a JPEG. */
async function meanColour(jpeg: Buffer, left: number, top: number, width: number, height: number): Promise<number[]> {
  const pixels = await sharp(jpeg).extract({ left, top, width, height }).removeAlpha().raw().toBuffer();
  const sum = [0, 0, 0];
  for (let i = 0; i < pixels.length; i++) sum[i % 3] += pixels[i];
  return sum.map((total) => Math.round(total / (width * height)));
}

test('encodes raw pixels to a JPEG of the same size and counts the encode', async () => {
  const encoder = new Encoder();
  const out = await encoder.encode({ kind: 'raw', image: halves() });
  const meta = await sharp(out.jpeg).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 320, 240]);
  assert.deepEqual([out.width, out.height], [320, 240]);
  assert.equal(encoder.frames, 1);
  assert.ok(encoder.avgMs > 0);
  const [r, , b] = await meanColour(out.jpeg, 10, 10, 50, 50);
  assert.ok(r > 180 && b < 40, 'left is red');
});

test('mirror flips left and right; rotate turns the picture and swaps its sides', async () => {
  const mirrored = await new Encoder({ mirror: true }).encode({ kind: 'raw', image: halves() });
  const [r, , b] = await meanColour(mirrored.jpeg, 10, 10, 50, 50);
  assert.ok(b > 180 && r < 40, 'left is now blue');

  const rotated = await new Encoder({ rotate: 90 }).encode({ kind: 'raw', image: halves() });
  assert.deepEqual([rotated.width, rotated.height], [240, 320]);
  const top = await meanColour(rotated.jpeg, 10, 10, 50, 50);
  assert.ok(top[0] > 180, 'clockwise: the red left half is now on top');
  const half = await new Encoder({ rotate: 180 }).encode({ kind: 'raw', image: halves() });
  assert.ok((await meanColour(half.jpeg, 10, 10, 50, 50))[2] > 180, '180: blue on the left');
});

test('quality changes the size of the JPEG', async () => {
  const noisy = halves();
  for (let i = 0; i < noisy.data.length; i++) noisy.data[i] = (noisy.data[i] + ((i * 7919) % 61)) & 255;
  const low = await new Encoder({ quality: 20 }).encode({ kind: 'raw', image: { ...noisy, data: Buffer.from(noisy.data) } });
  const high = await new Encoder({ quality: 95 }).encode({ kind: 'raw', image: { ...noisy, data: Buffer.from(noisy.data) } });
  assert.ok(high.jpeg.length > low.jpeg.length * 1.5, `q95 ${high.jpeg.length} vs q20 ${low.jpeg.length}`);
});

test('timestamp is drawn top-left and text bottom-left, after mirroring', async () => {
  const plain = await new Encoder({ mirror: true }).encode({ kind: 'raw', image: halves() });
  const marked = await new Encoder({ mirror: true, timestamp: true, text: 'Küche' }).encode({ kind: 'raw', image: halves() });
  const region = { top: [12, 8, 40, 12], bottom: [12, 222, 40, 12] } as const;
  for (const [name, [l, t, w, h]] of Object.entries(region)) {
    const before = await meanColour(plain.jpeg, l, t, w, h);
    const after = await meanColour(marked.jpeg, l, t, w, h);
    assert.notDeepEqual(after, before, `${name} label drawn`);
  }
  const middle = await meanColour(marked.jpeg, 140, 100, 40, 40);
  assert.deepEqual(middle, await meanColour(plain.jpeg, 140, 100, 40, 40), 'the rest of the picture is untouched');
});

test('a JPEG from a file is passed through untouched unless a setting needs its pixels', async () => {
  const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).jpeg().toBuffer();
  const encoder = new Encoder();
  const out = await encoder.encode({ kind: 'jpeg', data: jpeg });
  assert.equal(out.jpeg, jpeg);
  assert.deepEqual([out.width, out.height], [64, 48]);
  assert.equal(encoder.frames, 0, 'no encode');

  const turned = new Encoder({ rotate: 270 });
  const re = await turned.encode({ kind: 'jpeg', data: jpeg });
  assert.deepEqual([re.width, re.height], [48, 64]);
  assert.equal(turned.frames, 1);
});

test('settings can change between frames', async () => {
  const encoder = new Encoder();
  assert.equal((await encoder.encode({ kind: 'raw', image: halves() })).width, 320);
  encoder.settings = { ...encoder.settings, rotate: 90 };
  assert.equal((await encoder.encode({ kind: 'raw', image: halves() })).width, 240);
});

test('timestamps are local, zero-padded, sortable', () => {
  assert.equal(formatTimestamp(new Date(2026, 0, 2, 3, 4, 5)), '2026-01-02 03:04:05');
});

test('an RGBA camera frame gives the same JPEG as its RGB pixels', async () => {
  const rgb = halves();
  const rgba = Buffer.alloc(rgb.width * rgb.height * 4, 255);
  for (let i = 0; i < rgb.width * rgb.height; i++) rgb.data.copy(rgba, i * 4, i * 3, i * 3 + 3);
  const fromRgb = await new Encoder().encode({ kind: 'raw', image: rgb });
  const fromRgba = await new Encoder().encode({ kind: 'raw', image: { ...rgb, channels: 4, data: rgba } });
  assert.deepEqual(fromRgba.jpeg, fromRgb.jpeg);
});
