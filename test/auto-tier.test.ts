import assert from 'node:assert/strict';
import test from 'node:test';
import { type AutoLook, type AutoState, AutoTier, AUTO_LOOK_MS, initialAuto, LADDER, nextAuto } from '../server/hub/auto-tier.js';
import { statusOf } from '../server/http/status.js';
import type { TierSpec } from '../shared/status.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually, startTestServer } from './helpers/server.js';

// ?quality=auto: the policy is driven by a made-up link, look by look, so every step is known.
// Byte sizes are those of 720p camera-like frames (server/hub/auto-tier.ts).

const MAIN = 86_000;
const MEASURED = [MAIN, 56_000, 32_000, 16_000, 8_200];
const MBIT = 1e6;

/** A link at `mbit` with nothing queued, 30 fps, the main picture and the viewer's own rung measured. */
function look(now: number, mbit: number, state: AutoState, o: Partial<AutoLook> = {}): AutoLook {
  const rungBytes = LADDER.map((_, i) => (i === 0 || i === state.rung ? MEASURED[i] : null));
  return { now, deliveryBitsPerSecond: mbit * MBIT, queuedBytes: 1000, fps: 30, rungBytes, ...o };
}

/** Looks every AUTO_LOOK_MS from `from` for `ms` on a steady link; the rungs it was on after each. */
function run(state: AutoState, from: number, ms: number, mbit: number | ((t: number) => number), o: Partial<AutoLook> = {}): { state: AutoState; rungs: number[] } {
  const rungs: number[] = [];
  for (let t = from; t < from + ms; t += AUTO_LOOK_MS) {
    state = nextAuto(state, look(t, typeof mbit === 'number' ? mbit : mbit(t), state, o));
    rungs.push(state.rung);
  }
  return { state, rungs };
}

test('a fast link keeps the main picture', () => {
  const { rungs } = run(initialAuto(0), 0, 30_000, 100);
  assert.ok(rungs.every((r) => r === 0));
});

test('an unknown rate (no delivery yet) moves nothing', () => {
  const { rungs } = run(initialAuto(0), 0, 5000, 0);
  assert.ok(rungs.every((r) => r === 0));
});

test('a 2 Mbit/s link: down after 500 ms of too much, straight to the rung that fits, and it stays', () => {
  const start = initialAuto(0);
  const first = nextAuto(start, look(0, 2, start));
  assert.equal(first.rung, 0, 'one look is not enough');
  const second = nextAuto(first, look(250, 2, first));
  assert.equal(second.rung, 0);
  const third = nextAuto(second, look(500, 2, second));
  // 320 wide: guessed at a half per rung from the main picture's 86 KB, it needs 0.54 of the link at 25 fps.
  assert.equal(third.rung, LADDER.length - 1);
  assert.deepEqual(LADDER[third.rung], { width: 320, quality: 25 });
  // Measured at 8.2 KB it needs 0.82: not enough to go down (there is no lower rung) nor up.
  const { rungs } = run(third, 750, 60_000, 2);
  assert.ok(rungs.every((r) => r === LADDER.length - 1));
});

test('an 8 Mbit/s link settles where the picture fits, without flapping', () => {
  const { rungs } = run(initialAuto(0), 0, 60_000, 8);
  const settled = rungs[rungs.length - 1];
  assert.ok(settled >= 2 && settled <= 3, `rung ${settled}`);
  // After the first second it moves at most twice (down, maybe one probe up that holds or comes back).
  const moves = rungs.slice(4).filter((r, i, all) => i > 0 && r !== all[i - 1]).length;
  assert.ok(moves <= 2, `moved ${moves} times: ${rungs.join('')}`);
});

test('up: a link that grows takes the viewer up one rung at a time, each after 2 s of room', () => {
  let state: AutoState = { ...initialAuto(0), rung: 4 };
  // 16 KB guessed for rung 3 at 25 fps is 0.41 of 8 Mbit/s: room, but only after 2 s of it.
  state = run(state, 0, 1750, 8).state;
  assert.equal(state.rung, 4);
  state = run(state, 1750, 500, 8).state;
  assert.equal(state.rung, 3);
  // Rung 2 (32 KB) would need 0.82 of 8 Mbit/s: over the 0.6 that going up asks; at 40 Mbit/s it goes on up to the main picture.
  assert.equal(run(state, 2250, 10_000, 8).state.rung, 3);
  assert.equal(run(state, 2250, 20_000, 40).state.rung, 0);
});

test('hysteresis: a link wavering between 6 and 10 Mbit/s does not move a viewer that fits', () => {
  // Rung 3 needs 16 KB * 8 * 25 = 3.3 Mbit/s: under 0.9 of 6, and rung 2 (6.4 Mbit/s) over 0.6 of 10.
  const state: AutoState = { ...initialAuto(0), rung: 3 };
  const { rungs } = run(state, 0, 60_000, (t) => (Math.floor(t / 1000) % 2 === 0 ? 6 : 10));
  assert.ok(rungs.every((r) => r === 3), rungs.join(''));
});

test('a rung that did not hold is tried again only after a wait that doubles', () => {
  // On rung 3 with room for rung 2 by the guess (32 KB needs 0.49 of 13 Mbit/s) but 2's frames
  // turn out to be 60 KB (0.92): up, down, and up again only after 5 s, then after 10 s.
  const big = [MAIN, 110_000, 60_000, 16_000, 8_200];
  const lookAt = (t: number, s: AutoState): AutoLook => ({
    now: t,
    deliveryBitsPerSecond: 13 * MBIT,
    queuedBytes: 1000,
    fps: 30,
    rungBytes: LADDER.map((_, i) => (i === 0 || i === s.rung ? big[i] : null)),
  });
  let state: AutoState = { ...initialAuto(0), rung: 3 };
  const ups: number[] = [];
  for (let t = 0; t < 40_000; t += AUTO_LOOK_MS) {
    const next = nextAuto(state, lookAt(t, state));
    if (next.rung < state.rung) ups.push(t);
    state = next;
  }
  assert.ok(ups.length >= 2, `went up at ${ups.join(', ')}`);
  const gaps = ups.slice(1).map((t, i) => t - ups[i]);
  // Each try: 2 s of room, 0.5 s too much, then the wait (5 s, 10 s, 20 s).
  assert.ok(gaps[0] >= 7000 && gaps[0] < 8000, `first gap ${gaps[0]}`);
  if (gaps.length > 1) assert.ok(gaps[1] >= 12_000 && gaps[1] < 13_000, `second gap ${gaps[1]}`);
});

test('lag comes down even when the rate looks fine', () => {
  // The main picture's 86 KB at 25 fps needs 0.34 of 50 Mbit/s, but 2 MB queued is 320 ms behind.
  const { state } = run(initialAuto(0), 0, 1000, 50, { queuedBytes: 2_000_000 });
  assert.ok(state.rung > 0);
  assert.equal(run(initialAuto(0), 0, 1000, 50).state.rung, 0);
});

test('the rate is the least of the last 2 s of estimates: a burst that looked fast does not take the viewer up', () => {
  // A 2 Mbit/s link whose small frames fit in its burst: every other estimate is 680 Mbit/s.
  let state: AutoState = { ...initialAuto(0), rung: 4 };
  state = run(state, 0, 60_000, (t) => (Math.floor(t / AUTO_LOOK_MS) % 2 === 0 ? 2 : 680)).state;
  assert.equal(state.rung, 4);
  // Once the link is fast for good, the viewer goes up after the old estimates are gone.
  assert.ok(run(state, 60_000, 6000, 680).state.rung < 4);
});

test('AutoTier moves its viewer on the looks of the link, and retries a move that found no room', (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 });
  const moves: TierSpec[] = [];
  let room = false;
  const hub = {
    move: (spec: TierSpec) => {
      moves.push(spec);
      return room;
    },
    newestBytes: (spec: TierSpec) => (spec.width === null ? MAIN : null),
    fps: () => 30,
  };
  const auto = new AutoTier(hub, { sample: () => ({ rttMs: 2, deliveryBitsPerSecond: 2 * MBIT, inFlightBytes: 1000, unsentBytes: 0, behindMs: 6 }) });
  t.after(() => auto.stop());
  // One look at a time: within one tick() the mocked clock reads the end of it.
  const looks = (n: number): void => {
    for (let i = 0; i < n; i++) t.mock.timers.tick(AUTO_LOOK_MS);
  };
  looks(3);
  assert.deepEqual(moves, [LADDER[4]], 'down after 500 ms, refused: no room');
  room = true;
  looks(1);
  assert.deepEqual(moves, [LADDER[4], LADDER[4]]);
  looks(8);
  assert.equal(moves.length, 2, 'then it stays');
});

test('a ?quality=auto stream on loopback gets the main picture, and status says auto', async (t) => {
  const s = await startTestServer(t);
  const client = await MjpegClient.open(s.url('/stream.mjpg?quality=auto'));
  t.after(() => client.close());
  await client.waitForParts(10);
  const status = statusOf(s.hub, s.pipeline);
  assert.deepEqual(status.clients[0].tier, { auto: true, width: null, quality: null });
  await eventually(() => client.parts.length >= 15, '15 parts');
  assert.deepEqual(s.hub.tierStatus(), []);
});
