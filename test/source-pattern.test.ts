import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { afterEach, mock, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PatternSource } from '../server/source/pattern.js';
import { Ticker } from '../server/source/ticker.js';
import type { RawImage, SourceImage } from '../server/types.js';

const WAIT_MS = 5000;

/** Collects what a source emits; `frame(n)` resolves once there are n frames. */
function recorder() {
  const frames: RawImage[] = [];
  const times: number[] = [];
  const waiters = new Set<() => void>();
  const emit = (image: SourceImage): void => {
    assert.equal(image.kind, 'raw');
    if (image.kind !== 'raw') return;
    frames.push(image.image);
    times.push(performance.now());
    for (const wake of waiters) wake();
  };
  const frame = (n: number): Promise<RawImage> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (frames.length < n) return;
        cleanUp();
        resolve(frames[n - 1]);
      };
      const timer = setTimeout(() => {
        cleanUp();
        reject(new Error(`frame ${n} did not come within ${WAIT_MS} ms (got ${frames.length})`));
      }, WAIT_MS);
      const cleanUp = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { frames, times, emit, frame };
}

/** The rows from `fromRow` down, as one buffer. */
function rowsFrom(image: RawImage, fromRow: number): Buffer {
  return image.data.subarray(fromRow * image.width * image.channels);
}

let source: PatternSource | undefined;
afterEach(() => {
  source?.stop();
  mock.timers.reset();
});

test('PatternSource: emits RGB frames of the asked size, the first at once, then about every interval', async () => {
  source = new PatternSource({ width: 320, height: 240, intervalMs: 40 });
  const { times, emit, frame } = recorder();
  const started = performance.now();
  source.start(emit);
  assert.equal(source.status().state, 'running');
  const first = await frame(1);
  assert.deepEqual([first.width, first.height, first.channels, first.data.length], [320, 240, 3, 320 * 240 * 3]);
  assert.ok(times[0] - started < 1000, `first frame after ${times[0] - started} ms`);
  await frame(7);
  const average = (times[6] - times[1]) / 5;
  assert.ok(average > 30 && average < 120, `frames ${average.toFixed(1)} ms apart, asked for 40`);
});

test('PatternSource: draws the moving parts into a fresh buffer for every frame', async () => {
  source = new PatternSource({ width: 160, height: 120, intervalMs: 20 });
  const { emit, frame } = recorder();
  source.start(emit);
  const [a, b] = [await frame(1), await frame(2)];
  assert.notEqual(a.data.buffer, b.data.buffer);
  assert.equal(a.data.equals(b.data), false, 'two frames are the same');
  const before = Buffer.from(b.data);
  a.data.fill(0);
  assert.deepEqual(b.data, before, 'writing into one frame changed another');
});

test('PatternSource: advances the frame counter: with the clock frozen, only the counter changes the caption band', async () => {
  mock.timers.enable({ apis: ['Date'], now: new Date(2024, 0, 2, 3, 4, 5, 6).getTime() });
  // The caption band is the bottom fifth of the card; the moving box stays above it.
  const bandTop = Math.round(240 * 0.8);
  const other = new PatternSource({ width: 320, height: 240, intervalMs: 20 });
  source = new PatternSource({ width: 320, height: 240, intervalMs: 20 });
  const first = recorder();
  const second = recorder();
  source.start(first.emit);
  other.start(second.emit);
  try {
    const [a1, a2, b1] = [await first.frame(1), await first.frame(2), await second.frame(1)];
    assert.deepEqual(rowsFrom(a1, bandTop), rowsFrom(b1, bandTop), 'frame 1 of two cards at the same time');
    assert.notDeepEqual(rowsFrom(a1, bandTop), rowsFrom(a2, bandTop), 'frame 2 looks like frame 1');
  } finally {
    other.stop();
  }
});

test('PatternSource: emits nothing after stop, and starts again', async () => {
  source = new PatternSource({ width: 160, height: 120, intervalMs: 20 });
  const { frames, emit, frame } = recorder();
  source.start(emit);
  await frame(2);
  source.stop();
  assert.equal(source.status().state, 'stopped');
  const count = frames.length;
  await sleep(150);
  assert.equal(frames.length, count);
  source.start(emit);
  await frame(count + 1);
  assert.equal(source.status().state, 'running');
});

test('PatternSource: does nothing before start', async () => {
  const { frames, emit } = recorder();
  source = new PatternSource({ width: 160, height: 120, intervalMs: 20 });
  await sleep(100);
  assert.equal(source.status().state, 'stopped');
  source.start(emit);
  source.stop();
  await sleep(100);
  assert.equal(frames.length, 0, 'a frame made before stop() was still emitted');
});

test('PatternSource: leaves no timer behind: a process with a stopped source exits by itself', async () => {
  const pattern = fileURLToPath(new URL('../server/source/pattern.ts', import.meta.url));
  const script = `
    const { PatternSource } = await import(${JSON.stringify(pattern)});
    const source = new PatternSource({ width: 64, height: 48, intervalMs: 10 });
    await new Promise((resolve) => source.start(resolve));
    source.stop();
    console.log('stopped');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const timeout = sleep(15_000, 'still running', { ref: false });
  const result = await Promise.race([exited, timeout]);
  if (result === 'still running') child.kill();
  assert.equal(result, 0);
  assert.match(output, /stopped/);
});

test('PatternSource: rejects sizes that are not whole positive numbers', () => {
  assert.throws(() => new PatternSource({ width: 0, height: 10, intervalMs: 10 }), /whole number of pixels/);
  assert.throws(() => new PatternSource({ width: 10.5, height: 10, intervalMs: 10 }), /whole number of pixels/);
  assert.throws(() => new PatternSource({ width: 10, height: 10, intervalMs: 0 }), /interval/);
});

test('Ticker: runs at once, keeps the rate when work is quick, and skips ticks while work is still running', async () => {
  let calls = 0;
  let running = 0;
  let overlapped = false;
  const ticker = new Ticker(20, async () => {
    calls += 1;
    running += 1;
    overlapped ||= running > 1;
    await sleep(calls === 1 ? 0 : 70);
    running -= 1;
  });
  ticker.start();
  assert.equal(calls, 1, 'the first call is not immediate');
  await sleep(300);
  ticker.stop();
  const afterStop = calls;
  await sleep(100);
  assert.equal(overlapped, false, 'work ran twice at the same time');
  // Work of 70 ms on a 20 ms tick runs on every fourth tick: about 4 calls in 300 ms, not 15.
  assert.ok(calls >= 3 && calls <= 6, `${calls} calls`);
  assert.equal(calls, afterStop, 'work ran after stop');
});

test('Ticker: calls nothing after stop, even when the work stops it before its first await', async () => {
  let calls = 0;
  const quick = new Ticker(10, async () => {
    calls += 1;
  });
  quick.start();
  quick.stop();
  const selfStopping = new Ticker(10, async () => {
    calls += 1;
    selfStopping.stop();
  });
  selfStopping.start();
  await sleep(80);
  assert.equal(calls, 2);
});
