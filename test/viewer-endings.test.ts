// How PushCam ends a viewer on purpose (a kick, a stop, a restart, a new key), over real sockets:
// the stream's last picture says why, and the viewer page's waiting status request hears it at
// once. Viewers that long-poll snapshots are viewers too.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Farewell } from '../shared/farewell.js';
import { farewellJpeg } from '../server/hub/farewell.js';
import { POLL_GONE_MS } from '../server/hub/snapshot-viewer.js';
import { FileSource } from '../server/source/file.js';
import { PatternSource } from '../server/source/pattern.js';
import { MjpegClient } from './helpers/mjpeg-client.js';
import { eventually, startTestServer, startTestService, type TestServer } from './helpers/server.js';
import { freePort, solidJpeg, tempDir } from './helpers/fixtures.js';

const PAGE = 'page-one-0123456789';
const OTHER_PAGE = 'page-two-0123456789';

function pattern(): PatternSource {
  return new PatternSource({ width: 320, height: 180, intervalMs: 100 });
}

/** A still picture: long-polls for a newer frame wait their full time. */
async function stillSource(t: TestContext): Promise<FileSource> {
  const dir = tempDir(t, 'endings');
  const path = join(dir, 'still.jpg');
  await writeFile(path, await solidJpeg('#246', 320, 180));
  return new FileSource({ path, intervalMs: 100, log: () => undefined });
}

interface Held {
  answer: Promise<Record<string, unknown>>;
  /** ms from the call until the answer came. */
  took: Promise<number>;
}

/** A viewer page's status request, held by the server for up to `waitMs`. */
function heldStatus(base: string, page: string, waitMs: number): Held {
  const started = performance.now();
  const answer = fetch(`${base}&viewer=${page}&wait=${waitMs}`).then((res) => res.json() as Promise<Record<string, unknown>>);
  return { answer, took: answer.then(() => performance.now() - started) };
}

async function assertEndsOn(client: MjpegClient, reason: Farewell, boundary: string): Promise<void> {
  await client.waitForEnd();
  const last = client.parts.at(-1);
  assert.ok(last, 'no part came');
  assert.ok(last.body.equals(await farewellJpeg(reason, { width: 320, height: 180 })), `the last picture is not the "${reason}" one`);
  // The closing boundary is what makes WebKit show the last part (Chromium and Firefox show it either way).
  // (A Content-Length part leaves the CRLF before the delimiter to the parser's rest.)
  assert.match(client.rest, new RegExp(`^(\\r\\n)?--${boundary}--\\r\\n$`));
}

function boundaryOf(client: MjpegClient): string {
  return /boundary=([^;]+)/.exec(client.response.headers['content-type'] ?? '')?.[1] ?? '';
}

const statusUrl = (s: TestServer): string => s.url('/status.json');

test('a kicked stream ends on a picture that says so; its page hears at once, another page does not', async (t) => {
  const s = await startTestServer(t, { source: pattern() });
  const kicked = await MjpegClient.open(s.url(`/stream.mjpg?viewer=${PAGE}`), { 'user-agent': 'kicked-one' });
  const other = await MjpegClient.open(s.url(`/stream.mjpg?viewer=${OTHER_PAGE}`), { 'user-agent': 'other-one' });
  t.after(() => other.close());
  await Promise.all([kicked.waitForParts(2), other.waitForParts(2)]);
  const mine = heldStatus(statusUrl(s), PAGE, 8000);
  const theirs = heldStatus(statusUrl(s), OTHER_PAGE, 1500);
  await new Promise((r) => setTimeout(r, 200));

  const id = s.hub.viewerList().find((v) => v.userAgent === 'kicked-one')?.id ?? -1;
  assert.equal(s.hub.kick(id), true);
  assert.deepEqual(await mine.answer, { ended: 'kicked' });
  assert.ok((await mine.took) < 1000, `the kicked page heard after ${(await mine.took).toFixed(0)} ms`);
  await assertEndsOn(kicked, 'kicked', boundaryOf(kicked));

  const answer = await theirs.answer;
  assert.ok((await theirs.took) >= 1400, 'the other page was answered before its wait was over');
  assert.deepEqual(answer.you, { watching: 'stream', picture: { width: 320, height: 180 } });
  const before = other.parts.length;
  await other.waitForParts(before + 3);
});

test('a page kicked between two of its status requests hears it from the next one at once; once it watches again, no more', async (t) => {
  const s = await startTestServer(t, { source: pattern() });
  const kicked = await MjpegClient.open(s.url(`/stream.mjpg?viewer=${PAGE}`), { 'user-agent': 'kicked-one' });
  await kicked.waitForParts(1);
  assert.equal(s.hub.kick(s.hub.viewerList()[0]?.id ?? -1), true);
  await kicked.waitForEnd();
  const next = heldStatus(statusUrl(s), PAGE, 5000);
  assert.deepEqual(await next.answer, { ended: 'kicked' });
  assert.ok((await next.took) < 1000, `the kicked page heard after ${(await next.took).toFixed(0)} ms`);
  // Another page, and the same page once it has a stream again (another browser of the same
  // address is not refused), are not told.
  const other = heldStatus(statusUrl(s), OTHER_PAGE, 1000);
  assert.ok(!('ended' in (await other.answer)), 'another page was told of the kick');
  const again = await MjpegClient.open(s.url(`/stream.mjpg?viewer=${PAGE}`), { 'user-agent': 'another-browser' });
  t.after(() => again.close());
  await again.waitForParts(1);
  const later = heldStatus(statusUrl(s), PAGE, 1000);
  assert.deepEqual((await later.answer).you, { watching: 'stream', picture: { width: 320, height: 180 } });
});

test('kicking a program (a stream without a page) tells no page it was disconnected', async (t) => {
  const s = await startTestServer(t, { source: pattern() });
  const program = await MjpegClient.open(s.url('/stream.mjpg'), { 'user-agent': 'Lavf/60.16.100' });
  const page = await MjpegClient.open(s.url(`/stream.mjpg?viewer=${PAGE}`), { 'user-agent': 'a-browser' });
  t.after(() => page.close());
  await Promise.all([program.waitForParts(1), page.waitForParts(1)]);
  const held = heldStatus(statusUrl(s), PAGE, 1500);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(s.hub.kick(s.hub.viewerList().find((v) => v.userAgent.startsWith('Lavf'))?.id ?? -1), true);
  await program.waitForEnd();
  // Before, a kick of a viewer without a page told every waiting page "kicked".
  assert.deepEqual((await held.answer).you, { watching: 'stream', picture: { width: 320, height: 180 } });
  assert.ok((await held.took) >= 1400, 'the page was answered before its wait was over');
});

test('stopping ends every stream on a "stopped" picture and tells every waiting page', async (t) => {
  const s = await startTestServer(t, { source: pattern() });
  const clients = await Promise.all([PAGE, OTHER_PAGE].map((page) => MjpegClient.open(s.url(`/stream.mjpg?viewer=${page}`))));
  await Promise.all(clients.map((c) => c.waitForParts(2)));
  const held = [heldStatus(statusUrl(s), PAGE, 8000), heldStatus(statusUrl(s), OTHER_PAGE, 8000)];
  await new Promise((r) => setTimeout(r, 200));
  const started = performance.now();
  await s.close();
  t.diagnostic(`closed in ${(performance.now() - started).toFixed(0)} ms`);
  for (const h of held) assert.deepEqual(await h.answer, { ended: 'stopped' });
  for (const c of clients) await assertEndsOn(c, 'stopped', boundaryOf(c));
});

test('the window says why: a server setting restarts, a port change moves, a new key locks out', async (t) => {
  const service = await startTestService(t);
  const changes: [Farewell, () => Promise<unknown>][] = [
    ['restarting', () => service.updateSettings({ maxViewers: 7 })],
    ['new-key', () => service.newKey()],
    ['moved', async () => service.updateSettings({ port: await freePort() })],
  ];
  for (const [reason, change] of changes) {
    const link = service.getState().share.urls[0];
    const client = await MjpegClient.open(link.replace('/?', `/stream.mjpg?viewer=${PAGE}&`));
    await client.waitForParts(2);
    const held = heldStatus(link.replace('/?', '/status.json?'), PAGE, 8000);
    await new Promise((r) => setTimeout(r, 200));
    await change();
    assert.deepEqual(await held.answer, { ended: reason });
    await assertEndsOn(client, reason, boundaryOf(client));
    assert.equal(service.getState().broadcast.state, 'broadcasting');
  }
});

/** Long-polls snapshots as a viewer page in fallback does, until `signal` aborts. */
async function pollSnapshots(url: string, signal: AbortSignal): Promise<void> {
  let seq = 0;
  while (!signal.aborted) {
    const res = await fetch(`${url}&after=${seq}`, { signal }).catch(() => null);
    if (!res) break;
    if (res.status === 200) seq = Number(res.headers.get('x-frame-seq'));
    await res.arrayBuffer().catch(() => undefined);
  }
}

test('a page that long-polls snapshots is a viewer: listed as such, one viewer when it takes the stream, gone when it stops asking', async (t) => {
  const s = await startTestServer(t, { source: pattern() });
  const stop = new AbortController();
  t.after(() => stop.abort());
  const polling = pollSnapshots(s.url(`/snapshot.jpg?viewer=${PAGE}`), stop.signal);
  await eventually(() => s.hub.viewerCount === 1, 'the snapshot viewer to be a viewer');
  const status = (await (await fetch(`${statusUrl(s)}&viewer=${PAGE}`)).json()) as { clients: { via: string; framesSent: number }[]; you: unknown };
  assert.equal(status.clients.length, 1);
  assert.equal(status.clients[0].via, 'snapshots');
  assert.deepEqual(status.you, { watching: 'snapshots', picture: null });
  await eventually(() => (s.hub.viewerList()[0]?.framesSent ?? 0) >= 3, 'snapshots to count as frames sent');

  // The same page takes the stream: still one viewer, now a stream.
  stop.abort();
  await polling;
  const stream = await MjpegClient.open(s.url(`/stream.mjpg?viewer=${PAGE}`));
  t.after(() => stream.close());
  await stream.waitForParts(1);
  assert.deepEqual(s.hub.viewerList().map((v) => v.via), ['stream']);
  stream.close();
  await eventually(() => s.hub.viewerCount === 0, 'the stream to leave');

  // A snapshot viewer that stops asking leaves a little later.
  const again = new AbortController();
  const second = pollSnapshots(s.url(`/snapshot.jpg?viewer=${OTHER_PAGE}`), again.signal);
  await eventually(() => s.hub.viewerCount === 1, 'the second snapshot viewer to be a viewer');
  again.abort();
  await second;
  const stoppedAt = performance.now();
  await eventually(() => s.hub.viewerCount === 0, 'the snapshot viewer to leave', POLL_GONE_MS + 3000);
  const after = performance.now() - stoppedAt;
  assert.ok(after >= POLL_GONE_MS - 200, `the snapshot viewer left after ${after.toFixed(0)} ms`);
});

test('snapshot viewers count against the limit, and a kick answers their waiting request at once', async (t) => {
  const s = await startTestServer(t, { source: await stillSource(t), maxViewers: 1 });
  const first = await fetch(s.url(`/snapshot.jpg?viewer=${PAGE}&after=0`));
  const seq = Number(first.headers.get('x-frame-seq'));
  await first.arrayBuffer();
  // A still picture: this waits for a newer frame that does not come.
  const started = performance.now();
  const waiting = fetch(s.url(`/snapshot.jpg?viewer=${PAGE}&after=${seq}`));
  await eventually(() => s.hub.viewerCount === 1, 'the snapshot viewer to be a viewer');

  const full = await fetch(s.url(`/snapshot.jpg?viewer=${OTHER_PAGE}&after=0`));
  assert.equal(full.status, 503);
  assert.match(((await full.json()) as { error: string }).error, /limit of 1 viewers/);
  const fullStream = await fetch(s.url(`/stream.mjpg?viewer=${OTHER_PAGE}`));
  assert.equal(fullStream.status, 503);
  await fullStream.arrayBuffer();

  assert.equal(s.hub.kick(s.hub.viewerList()[0].id), true);
  const answer = await waiting;
  assert.equal(answer.status, 403);
  assert.ok(performance.now() - started < 2000, 'the waiting request was not answered at once');
  assert.match(((await answer.json()) as { error: string }).error, /the broadcaster disconnected you/);
  assert.equal(s.hub.viewerCount, 0);
});
