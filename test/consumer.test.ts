// The send rules every consumer of the hub follows (server/hub/consumer.ts), with sinks that are
// plain lists; the viewer's socket sink is tested through real sockets in viewer-policy.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Consumer } from '../server/hub/consumer.js';
import { Hub } from '../server/hub/hub.js';
import type { Frame } from '../server/types.js';

function frame(seq: number): Frame {
  return { jpeg: Buffer.from([0xff, 0xd8, seq]), width: 4, height: 3, seq, at: Date.now() };
}

/** A sink that keeps what it gets and is behind, until told, while `behind` is true. */
function listSink(): { sent: number[]; behind: boolean; sink: { send(f: Frame): void; behindMs(): number } } {
  const s = {
    sent: [] as number[],
    behind: false,
    sink: { send: (f: Frame) => s.sent.push(f.seq), behindMs: () => (s.behind ? Infinity : 0) },
  };
  return s;
}

test('a consumer behind its sink keeps one frame, the newest, and sends it once the sink catches up', () => {
  const s = listSink();
  const counts = { framesSent: 0, framesSkipped: 0 };
  const consumer = new Consumer(s.sink, 0, counts);
  consumer.offer(frame(1));
  s.behind = true;
  for (const seq of [2, 3, 4]) consumer.offer(frame(seq));
  consumer.offer(frame(3));
  assert.deepEqual(s.sent, [1]);
  assert.equal(consumer.idle, false);
  s.behind = false;
  consumer.caughtUp();
  assert.deepEqual(s.sent, [1, 4]);
  assert.deepEqual(counts, { framesSent: 2, framesSkipped: 2 });
  assert.equal(consumer.idle, true);
  consumer.close();
});

test('a consumer sends at most one frame per minIntervalMs, and the last one offered arrives', async () => {
  const s = listSink();
  const consumer = new Consumer(s.sink, 100);
  for (let seq = 1; seq <= 5; seq++) consumer.offer(frame(seq));
  assert.deepEqual(s.sent, [1]);
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(s.sent, [1, 5]);
  consumer.close();
});

test('the hub feeds a consumer the newest frame at once and each new one, without counting it a viewer', async () => {
  const hub = new Hub({ encodeTier: () => Promise.reject(new Error('no tiers here')) });
  hub.publish({ jpeg: Buffer.from([0xff, 0xd8]), width: 4, height: 3 });
  const s = listSink();
  const demand: number[] = [];
  hub.on('demand', (count) => demand.push(count));
  const release = hub.consume(s.sink, 0);
  assert.deepEqual(s.sent, [1]);
  hub.publish({ jpeg: Buffer.from([0xff, 0xd8]), width: 4, height: 3 });
  assert.deepEqual(s.sent, [1, 2]);
  assert.equal(hub.viewerCount, 0);
  assert.deepEqual(hub.viewerList(), []);
  release();
  release();
  hub.publish({ jpeg: Buffer.from([0xff, 0xd8]), width: 4, height: 3 });
  assert.deepEqual(s.sent, [1, 2]);
  assert.deepEqual(demand, [1, 0]);
});
