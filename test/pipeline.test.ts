import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Encoder, type EncodedImage } from '../server/encoder/encoder.js';
import { encodeTier } from '../server/encoder/tiers.js';
import { Hub } from '../server/hub/hub.js';
import { Pipeline } from '../server/pipeline.js';
import type { FrameSource, SourceImage } from '../server/types.js';

const newHub = (): Hub => new Hub({ encodeTier: (main, spec) => encodeTier(main, spec, 80) });

/** A grey picture whose width tells the frames apart: frame n is 16 + n pixels wide. */
function frame(n: number): SourceImage {
  const width = 16 + n;
  const height = 8;
  return { kind: 'raw', image: { width, height, channels: 3, data: Buffer.alloc(width * height * 3, 100 + n) } };
}
const frameNumber = (image: { width: number }): number => image.width - 16;

/**
 * Encodes with real sharp, then holds each result until the test lets it go, so the test decides
 * in which order the encodes finish. Counts how many are under way at once.
 */
class HeldEncoder extends Encoder {
  readonly held = new Map<number, () => void>();
  running = 0;
  mostRunning = 0;

  override async encode(input: SourceImage): Promise<EncodedImage> {
    this.running++;
    this.mostRunning = Math.max(this.mostRunning, this.running);
    try {
      const encoded = await super.encode(input);
      await new Promise<void>((resolve) => this.held.set(frameNumber(encoded), resolve));
      return encoded;
    } finally {
      this.running--;
    }
  }

  /** Waits until frame n's encode is done and held, then lets it go. */
  async finish(n: number): Promise<void> {
    const giveUp = Date.now() + 5000;
    while (!this.held.has(n)) {
      if (Date.now() > giveUp) throw new Error(`frame ${n} was never encoded`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    this.held.get(n)?.();
    this.held.delete(n);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

class HandSource implements FrameSource {
  readonly kind = 'hand';
  emit: ((image: SourceImage) => void) | null = null;
  start(emit: (image: SourceImage) => void): void {
    this.emit = emit;
  }
  stop(): void {
    this.emit = null;
  }
  status(): ReturnType<FrameSource['status']> {
    return { kind: this.kind, state: this.emit ? 'running' : 'stopped' };
  }
  send(n: number): void {
    if (!this.emit) throw new Error('the source is not running');
    this.emit(frame(n));
  }
}

function setUp(framesInFlight: number): { source: HandSource; encoder: HeldEncoder; hub: Hub; pipeline: Pipeline; published: number[]; release: () => void } {
  const source = new HandSource();
  const encoder = new HeldEncoder();
  const hub = newHub();
  const published: number[] = [];
  hub.on('frame', (f) => published.push(frameNumber(f)));
  const pipeline = new Pipeline(source, encoder, hub, (line) => assert.fail(line), framesInFlight);
  const release = hub.hold();
  return { source, encoder, hub, pipeline, published, release };
}

test('frames in flight finish in order: every frame is published, in the order the source made them', async (t) => {
  const { source, encoder, pipeline, published, release } = setUp(2);
  t.after(() => (release(), pipeline.close()));
  source.send(1);
  source.send(2);
  await encoder.finish(1);
  await encoder.finish(2);
  source.send(3);
  await encoder.finish(3);
  assert.deepEqual(published, [1, 2, 3]);
  assert.equal(encoder.mostRunning, 2, 'two encodes ran at once');
  assert.deepEqual([pipeline.received, pipeline.skipped], [3, 0]);
});

test('a frame that finishes after a newer one was published is dropped and counted, never published late', async (t) => {
  const { source, encoder, pipeline, published, release } = setUp(2);
  t.after(() => (release(), pipeline.close()));
  source.send(1);
  source.send(2);
  await encoder.finish(2);
  await encoder.finish(1);
  assert.deepEqual(published, [2]);
  assert.equal(pipeline.skipped, 1);
});

test('with every slot busy, only the newest source image waits; older ones are dropped, not queued', async (t) => {
  const { source, encoder, pipeline, published, release } = setUp(2);
  t.after(() => (release(), pipeline.close()));
  for (let n = 1; n <= 6; n++) source.send(n);
  assert.equal(encoder.mostRunning, 2, 'no more than two at once');
  await encoder.finish(1);
  // Frame 6 took the freed slot; 3, 4 and 5 were replaced while waiting.
  await encoder.finish(6);
  await encoder.finish(2);
  assert.deepEqual(published, [1, 6]);
  assert.deepEqual([pipeline.received, pipeline.skipped], [6, 4]);
  assert.equal(encoder.mostRunning, 2);
});

test('one frame in flight: the next waits until the encoder is free', async (t) => {
  const { source, encoder, pipeline, published, release } = setUp(1);
  t.after(() => (release(), pipeline.close()));
  source.send(1);
  source.send(2);
  source.send(3);
  await encoder.finish(1);
  await encoder.finish(3);
  assert.deepEqual(published, [1, 3]);
  assert.equal(encoder.mostRunning, 1);
  assert.equal(pipeline.skipped, 1);
});

test('frames still in flight when the source is replaced are not published', async (t) => {
  const { source, encoder, pipeline, published, release } = setUp(2);
  t.after(() => (release(), pipeline.close()));
  source.send(1);
  const next = new HandSource();
  pipeline.replaceSource(next);
  next.send(2);
  await encoder.finish(1);
  await encoder.finish(2);
  assert.deepEqual(published, [2]);
});

test('frames in flight must be a whole number of at least 1', () => {
  assert.throws(() => new Pipeline(new HandSource(), new Encoder(), newHub(), () => {}, 0), /at least 1/);
});
