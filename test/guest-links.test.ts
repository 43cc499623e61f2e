// Guest links over real sockets: a link's own key lets a viewer in and the viewer table says
// which link; Revoke and expiry end its viewers at once (their stream's last picture and their
// page's waiting status request say why) and its key stops working; one viewer at a time; only a
// hash of each key is written, and links survive a restart; a guest's /status.json shows only
// its own entry.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Farewell } from '../shared/farewell.js';
import { farewellJpeg } from '../server/hub/farewell.js';
import { broadcasting, configDir, keyOf } from './helpers/guests.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually } from './helpers/server.js';

const PAGE = 'guest-page-0123456789';
const OTHER_PAGE = 'guest-page-9876543210';

async function assertEndsOn(client: MjpegClient, reason: Farewell): Promise<void> {
  await client.waitForEnd();
  const last = client.parts.at(-1);
  assert.ok(last, 'no part came');
  assert.ok(last.body.equals(await farewellJpeg(reason, { width: 320, height: 180 })), `the last picture is not the "${reason}" one`);
}

/** What a browser gets when it opens `url` (fetch would send its own Sec-Fetch-Mode). */
function navigate(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { 'sec-fetch-mode': 'navigate' } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

/** A viewer page's status request, held up to `waitMs`; resolves with its status code, its body and how long it took. */
async function heldStatus(url: string, waitMs: number): Promise<{ status: number; body: Record<string, unknown>; took: number }> {
  const started = performance.now();
  const res = await fetch(`${url}&wait=${waitMs}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, took: performance.now() - started };
}

test('a guest link lets a viewer in with its own key; the viewer table names the link; the main key works as before', async (t) => {
  const rig = await broadcasting(t, await configDir(t));
  const link = await rig.service.createGuestLink({ name: 'Grandma', expiresInMs: null, oneViewer: false });
  assert.match(link.url, /^http:\/\/127\.0\.0\.1:\d+\/\?key=[A-Za-z0-9_-]{22}$/);
  assert.equal(Buffer.from(keyOf(link), 'base64url').length, 16, 'a 128-bit key');
  assert.notEqual(keyOf(link), rig.service.getState().share.key);
  assert.equal(link.keyKnown, true);
  assert.equal(link.viewers, 0);
  assert.equal(link.lastSeen, null);

  const guest = await MjpegClient.open(rig.at(`/stream.mjpg?key=${keyOf(link)}`), { 'user-agent': 'grandma-tablet' });
  t.after(() => guest.close());
  await guest.waitForParts(2);
  const own = await MjpegClient.open(rig.at(`/stream.mjpg?key=${rig.service.getState().share.key}`), { 'user-agent': 'my-laptop' });
  t.after(() => own.close());
  await own.waitForParts(2);

  const { viewers, guests } = rig.service.getState();
  assert.deepEqual(
    viewers.map((v) => [v.userAgent, v.guest, v.guestName]).sort(),
    [
      ['grandma-tablet', link.id, 'Grandma'],
      ['my-laptop', null, null],
    ],
  );
  assert.equal(guests[0].viewers, 1);
  assert.ok(guests[0].lastSeen !== null && Date.now() - guests[0].lastSeen < 5000);
  assert.equal((await fetch(rig.at('/status.json?key=wrong-key-0123456789ab'))).status, 401);
  // Programs give it as the Basic password, as they do the main key.
  const basic = await fetch(rig.at('/status.json'), { headers: { authorization: `Basic ${Buffer.from(`vlc:${keyOf(link)}`).toString('base64')}` } });
  assert.equal(basic.status, 200);
});

test('Revoke ends the link\'s open stream at once, tells its waiting page, and its key stops working; other viewers stay', async (t) => {
  const rig = await broadcasting(t, await configDir(t));
  const link = await rig.service.createGuestLink({ name: 'Kitchen tablet', expiresInMs: null, oneViewer: false });
  const key = keyOf(link);
  const guest = await MjpegClient.open(rig.at(`/stream.mjpg?key=${key}&viewer=${PAGE}`));
  const own = await MjpegClient.open(rig.at(`/stream.mjpg?key=${rig.service.getState().share.key}&viewer=${OTHER_PAGE}`));
  t.after(() => own.close());
  await Promise.all([guest.waitForParts(2), own.waitForParts(2)]);
  // The guest's page waits on its status request, as the viewer page does between streams.
  const told = heldStatus(rig.at(`/status.json?key=${key}&viewer=between-streams-01`), 8000);
  await new Promise((r) => setTimeout(r, 200));

  const started = performance.now();
  const state = await rig.service.revokeGuestLink(link.id);
  assert.deepEqual(state.guests, []);
  const answer = await told;
  assert.deepEqual(answer.body, { ended: 'kicked' }, 'the guest page hears the broadcaster disconnected it');
  assert.ok(answer.took < 8000 && performance.now() - started < 1000, `heard ${(performance.now() - started).toFixed(0)} ms after the revoke`);
  await assertEndsOn(guest, 'kicked');

  assert.equal((await fetch(rig.at(`/status.json?key=${key}`))).status, 401);
  assert.equal((await fetch(rig.at(`/stream.mjpg?key=${key}`))).status, 401);
  const before = own.parts.length;
  await own.waitForParts(before + 3);
  assert.equal(own.ended, false, 'the main key\'s viewer keeps watching');
  assert.deepEqual(
    rig.service.getState().viewers.map((v) => v.guest),
    [null],
  );
});

test('an expiring link ends its viewers at the moment it expires, and its key then says "expired"', async (t) => {
  const rig = await broadcasting(t, await configDir(t));
  const expiresInMs = 1500;
  const link = await rig.service.createGuestLink({ name: 'Neighbour', expiresInMs, oneViewer: false });
  assert.ok(link.expiresAt !== null && Math.abs(link.expiresAt - (Date.now() + expiresInMs)) < 500);
  const key = keyOf(link);
  const guest = await MjpegClient.open(rig.at(`/stream.mjpg?key=${key}`));
  await guest.waitForParts(2);
  // No request of the guest's is open but the stream: the timer, not a request, ends it.
  await guest.waitForEnd(expiresInMs + 2000);
  const late = Date.now() - (link.expiresAt ?? 0);
  t.diagnostic(`the stream ended ${late} ms after the expiry`);
  assert.ok(late >= 0 && late < 1000, `ended ${late} ms after the expiry`);
  await assertEndsOn(guest, 'expired');

  const row = rig.service.getState().guests[0];
  assert.equal(row.expired, true, 'the window lists it as expired until it is removed');
  const api = await fetch(rig.at(`/status.json?key=${key}`));
  assert.equal(api.status, 401);
  assert.match(((await api.json()) as { error: string }).error, /guest link has expired/);
  const page = await navigate(rig.at(`/?key=${key}`));
  assert.equal(page.status, 401);
  assert.match(page.body, /<p class="message"[^>]*>This guest link has expired/);
  assert.doesNotMatch(page.body, /not right/);
  const wrong = await navigate(rig.at('/?key=AAAAAAAAAAAAAAAAAAAAAA'));
  assert.match(wrong.body, /<p class="message"[^>]*>That access key is not right/, 'a wrong key still says wrong');
});

test('an expiring link tells its waiting page "expired" at the moment, between two streams too', async (t) => {
  const rig = await broadcasting(t, await configDir(t));
  const link = await rig.service.createGuestLink({ name: 'Neighbour', expiresInMs: 1200, oneViewer: false });
  const answer = await heldStatus(rig.at(`/status.json?key=${keyOf(link)}&viewer=${PAGE}`), 8000);
  assert.deepEqual(answer.body, { ended: 'expired' });
  assert.ok(answer.took >= 1000 && answer.took < 3000, `answered after ${answer.took.toFixed(0)} ms`);
});

test('one viewer at a time: a second page is refused with 409 while the first watches, the same page may switch, the next gets in after', async (t) => {
  const rig = await broadcasting(t, await configDir(t));
  const link = await rig.service.createGuestLink({ name: 'Grandma', expiresInMs: null, oneViewer: true });
  const key = keyOf(link);
  const first = await MjpegClient.open(rig.at(`/stream.mjpg?key=${key}&viewer=${PAGE}`));
  await first.waitForParts(1);

  const second = await fetch(rig.at(`/stream.mjpg?key=${key}&viewer=${OTHER_PAGE}`));
  assert.equal(second.status, 409);
  assert.match(((await second.json()) as { error: string }).error, /one viewer at a time/);
  const poll = await fetch(rig.at(`/snapshot.jpg?key=${key}&viewer=${OTHER_PAGE}&after=0`));
  assert.equal(poll.status, 409, 'nor can it watch by snapshots');
  // A plain snapshot is not a viewer.
  assert.equal((await fetch(rig.at(`/snapshot.jpg?key=${key}`))).status, 200);
  // The same page taking a fresh stream (a retry) is the same viewer.
  const again = await MjpegClient.open(rig.at(`/stream.mjpg?key=${key}&viewer=${PAGE}`));
  t.after(() => again.close());
  await again.waitForParts(1);
  first.close();
  // Another link, or the main key, is not limited by it.
  const other = await rig.service.createGuestLink({ name: 'Other', expiresInMs: null, oneViewer: true });
  const otherViewer = await MjpegClient.open(rig.at(`/stream.mjpg?key=${keyOf(other)}&viewer=${OTHER_PAGE}`));
  await otherViewer.waitForParts(1);
  otherViewer.close();

  again.close();
  await eventually(() => rig.service.getState().viewers.every((v) => v.guest !== link.id), 'the first viewer gone');
  const next = await MjpegClient.open(rig.at(`/stream.mjpg?key=${key}&viewer=${OTHER_PAGE}`));
  t.after(() => next.close());
  await next.waitForParts(1);
  assert.equal(next.response.statusCode, 200);
});

test('only a hash of each guest key is written; links and their keys survive a restart, and an expired one stays expired', async (t) => {
  const dir = await configDir(t);
  const first = await broadcasting(t, dir);
  const kept = await first.service.createGuestLink({ name: 'Grandma', expiresInMs: null, oneViewer: true });
  const expiring = await first.service.createGuestLink({ name: 'Visitor', expiresInMs: 1000, oneViewer: false });
  const keys = [keyOf(kept), keyOf(expiring)];
  const files = await readdir(dir);
  assert.ok(files.includes('guest-links.json'), `files: ${files.join(', ')}`);
  for (const file of files) {
    const text = await readFile(join(dir, file), 'utf8');
    for (const key of keys) {
      assert.equal(text.includes(key), false, `${file} holds a guest key`);
      assert.equal(text.includes(Buffer.from(key).toString('base64')), false, `${file} holds a guest key, encoded`);
    }
  }
  const saved = JSON.parse(await readFile(join(dir, 'guest-links.json'), 'utf8')) as { links: { keyHash: string }[] };
  assert.deepEqual(
    saved.links.map((l) => l.keyHash),
    keys.map((key) => createHash('sha256').update(key).digest('hex')),
  );
  await eventually(() => first.service.getState().guests.some((g) => g.expired), 'the visitor link expired', 5000);
  await first.service.close();

  const second = await broadcasting(t, dir);
  const rows = second.service.getState().guests;
  assert.deepEqual(
    rows.map((g) => [g.name, g.oneViewer, g.expired, g.keyKnown, g.url]),
    [
      ['Grandma', true, false, false, ''],
      ['Visitor', false, true, false, ''],
    ],
  );
  const viewer = await MjpegClient.open(second.at(`/stream.mjpg?key=${keys[0]}`));
  t.after(() => viewer.close());
  await viewer.waitForParts(1);
  assert.equal(second.service.getState().viewers[0].guestName, 'Grandma');
  const expired = await fetch(second.at(`/status.json?key=${keys[1]}`));
  assert.equal(expired.status, 401);
  assert.match(((await expired.json()) as { error: string }).error, /expired/);
});

test('a link made before a restart still expires at its moment, ending the viewer it has then', async (t) => {
  const dir = await configDir(t);
  const first = await broadcasting(t, dir);
  const link = await first.service.createGuestLink({ name: 'Visitor', expiresInMs: 3000, oneViewer: false });
  const key = keyOf(link);
  await first.service.close();
  const second = await broadcasting(t, dir);
  const viewer = await MjpegClient.open(second.at(`/stream.mjpg?key=${key}`));
  await viewer.waitForParts(1);
  await viewer.waitForEnd(5000);
  const late = Date.now() - (link.expiresAt ?? 0);
  assert.ok(late >= 0 && late < 1000, `ended ${late} ms after the expiry`);
  await assertEndsOn(viewer, 'expired');
});

test('a damaged guest links file is set aside with a notice, and no guest link works', async (t) => {
  const dir = await configDir(t);
  await writeFile(join(dir, 'guest-links.json'), '{"links": [{"id": 1}]}');
  const rig = await broadcasting(t, dir);
  assert.deepEqual(rig.service.getState().guests, []);
  assert.ok(rig.service.getState().notices.some((n) => /guest links file was damaged; it was kept as .*guest-links\.json\.bad-/.test(n)));
  assert.ok((await readdir(dir)).some((f) => f.startsWith('guest-links.json.bad-')));
});

test("a guest's /status.json shows only its own entry", async (t) => {
  const rig = await broadcasting(t, await configDir(t));
  const link = await rig.service.createGuestLink({ name: 'Grandma', expiresInMs: null, oneViewer: false });
  const key = keyOf(link);
  const mainKey = rig.service.getState().share.key;
  const viewers = await Promise.all([
    MjpegClient.open(rig.at(`/stream.mjpg?key=${key}`), { 'user-agent': 'grandma-tablet' }),
    MjpegClient.open(rig.at(`/stream.mjpg?key=${key}`), { 'user-agent': 'grandma-phone' }),
    MjpegClient.open(rig.at(`/stream.mjpg?key=${mainKey}`), { 'user-agent': 'my-laptop' }),
  ]);
  t.after(() => viewers.forEach((v) => v.close()));
  await Promise.all(viewers.map((v) => v.waitForParts(1)));
  const asGuest = (await (await fetch(rig.at(`/status.json?key=${key}`), { headers: { 'user-agent': 'grandma-tablet' } })).json()) as {
    clients: { userAgent: string }[];
  };
  assert.deepEqual(
    asGuest.clients.map((c) => c.userAgent),
    ['grandma-tablet'],
  );
  // The main key is a viewer's key too: the counts, no one else's entry; the whole list is the window's.
  const asOwner = (await (await fetch(rig.at(`/status.json?key=${mainKey}`))).json()) as { viewers: number; clients: unknown[] };
  assert.deepEqual([asOwner.viewers, asOwner.clients.length], [3, 0]);
  assert.equal(rig.service.getState().viewers.length, 3);
});
