import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FRAME_HEADER_BYTES, MAX_FRAME, type CameraFrameMeta } from '../server/control/contract.js';
import { CameraSource, frameFromPortMessage, parseWireFrame } from '../server/source/camera.js';
import type { SourceImage } from '../server/types.js';
import { eventually } from './helpers/server.js';

function pixelsFor(meta: CameraFrameMeta, fill = 128): Buffer {
  return Buffer.alloc(meta.width * meta.height * meta.channels, fill);
}

function wireFrame(width: number, height: number, channels: number, pixelBytes: number): Buffer {
  const message = Buffer.alloc(FRAME_HEADER_BYTES + pixelBytes, 7);
  message.writeUInt32LE(width, 0);
  message.writeUInt32LE(height, 4);
  message.writeUInt32LE(channels, 8);
  return message;
}

/** A started source, what it emitted, and whether it asked for capture. */
function startedSource() {
  const demand: boolean[] = [];
  const emitted: SourceImage[] = [];
  const source = new CameraSource({ onDemand: (active) => demand.push(active) });
  source.start((image) => emitted.push(image));
  return { source, demand, emitted };
}

describe('CameraSource', () => {
  it('asks for capture while it runs and not after', () => {
    const { source, demand } = startedSource();
    source.stop();
    assert.deepEqual(demand, [true, false]);
    assert.equal(source.status().state, 'stopped');
  });

  it('emits a good frame as raw pixels, without copying them', () => {
    const { source, emitted } = startedSource();
    const meta: CameraFrameMeta = { width: 64, height: 48, channels: 4 };
    const pixels = pixelsFor(meta);
    source.acceptFrame(meta, pixels);
    assert.equal(emitted.length, 1);
    const image = emitted[0];
    assert.equal(image.kind, 'raw');
    if (image.kind !== 'raw') return;
    assert.deepEqual({ width: image.image.width, height: image.image.height, channels: image.image.channels }, meta);
    assert.equal(image.image.data, pixels);
    assert.equal(source.status().state, 'running');
  });

  it('accepts RGB frames and the largest allowed size', () => {
    const { source, emitted } = startedSource();
    source.acceptFrame({ width: 16, height: 16, channels: 3 }, Buffer.alloc(16 * 16 * 3));
    const largest: CameraFrameMeta = { ...MAX_FRAME, channels: 4 };
    source.acceptFrame(largest, pixelsFor(largest));
    assert.equal(emitted.length, 2);
  });

  it('rejects malformed frames with a one-line reason, and emits nothing', () => {
    const { source, emitted } = startedSource();
    const cases: { meta: CameraFrameMeta; length: number; reason: RegExp }[] = [
      { meta: { width: 64, height: 48, channels: 4 }, length: 64 * 48 * 4 - 1, reason: /64x48x4 needs 12288 bytes of pixels, not 12287/ },
      { meta: { width: 64, height: 48, channels: 3 }, length: 64 * 48 * 4, reason: /needs 9216 bytes/ },
      { meta: { width: MAX_FRAME.width + 1, height: 48, channels: 4 }, length: (MAX_FRAME.width + 1) * 48 * 4, reason: /width 3841 is not a whole number from 16 to 3840/ },
      { meta: { width: 64, height: MAX_FRAME.height + 1, channels: 3 }, length: 64 * (MAX_FRAME.height + 1) * 3, reason: /height 2161/ },
      { meta: { width: 0, height: 0, channels: 4 }, length: 0, reason: /width 0 is not a whole number/ },
      { meta: { width: 15, height: 48, channels: 4 }, length: 15 * 48 * 4, reason: /width 15/ },
      { meta: { width: 64.5, height: 48, channels: 4 }, length: 64 * 48 * 4, reason: /width 64.5/ },
      { meta: { width: 64, height: 48, channels: 2 as 3 }, length: 64 * 48 * 2, reason: /2 channels; expected 3 or 4/ },
    ];
    for (const { meta, length, reason } of cases) {
      assert.throws(() => source.acceptFrame(meta, Buffer.alloc(length)), (err: Error) => reason.test(err.message) && !err.message.includes('\n'));
    }
    assert.equal(emitted.length, 0);
  });

  it('checks frames that come while stopped, and drops the good ones', () => {
    const source = new CameraSource({ onDemand: () => undefined });
    const meta: CameraFrameMeta = { width: 32, height: 32, channels: 4 };
    assert.doesNotThrow(() => source.acceptFrame(meta, pixelsFor(meta)));
    assert.throws(() => source.acceptFrame(meta, Buffer.alloc(3)), /not 3/);
  });

  it('shows a "camera unavailable" picture, of the last frame size, on an error report', async () => {
    const { source, emitted } = startedSource();
    const meta: CameraFrameMeta = { width: 320, height: 240, channels: 4 };
    source.acceptFrame(meta, pixelsFor(meta, 200));
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

  it('keeps the placeholder up against a frame that was on its way, until capture resumes', async () => {
    const { source, emitted } = startedSource();
    const meta: CameraFrameMeta = { width: 64, height: 48, channels: 4 };
    source.report({ state: 'error', fault: 'unplugged', message: 'The camera was unplugged' });
    source.acceptFrame(meta, pixelsFor(meta));
    await eventually(() => emitted.length === 1, 'the placeholder frame');
    source.report({ state: 'capturing', label: 'Fake camera', width: 64, height: 48 });
    assert.deepEqual(source.status(), { kind: 'camera', state: 'running' });
    source.acceptFrame(meta, pixelsFor(meta));
    assert.equal(emitted.length, 2);
  });

  it('emits no placeholder while stopped, and says it waits for the camera until it hears from it', async () => {
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

describe('parseWireFrame', () => {
  it('reads the header and leaves the pixels in place', () => {
    const message = wireFrame(32, 16, 4, 32 * 16 * 4);
    const { meta, pixels } = parseWireFrame(message);
    assert.deepEqual(meta, { width: 32, height: 16, channels: 4 });
    assert.equal(pixels.length, 32 * 16 * 4);
    assert.equal(pixels.buffer, message.buffer);
    assert.equal(pixels.byteOffset, message.byteOffset + FRAME_HEADER_BYTES);
  });

  it('rejects a short or inconsistent message', () => {
    assert.throws(() => parseWireFrame(Buffer.alloc(5)), /5 bytes, shorter than its 12-byte header/);
    assert.throws(() => parseWireFrame(wireFrame(32, 16, 4, 32 * 16 * 4 - 4)), /needs 2048 bytes of pixels, not 2044/);
    assert.throws(() => parseWireFrame(wireFrame(32, 16, 1, 32 * 16)), /1 channels/);
    assert.throws(() => parseWireFrame(wireFrame(0xffffffff, 16, 4, 64)), /width 4294967295/);
  });
});

describe('frameFromPortMessage', () => {
  it('reads { width, height, channels, pixels: ArrayBuffer } without copying the pixels', () => {
    const pixels = new ArrayBuffer(20 * 20 * 3);
    const frame = frameFromPortMessage({ width: 20, height: 20, channels: 3, pixels });
    assert.deepEqual(frame.meta, { width: 20, height: 20, channels: 3 });
    assert.equal(frame.pixels.buffer, pixels);
  });

  it('also takes the pixels as a typed array view', () => {
    const memory = new ArrayBuffer(8 + 16 * 16 * 4);
    const frame = frameFromPortMessage({ width: 16, height: 16, channels: 4, pixels: new Uint8Array(memory, 8) });
    assert.equal(frame.pixels.length, 16 * 16 * 4);
    assert.equal(frame.pixels.byteOffset, 8);
  });

  it('rejects anything else with a reason', () => {
    assert.throws(() => frameFromPortMessage('ack'), /not an object/);
    assert.throws(() => frameFromPortMessage(null), /not an object/);
    assert.throws(() => frameFromPortMessage({ width: '20', height: 20, channels: 3, pixels: new ArrayBuffer(1200) }), /numbers width, height and channels/);
    assert.throws(() => frameFromPortMessage({ width: 20, height: 20, channels: 3, pixels: [1, 2, 3] }), /pixels as an ArrayBuffer/);
    assert.throws(() => frameFromPortMessage({ width: 20, height: 20, channels: 3, pixels: new ArrayBuffer(10) }), /not 10/);
  });
});
