import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileSource } from '../server/source/file.js';
import type { PageStatus } from '../shared/status.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually, startTestServer, startTestService } from './helpers/server.js';
import { tempDir } from './helpers/fixtures.js';

// Anyone with the viewer key may read /status.json: it must not tell them who else watches.

const PAGE = 'page-mine-0123456789';
const OTHER_PAGE = 'page-theirs-0123456789';

test('a viewer sees how many watch and its own entry only, also in the held long-poll', async (t) => {
  const s = await startTestServer(t);
  const mine = await MjpegClient.open(s.url(`/stream.mjpg?viewer=${PAGE}`), { 'user-agent': 'my-browser' });
  const theirs = await MjpegClient.open(s.url(`/stream.mjpg?viewer=${OTHER_PAGE}`), { 'user-agent': 'their-browser' });
  const program = await MjpegClient.open(s.url('/stream.mjpg'), { 'user-agent': 'their-program' });
  t.after(() => [mine, theirs, program].forEach((c) => c.close()));
  await Promise.all([mine, theirs, program].map((c) => c.waitForParts(1)));

  const asked = async (query: string): Promise<{ text: string; body: PageStatus }> => {
    const text = await (await fetch(s.url(`/status.json${query}`))).text();
    return { text, body: JSON.parse(text) as PageStatus };
  };
  const own = await asked(`?viewer=${PAGE}`);
  assert.equal(own.body.viewers, 3);
  assert.deepEqual(
    own.body.clients.map((c) => c.userAgent),
    ['my-browser'],
  );
  assert.equal(own.body.clients[0].ip, '127.0.0.1');
  assert.equal(own.body.you?.watching, 'stream');
  assert.doesNotMatch(own.text, /their-/);

  // A client that names no page (a script, a program) owns the viewers from its own address and
  // client (its device), none here.
  const anonymous = await asked('');
  assert.equal(anonymous.body.viewers, 3);
  assert.deepEqual(anonymous.body.clients, []);

  // The page's held request answers by the same rule when its wait is over.
  const held = await asked(`?viewer=${PAGE}&wait=300`);
  assert.deepEqual(
    held.body.clients.map((c) => c.userAgent),
    ['my-browser'],
  );
  assert.doesNotMatch(held.text, /their-/);

  const device = await (await fetch(s.url('/status.json'), { headers: { 'user-agent': 'their-program' } })).json() as PageStatus;
  assert.deepEqual(device.clients.map((c) => c.userAgent), ['their-program']);

  // The broadcaster's list is whole.
  assert.deepEqual(s.hub.viewerList().map((v) => v.userAgent).sort(), ['my-browser', 'their-browser', 'their-program']);
});

test("a file source's reason reaches viewers without the server's paths", async (t) => {
  const dir = tempDir(t, 'private');
  const path = join(dir, 'cam.jpg');
  const s = await startTestServer(t, { source: new FileSource({ path, intervalMs: 50, log: () => undefined }) });
  const viewer = await MjpegClient.open(s.url('/stream.mjpg'));
  t.after(() => viewer.close());
  await viewer.waitForParts(1);
  const text = await (await fetch(s.url('/status.json'))).text();
  const body = JSON.parse(text) as PageStatus;
  assert.deepEqual(body.source, { kind: 'file', state: 'waiting', failures: 0, error: 'Waiting for the picture' });
  assert.ok(!text.includes(dir), text);
});

test('the control channel still lists every viewer, with address and browser', async (t) => {
  const service = await startTestService(t);
  const url = service.getState().share.urls[0];
  const clients = await Promise.all(['one-browser', 'two-browser'].map((ua) => MjpegClient.open(url.replace('/?', '/stream.mjpg?'), { 'user-agent': ua })));
  t.after(() => clients.forEach((c) => c.close()));
  await eventually(() => service.getState().viewers.length === 2, 'both viewers in the window');
  const rows = service.getState().viewers;
  assert.deepEqual(rows.map((v) => v.userAgent).sort(), ['one-browser', 'two-browser']);
  assert.ok(rows.every((v) => v.ip === '127.0.0.1'));
  const status = (await (await fetch(url.replace('/?', '/status.json?'))).json()) as PageStatus;
  assert.deepEqual([status.viewers, status.clients.length], [2, 0]);
});
