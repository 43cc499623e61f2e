import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newBoundary, partLayout, streamContentType } from '../server/hub/multipart.js';

const jpeg = Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);

test('boundaries are long, random and token-safe', () => {
  const a = newBoundary();
  const b = newBoundary();
  assert.notEqual(a, b);
  assert.ok(a.length >= 32, a);
  assert.match(a, /^[A-Za-z0-9]+$/);
  assert.equal(streamContentType(a), `multipart/x-mixed-replace;boundary=${a}`);
});

const text = (b: Buffer): string => b.toString('latin1');

test('advance layout: opens with part headers and writes the next part headers after each frame', () => {
  const layout = partLayout('B', 'advance');
  assert.equal(text(layout.opening), '--B\r\nContent-Type: image/jpeg\r\n\r\n');
  assert.equal(text(layout.part(jpeg)), `${text(jpeg)}\r\n--B\r\nContent-Type: image/jpeg\r\n\r\n`);
});

test('dual layout is the advance layout (the repeat is timing, not bytes)', () => {
  const dual = partLayout('B', 'dual');
  const advance = partLayout('B', 'advance');
  assert.deepEqual([dual.opening, dual.part(jpeg)], [advance.opening, advance.part(jpeg)]);
});

test('length layout: the boundary right after each frame, then the next part headers with Content-Length', () => {
  const layout = partLayout('B', 'length');
  assert.equal(text(layout.opening), '--B\r\n');
  assert.equal(text(layout.part(jpeg)), `Content-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n${text(jpeg)}\r\n--B\r\n`);
});

test('plain layout: boundary and Content-Length before each frame, nothing ahead', () => {
  const layout = partLayout('B', 'plain');
  assert.equal(layout.opening.length, 0);
  assert.equal(text(layout.part(jpeg)), `--B\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.length}\r\n\r\n${text(jpeg)}\r\n`);
});

test("a frame's part is built once and shared; a new frame gets its own", () => {
  const layout = partLayout('B', 'advance');
  const first = layout.part(jpeg);
  assert.equal(layout.part(jpeg), first, 'the same buffer for every viewer of the frame');
  const next = Buffer.from([0xff, 0xd8, 9, 0xff, 0xd9]);
  assert.ok(text(layout.part(next)).startsWith(text(next)));
});
