import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawLabel, renderLabel } from '../server/encoder/text.js';
import type { RawImage } from '../server/types.js';

test('a label used every frame stays cached while one-off labels (a clock) come and go', async () => {
  const overlay = renderLabel('Front door', 24);
  for (let frame = 0; frame < 40; frame++) {
    await renderLabel(`12:00:${frame}`, 24);
    assert.equal(renderLabel('Front door', 24), overlay, `still cached at frame ${frame}`);
  }
});

test('a label that failed to render is not cached', async () => {
  const failed = renderLabel('x', 0);
  await assert.rejects(failed);
  assert.notEqual(renderLabel('x', 0), failed);
  await assert.rejects(renderLabel('x', 0));
});

test('labels are white text on a dark box, blended in place and clipped at the edges', async () => {
  const label = await renderLabel('Hi', 20);
  assert.equal(label.height, 20);
  assert.equal(label.channels, 4);
  const target: RawImage = { width: 40, height: 30, channels: 3, data: Buffer.alloc(40 * 30 * 3, 200) };
  drawLabel(target, label, 30, 20);
  assert.ok(target.data[(25 * 40 + 35) * 3] < 200, 'darkened where the box lies');
  assert.equal(target.data[(5 * 40 + 5) * 3], 200, 'untouched elsewhere');
});
