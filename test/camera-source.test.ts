import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { type CameraFrameMeta, checkedFrame, FRAME_HEADER_BYTES, frameFromPortMessage, frameHeader, MAX_FRAME, parseWireFrame, WIRE_FORMAT } from '../shared/frame-format.js';
import { CameraSource } from '../server/source/camera.js';
import { placeholderImage } from '../server/source/placeholder.js';
import type { SourceImage } from '../server/types.js';
import { eventually } from './helpers/server.js';

type PixelsMeta = Extract<CameraFrameMeta, { format: 'pixels' }>;

function pixelsFor(meta: PixelsMeta, fill = 128): Buffer {
  return Buffer.alloc(meta.width * meta.height * meta.channels, fill);
}

function header(width: number, height: number, channels: number, format: number): Buffer {
  const bytes = Buffer.alloc(FRAME_HEADER_BYTES);
  bytes.writeUInt32LE(width, 0);
  bytes.writeUInt32LE(height, 4);
  bytes.writeUInt32LE(channels, 8);
  bytes.writeUInt32LE(format, 12);
  return bytes;
}

function wireFrame(width: number, height: number, channels: number, pixelBytes: number): Buffer {
  return Buffer.concat([header(width, height, channels, WIRE_FORMAT.pixels), Buffer.alloc(pixelBytes, 7)]);
}

function wireJpeg(width: number, height: number, jpeg: Buffer): Buffer {
  return Buffer.concat([header(width, height, 0, WIRE_FORMAT.jpeg), jpeg]);
}

function jpegOf(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: '#4080c0' } }).jpeg().toBuffer();
}

/** A started source, what it emitted, and whether it asked for capture. */
function startedSource() {
  const demand: boolean[] = [];
  const emitted: SourceImage[] = [];
  const source = new CameraSource({ onDemand: (active) => demand.push(active) });
  source.start((image) => emitted.push(image));
  return { source, demand, emitted };
}

test('CameraSource', async (t) => {
  await t.test('asks for capture while it runs and not after', () => {
    const { source, demand } = startedSource();
    source.stop();
    assert.deepEqual(demand, [true, false]);
    assert.equal(source.status().state, 'stopped');
  });

  await t.test('emits a good frame as raw pixels, without copying them', () => {
    const { source, emitted } = startedSource();
    const meta: PixelsMeta = { format: 'pixels', width: 64, height: 48, channels: 4 };
    const pixels = pixelsFor(meta);
    source.acceptFrame({ meta, data: pixels });
    assert.equal(emitted.length, 1);
    const image = emitted[0];
    assert.equal(image.kind, 'raw');
    if (image.kind !== 'raw') return;
    assert.deepEqual({ format: 'pixels', width: image.image.width, height: image.image.height, channels: image.image.channels }, meta);
    assert.equal(image.image.data, pixels);
    assert.equal(source.status().state, 'running');
  });

  await t.test('emits a JPEG frame as a JPEG that carries its size', async () => {
    const { source, emitted } = startedSource();
    const jpeg = await jpegOf(64, 48);
    source.acceptFrame(checkedFrame({ format: 'jpeg', width: 64, height: 48 }, jpeg));
    assert.deepEqual(emitted, [{ kind: 'jpeg', data: jpeg, width: 64, height: 48 }]);
  });

  await t.test('drops frames that come while stopped', () => {
    const source = new CameraSource({ onDemand: () => undefined });
    const meta: PixelsMeta = { format: 'pixels', width: 32, height: 32, channels: 4 };
    assert.doesNotThrow(() => source.acceptFrame({ meta, data: pixelsFor(meta) }));
  });

  await t.test('shows a "camera unavailable" picture, of the last frame size, on an error report', async () => {
    const { source, emitted } = startedSource();
    const meta: PixelsMeta = { format: 'pixels', width: 320, height: 240, channels: 4 };
    source.acceptFrame({ meta, data: pixelsFor(meta, 200) });
    source.report({ state: 'error', fault: 'busy', message: 'The camera is in use by another program' });
    assert.deepEqual(source.status(), { kind: 'camera', state: 'error', error: 'The camera is in use by another program' });
    await eventually(() => emitted.length === 2, 'the placeholder frame');
    const placeholder = emitted[1];
    assert.equal(placeholder.kind, 'raw');
    if (placeholder.kind !== 'raw') return;
    assert.equal(placeholder.image.width, 320);
    assert.equal(placeholder.image.height, 240);
    // Dark grey with light text: not the frame that was showing.
    const mean = placeholder.image.data.reduce((sum, v) => sum + v, 0) / placeholder.image.data.length;
    assert.ok(mean > 30 && mean < 120, `placeholder mean level ${mean}`);
  });

  await t.test("shows viewers no library's error: a fault of another kind is just \"Camera unavailable\"", async () => {
    const { source, emitted } = startedSource();
    source.report({ state: 'error', fault: 'other', message: 'the capture worker failed: TypeError: x is undefined' });
    await eventually(() => emitted.length === 1, 'the placeholder frame');
    const [placeholder] = emitted;
    assert.ok(placeholder.kind === 'raw' && placeholder.image.data.equals((await placeholderImage(1280, 720, ['Camera unavailable'])).data));
    assert.equal(source.status().error, 'the capture worker failed: TypeError: x is undefined', 'the window keeps the details');
  });

  await t.test('keeps the placeholder up against a frame that was on its way, until capture resumes', async () => {
    const { source, emitted } = startedSource();
    const meta: PixelsMeta = { format: 'pixels', width: 64, height: 48, channels: 4 };
    source.report({ state: 'error', fault: 'unplugged', message: 'The camera was unplugged' });
    source.acceptFrame({ meta, data: pixelsFor(meta) });
    await eventually(() => emitted.length === 1, 'the placeholder frame');
    source.report({ state: 'capturing', label: 'Fake camera', width: 64, height: 48 });
    assert.deepEqual(source.status(), { kind: 'camera', state: 'running' });
    source.acceptFrame({ meta, data: pixelsFor(meta) });
    assert.equal(emitted.length, 2);
  });

  await t.test('draws one placeholder at a time and shows only the newest: 100 fault reports at 4K peaked at 2.6 GB of RSS before', async () => {
    const { source, emitted } = startedSource();
    source.report({ state: 'capturing', label: 'Big camera', ...MAX_FRAME });
    for (let i = 1; i <= 100; i++) source.report({ state: 'error', fault: 'busy', message: `fault ${i}` });
    await eventually(() => emitted.length >= 1, 'the placeholder', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(emitted.length, 1, 'the first drawing is stale when it is done; the newest is drawn after it and shown');
    const last = emitted[0];
    assert.ok(last.kind === 'raw' && last.image.width === MAX_FRAME.width);
  });

  await t.test('shows the placeholder when it starts while the camera is failing', async () => {
    const source = new CameraSource({ onDemand: () => undefined });
    source.report({ state: 'error', fault: 'other', message: 'The capture browser stopped' });
    const emitted: SourceImage[] = [];
    source.start((image) => emitted.push(image));
    await eventually(() => emitted.length === 1, 'the placeholder frame');
  });

  await t.test('emits no placeholder while stopped, and says it waits for the camera until it hears from it', async () => {
    const source = new CameraSource({ onDemand: () => undefined });
    source.report({ state: 'error', fault: 'missing', message: 'No camera found: plug one in' });
    assert.equal(source.status().state, 'stopped');
    const emitted: SourceImage[] = [];
    source.start((image) => emitted.push(image));
    source.report({ state: 'idle' });
    assert.deepEqual(source.status(), { kind: 'camera', state: 'waiting', error: 'waiting for the camera' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(emitted.length, 0);
  });
});

test('checkedFrame', async (t) => {
  await t.test('takes RGB frames and the largest allowed size', () => {
    assert.doesNotThrow(() => checkedFrame({ format: 'pixels', width: 16, height: 16, channels: 3 }, Buffer.alloc(16 * 16 * 3)));
    const largest: PixelsMeta = { format: 'pixels', ...MAX_FRAME, channels: 4 };
    assert.doesNotThrow(() => checkedFrame(largest, pixelsFor(largest)));
  });

  await t.test('rejects malformed frames with a one-line reason', () => {
    const cases: { meta: PixelsMeta; length: number; reason: RegExp }[] = [
      { meta: { format: 'pixels', width: 64, height: 48, channels: 4 }, length: 64 * 48 * 4 - 1, reason: /64x48x4 needs 12288 bytes of pixels, not 12287/ },
      { meta: { format: 'pixels', width: 64, height: 48, channels: 3 }, length: 64 * 48 * 4, reason: /needs 9216 bytes/ },
      { meta: { format: 'pixels', width: MAX_FRAME.width + 1, height: 48, channels: 4 }, length: (MAX_FRAME.width + 1) * 48 * 4, reason: /width 3841 is not a whole number from 16 to 3840/ },
      { meta: { format: 'pixels', width: 64, height: MAX_FRAME.height + 1, channels: 3 }, length: 64 * (MAX_FRAME.height + 1) * 3, reason: /height 2161/ },
      { meta: { format: 'pixels', width: 0, height: 0, channels: 4 }, length: 0, reason: /width 0 is not a whole number/ },
      { meta: { format: 'pixels', width: 15, height: 48, channels: 4 }, length: 15 * 48 * 4, reason: /width 15/ },
      { meta: { format: 'pixels', width: 64.5, height: 48, channels: 4 }, length: 64 * 48 * 4, reason: /width 64.5/ },
      { meta: { format: 'pixels', width: 64, height: 48, channels: 2 as 3 }, length: 64 * 48 * 2, reason: /2 channels; expected 3 or 4/ },
      { meta: { format: 'pixels', width: 32, height: 32, channels: 4 }, length: 3, reason: /not 3/ },
    ];
    for (const { meta, length, reason } of cases) {
      assert.throws(() => checkedFrame(meta, Buffer.alloc(length)), (err: Error) => reason.test(err.message) && !err.message.includes('\n'));
    }
  });

  await t.test('refuses a broken JPEG or one of another size', async () => {
    const jpeg = await jpegOf(64, 48);
    assert.throws(() => checkedFrame({ format: 'jpeg', width: 64, height: 48 }, jpeg.subarray(0, -2)), /not a complete JPEG/);
    assert.throws(() => checkedFrame({ format: 'jpeg', width: 32, height: 48 }, jpeg), /JPEG is 64x48, but its header says 32x48/);
    assert.throws(() => checkedFrame({ format: 'jpeg', width: MAX_FRAME.width + 1, height: 48 }, jpeg), /width 3841/);
  });
});

test('parseWireFrame', async (t) => {
  await t.test('reads what frameHeader() writes, as the capture worker sends it', async () => {
    const jpeg = await jpegOf(40, 30);
    const { meta } = parseWireFrame(Buffer.concat([frameHeader({ format: 'jpeg', width: 40, height: 30 }), jpeg]));
    assert.deepEqual(meta, { format: 'jpeg', width: 40, height: 30 });
    const pixels: PixelsMeta = { format: 'pixels', width: 32, height: 16, channels: 3 };
    assert.deepEqual(parseWireFrame(Buffer.concat([frameHeader(pixels), pixelsFor(pixels)])).meta, pixels);
  });

  await t.test('reads the header and leaves the pixels in place', () => {
    const message = wireFrame(32, 16, 4, 32 * 16 * 4);
    const { meta, data } = parseWireFrame(message);
    assert.deepEqual(meta, { format: 'pixels', width: 32, height: 16, channels: 4 });
    assert.equal(data.length, 32 * 16 * 4);
    assert.equal(data.buffer, message.buffer);
    assert.equal(data.byteOffset, message.byteOffset + FRAME_HEADER_BYTES);
  });

  await t.test('reads a JPEG frame and leaves the JPEG in place', async () => {
    const jpeg = await jpegOf(40, 30);
    const message = wireJpeg(40, 30, jpeg);
    const { meta, data } = parseWireFrame(message);
    assert.deepEqual(meta, { format: 'jpeg', width: 40, height: 30 });
    assert.ok(Buffer.from(data).equals(jpeg));
    assert.equal(data.buffer, message.buffer);
  });

  await t.test('rejects a truncated JPEG, one of another size than its header says, or an unknown format, in one line', async () => {
    const jpeg = await jpegOf(40, 30);
    const oneLine = (reason: RegExp) => (err: Error) => reason.test(err.message) && !err.message.includes('\n');
    assert.throws(() => parseWireFrame(wireJpeg(40, 30, jpeg.subarray(0, jpeg.length - 100))), oneLine(/camera frame of \d+ bytes is not a complete JPEG/));
    assert.throws(() => parseWireFrame(wireJpeg(40, 30, Buffer.alloc(0))), oneLine(/not a complete JPEG/));
    assert.throws(() => parseWireFrame(wireJpeg(80, 30, jpeg)), oneLine(/camera frame JPEG is 40x30, but its header says 80x30/));
    assert.throws(() => parseWireFrame(wireJpeg(40, 4000, jpeg)), oneLine(/height 4000 is not a whole number from 16 to 2160/));
    assert.throws(() => parseWireFrame(Buffer.concat([header(40, 30, 4, WIRE_FORMAT.jpeg), jpeg])), oneLine(/4 channels in its header; expected 0/));
    assert.throws(() => parseWireFrame(Buffer.concat([header(40, 30, 0, 2), jpeg])), oneLine(/format 2 is unknown/));
  });

  await t.test('rejects a short or inconsistent message', () => {
    assert.throws(() => parseWireFrame(Buffer.alloc(5)), /5 bytes, shorter than its 16-byte header/);
    assert.throws(() => parseWireFrame(wireFrame(32, 16, 4, 32 * 16 * 4 - 4)), /needs 2048 bytes of pixels, not 2044/);
    assert.throws(() => parseWireFrame(wireFrame(32, 16, 1, 32 * 16)), /1 channels/);
    assert.throws(() => parseWireFrame(wireFrame(0xffffffff, 16, 4, 64)), /width 4294967295/);
  });
});

test('frameFromPortMessage', async (t) => {
  await t.test('reads { width, height, channels, pixels: ArrayBuffer } without copying the pixels', () => {
    const pixels = new ArrayBuffer(20 * 20 * 3);
    const frame = frameFromPortMessage({ width: 20, height: 20, channels: 3, pixels });
    assert.deepEqual(frame.meta, { format: 'pixels', width: 20, height: 20, channels: 3 });
    assert.equal(frame.data.buffer, pixels);
  });

  await t.test('also takes the pixels as a typed array view', () => {
    const memory = new ArrayBuffer(8 + 16 * 16 * 4);
    const frame = frameFromPortMessage({ width: 16, height: 16, channels: 4, pixels: new Uint8Array(memory, 8) });
    assert.equal(frame.data.length, 16 * 16 * 4);
    assert.equal(frame.data.byteOffset, 8);
  });

  await t.test('rejects anything else with a reason', () => {
    assert.throws(() => frameFromPortMessage('ack'), /not an object/);
    assert.throws(() => frameFromPortMessage(null), /not an object/);
    assert.throws(() => frameFromPortMessage({ width: '20', height: 20, channels: 3, pixels: new ArrayBuffer(1200) }), /numbers width, height and channels/);
    assert.throws(() => frameFromPortMessage({ width: 20, height: 20, channels: 3, pixels: [1, 2, 3] }), /pixels as an ArrayBuffer/);
    assert.throws(() => frameFromPortMessage({ width: 20, height: 20, channels: 3, pixels: new ArrayBuffer(10) }), /not 10/);
  });
});
