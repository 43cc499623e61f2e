import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { Encoder, formatTimestamp } from '../server/encoder/encoder.js';
import type { RawImage } from '../server/types.js';
import type { Rotation } from '../shared/settings-table.js';
import { solidJpeg } from './helpers/fixtures.js';

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
  const jpeg = await solidJpeg('#808080', 64, 48);
  const encoder = new Encoder();
  const out = await encoder.encode({ kind: 'jpeg', data: jpeg, width: 64, height: 48 });
  assert.equal(out.jpeg, jpeg);
  assert.deepEqual([out.width, out.height], [64, 48]);
  assert.equal(encoder.frames, 0, 'no encode');

  const turned = new Encoder({ rotate: 270 });
  const re = await turned.encode({ kind: 'jpeg', data: jpeg, width: 64, height: 48 });
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

const TURNS = [false, true].flatMap((mirror) => ([0, 90, 180, 270] as const).map((rotate) => ({ mirror, rotate })));

/** `image` mirrored, then rotated, as raw pixels: what the viewer should see before the overlays. */
async function turned(image: RawImage, turn: { mirror: boolean; rotate: Rotation }): Promise<RawImage> {
  let pipeline = sharp(image.data, { raw: image });
  if (turn.mirror) pipeline = pipeline.flop();
  if (turn.rotate !== 0) pipeline = pipeline.rotate(turn.rotate);
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, channels: 3, data };
}

/** Not symmetric in any direction, so any wrong turn or misplaced label shows. */
function lopsided(): RawImage {
  const image = halves();
  for (let y = 0; y < 60; y++) image.data.fill(255, (y * image.width) * 3, (y * image.width + 40) * 3);
  return image;
}

test('orientation folded into the encode: labels land upright in their corners for every mirror and rotation', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: new Date(2026, 0, 2, 3, 4, 5) });
  const overlays = { timestamp: true, text: 'Küche' };
  for (const turn of TURNS) {
    const folded = await new Encoder({ ...turn, ...overlays }).encode({ kind: 'raw', image: lopsided() });
    const expected = await new Encoder(overlays).encode({ kind: 'raw', image: await turned(lopsided(), turn) });
    assert.deepEqual([folded.width, folded.height], [expected.width, expected.height], `size, ${JSON.stringify(turn)}`);
    assert.ok(folded.jpeg.equals(expected.jpeg), `the same JPEG as turning the picture first and drawing after, ${JSON.stringify(turn)}`);
  }
});

test('a JPEG from a file is turned and labelled the same way', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: new Date(2026, 0, 2, 3, 4, 5) });
  const jpeg = await sharp(lopsided().data, { raw: lopsided() }).jpeg({ quality: 95 }).toBuffer();
  const decoded = await sharp(jpeg).raw().toBuffer();
  const pixels: RawImage = { width: 320, height: 240, channels: 3, data: decoded };
  for (const settings of [{ mirror: true, rotate: 90 as const }, { mirror: false, rotate: 270 as const, text: 'Hall', timestamp: true }]) {
    const fromJpeg = await new Encoder(settings).encode({ kind: 'jpeg', data: jpeg, width: 320, height: 240 });
    const fromPixels = await new Encoder(settings).encode({ kind: 'raw', image: { ...pixels, data: Buffer.from(pixels.data) } });
    assert.deepEqual([fromJpeg.width, fromJpeg.height], [240, 320]);
    assert.ok(fromJpeg.jpeg.equals(fromPixels.jpeg), JSON.stringify(settings));
  }
});
