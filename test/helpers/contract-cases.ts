// The control contract's cases, the same for both adapters: test/control-ipc.test.ts runs them
// through the Electron IPC adapter, the WebSocket adapter's test through /control. Each case gets
// a fresh client over a real ControlService, made by the adapter's test.
import assert from 'node:assert/strict';
import { test as nodeTest, type TestContext } from 'node:test';
import type { CallName, ControlClient, ControlEvents, EventName } from '../../shared/contract.js';
import { DEFAULT_SETTINGS } from '../../shared/settings-table.js';
import { busyPort, freePort } from './fixtures.js';

export interface ContractClient {
  client: ControlClient;
  close(): Promise<void>;
}

export type MakeClient = () => Promise<ContractClient>;

export interface ContractOptions {
  /** Registers every case as skipped, with this reason, where the adapter cannot run (no Electron runtime). */
  skip?: string;
  /** Prefix of each case's name, to tell the adapters apart in a report. */
  prefix?: string;
}

export function contractCases(makeClient: MakeClient, options: ContractOptions = {}): void {
  const open = async (t: TestContext): Promise<ControlClient> => {
    const { client, close } = await makeClient();
    t.after(close);
    return client;
  };
  const prefix = options.prefix ?? 'contract';
  const test = (name: string, run: (t: TestContext) => Promise<void>): void =>
    void nodeTest(`${prefix}: ${name}`, options.skip === undefined ? {} : { skip: options.skip }, run);

  test('getState answers the settings, a stopped broadcast and the key', async (t) => {
    const client = await open(t);
    const state = await client.call('getState');
    assert.equal(state.broadcast.state, 'stopped');
    assert.equal(state.broadcast.port, null);
    assert.equal(typeof state.settings.quality, 'number');
    assert.match(state.share.key, /^[A-Za-z0-9_-]{16,}$/);
    assert.deepEqual(state.share.urls, []);
    assert.deepEqual(state.viewers, []);
  });

  test('updateSettings answers the new state and tells the listeners', async (t) => {
    const client = await open(t);
    const told = nextEvent(client, 'state', (s) => s.settings.quality === 55);
    const state = await client.call('updateSettings', { quality: 55, mirror: true });
    assert.equal(state.settings.quality, 55);
    assert.equal(state.settings.mirror, true);
    assert.equal((await told).settings.quality, 55);
    assert.equal((await client.call('getState')).settings.quality, 55);
  });

  test('a bad setting is refused with a one-line reason naming it', async (t) => {
    const client = await open(t);
    await assertRefused(client.call('updateSettings', { quality: 1000 }), /^quality must be a whole number from 1 to 100$/);
    await assertRefused(client.call('updateSettings', { bogus: 1 } as never), /unknown setting "bogus"/);
    assert.equal((await client.call('getState')).settings.quality === 1000, false);
  });

  test('a capture setting change sends a capture request', async (t) => {
    const client = await open(t);
    const told = nextEvent(client, 'capture', (c) => c.intervalMs === 250);
    await client.call('updateSettings', { intervalMs: 250 });
    const request = await told;
    assert.equal(request.intervalMs, 250);
    assert.equal(typeof request.active, 'boolean');
  });

  test('start serves viewers on the chosen port, stop ends it', async (t) => {
    const client = await open(t);
    const port = await freePort();
    await client.call('updateSettings', { port, lanAccess: false });
    const started = await client.call('start');
    assert.equal(started.broadcast.state, 'broadcasting');
    assert.equal(started.broadcast.port, port);
    assert.equal(started.share.urls[0], `http://127.0.0.1:${port}/?key=${started.share.key}`);
    assert.equal(started.share.reach, 'local');
    assert.equal(started.share.qrSvg, '', 'this computer only: no QR code');
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    const stopped = await client.call('stop');
    assert.equal(stopped.broadcast.state, 'stopped');
    assert.deepEqual(stopped.share.urls, []);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  });

  test('a busy port is reported in the state with a free one suggested', async (t) => {
    const client = await open(t);
    const busy = await busyPort(t);
    await client.call('updateSettings', { port: busy, lanAccess: false });
    const state = await client.call('start');
    assert.equal(state.broadcast.state, 'error');
    assert.match(state.broadcast.error ?? '', new RegExp(`${busy}`));
    assert.equal(typeof state.broadcast.suggestedPort, 'number');
    assert.notEqual(state.broadcast.suggestedPort, busy);
  });

  test('kicking a viewer that is not there is refused', async (t) => {
    const client = await open(t);
    await assertRefused(client.call('kick', 424242), /no viewer 424242/);
    await assertRefused(client.call('kick', 'x' as never), /whole number/);
  });

  test('newKey makes a new key', async (t) => {
    const client = await open(t);
    const before = (await client.call('getState')).share.key;
    const after = (await client.call('newKey')).share.key;
    assert.notEqual(after, before);
    assert.equal((await client.call('getState')).share.key, after);
  });

  test('guest links: create answers the link with its own key, list and the state show it, revoke removes it', async (t) => {
    const client = await open(t);
    const port = await freePort();
    await client.call('updateSettings', { port, lanAccess: false });
    const main = (await client.call('start')).share.key;
    const told = nextEvent(client, 'state', (s) => s.guests.length === 1);
    const link = await client.call('createGuestLink', { name: ' Grandma ', expiresInMs: 3_600_000, oneViewer: true });
    assert.equal(link.name, 'Grandma', 'the name, trimmed');
    assert.equal(link.oneViewer, true);
    assert.equal(link.expired, false);
    assert.ok(link.expiresAt !== null && Math.abs(link.expiresAt - Date.now() - 3_600_000) < 5000);
    assert.equal(link.keyKnown, true);
    const key = new URL(link.url).searchParams.get('key') ?? '';
    assert.match(key, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(key, main);
    assert.equal(link.qrSvg, '', 'this computer only: no QR code');
    assert.deepEqual((await told).guests.map((g) => g.id), [link.id]);
    const never = await client.call('createGuestLink', { name: 'Kitchen tablet', expiresInMs: null, oneViewer: false });
    assert.equal(never.expiresAt, null);
    assert.deepEqual((await client.call('listGuestLinks')).map((g) => g.name), ['Grandma', 'Kitchen tablet']);
    assert.equal((await fetch(`http://127.0.0.1:${port}/status.json?key=${key}`)).status, 200);

    const state = await client.call('revokeGuestLink', link.id);
    assert.deepEqual(state.guests.map((g) => g.id), [never.id]);
    assert.deepEqual((await client.call('listGuestLinks')).map((g) => g.id), [never.id]);
    assert.equal((await fetch(`http://127.0.0.1:${port}/status.json?key=${key}`)).status, 401);
    await assertRefused(client.call('revokeGuestLink', link.id), new RegExp(`^no guest link "${link.id}"$`));
  });

  test('guest links: bad arguments are refused with a one-line reason, and nothing is made', async (t) => {
    const client = await open(t);
    const spec = { name: 'Grandma', expiresInMs: null, oneViewer: false };
    const bad: [unknown, RegExp][] = [
      ['Grandma', /^guest link must be an object$/],
      [null, /^guest link must be an object$/],
      [[spec], /^guest link must be an object$/],
      [{ ...spec, key: 'mine' }, /^guest link has no field "key"$/],
      [{ ...spec, name: '' }, /^name must say who the link is for$/],
      [{ ...spec, name: '   ' }, /^name must say who the link is for$/],
      [{ ...spec, name: 'x'.repeat(61) }, /^name must be text of at most 60 characters$/],
      [{ ...spec, name: 'two\nlines' }, /^name must be one line of text$/],
      [{ ...spec, name: 7 }, /^name must be text/],
      [{ ...spec, expiresInMs: 10 }, /^expiresInMs must be a whole number from 1000 to 31622400000$/],
      [{ ...spec, expiresInMs: 1.5e3 + 0.5 }, /^expiresInMs must be a whole number/],
      [{ ...spec, expiresInMs: '1h' }, /^expiresInMs must be a whole number/],
      [{ ...spec, oneViewer: 'yes' }, /^oneViewer must be true or false$/],
      [{ name: 'Grandma', expiresInMs: null }, /^oneViewer must be true or false$/],
    ];
    for (const [arg, reason] of bad) await assertRefused(client.call('createGuestLink', arg as never), reason);
    for (const id of [1, '', 'x'.repeat(12), '../../etc/pa', null]) {
      await assertRefused(client.call('revokeGuestLink', id as never), /^id must be a guest link's id/);
    }
    await assertRefused((client.call as (name: string, ...args: unknown[]) => Promise<unknown>)('listGuestLinks', 1), /^listGuestLinks takes no arguments, not 1$/);
    assert.deepEqual(await client.call('listGuestLinks'), []);
  });

  test('setPreview and reportCamera answer nothing; bad arguments are refused', async (t) => {
    const client = await open(t);
    assert.equal(await client.call('setPreview', true), undefined);
    assert.equal(await client.call('setPreview', false), undefined);
    assert.equal(await client.call('reportCamera', { state: 'idle' }), undefined);
    await assertRefused(client.call('setPreview', 'yes' as never), /true or false/);
  });

  test('a setting name that is not its own is refused and never saved: inherited names and __proto__', async (t) => {
    const client = await open(t);
    for (const name of ['isPrototypeOf', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
      await assertRefused(client.call('updateSettings', JSON.parse(`{"${name}": 1}`) as never), new RegExp(`^unknown setting "${name}"$`));
    }
    const settings = (await client.call('getState')).settings;
    assert.deepEqual(Object.keys(settings).filter((name) => !Object.hasOwn(DEFAULT_SETTINGS, name)), []);
  });

  test('a camera report is checked before the core sees it: shape, kinds and sizes', async (t) => {
    const client = await open(t);
    const bad: [unknown, RegExp][] = [
      // An object where text belongs: accepted before, it ended PushCam at its next state event.
      [{ state: 'error', fault: 'busy', message: { toString: 1 } }, /^report\.message must be text/],
      // 9000x9000 made the core draw its "camera unavailable" picture that size: RSS 82 -> 341 MB.
      [{ state: 'capturing', label: 'cam', width: 9000, height: 9000 }, /^report\.width must be a whole number from 0 to 3840$/],
      [{ state: 'capturing', label: 'cam', width: 640, height: 480.5 }, /^report\.height must be a whole number/],
      [{ state: 'capturing', label: 'x'.repeat(513), width: 640, height: 480 }, /^report\.label must be text of at most 512 characters$/],
      [{ state: 'error', fault: 'gremlins', message: 'x' }, /^report\.fault must be one of denied, busy, missing, unplugged, other$/],
      [{ state: 'idle', extra: 1 }, /^report has no field "extra"$/],
      [{ state: 'asleep' }, /^report\.state must be capturing, idle or error$/],
      [[{ state: 'idle' }], /^report must be an object$/],
      ['idle', /^report must be an object$/],
      [null, /^report must be an object$/],
    ];
    for (const [report, reason] of bad) await assertRefused(client.call('reportCamera', report as never), reason);
    assert.notEqual((await client.call('getState')).source.state, 'error', 'no refused report reached the camera source');
  });

  test('each call takes its own number of arguments', async (t) => {
    const client = await open(t);
    const call = client.call as (name: string, ...args: unknown[]) => Promise<unknown>;
    await assertRefused(call('getState', 1), /^getState takes no arguments, not 1$/);
    await assertRefused(call('kick'), /^kick takes 1 argument, not 0$/);
    await assertRefused(call('setPreview', true, true), /^setPreview takes 1 argument, not 2$/);
    await assertRefused(call('kick', 1.5), /^viewerId must be a whole number$/);
    assert.equal((await client.call('getState')).broadcast.state, 'stopped');
  });

  test('a name outside the contract is refused', async (t) => {
    const client = await open(t);
    await assertRefused(client.call('close' as CallName), /close/);
    assert.throws(() => client.on('bogus' as EventName, () => undefined), /bogus/);
  });

  test('stats arrive every second; an unsubscribed listener hears nothing more', async (t) => {
    const client = await open(t);
    const stats = await nextEvent(client, 'stats', () => true, 3000);
    assert.equal(typeof stats.captureFps, 'number');
    let heard = 0;
    const unsubscribe = client.on('state', () => heard++);
    const stillListening = nextEvent(client, 'state', (s) => s.settings.text === 'two');
    await client.call('updateSettings', { text: 'one' });
    unsubscribe();
    const before = heard;
    await client.call('updateSettings', { text: 'two' });
    await stillListening;
    assert.equal(heard, before);
  });

  test('openFrameChannel answers where camera frames go', async (t) => {
    const client = await open(t);
    const channel = await client.openFrameChannel();
    assert.ok(channel.kind === 'port' || channel.kind === 'websocket');
    if (channel.kind === 'port') channel.port.close();
  });
}

/** The next `event` that `match` accepts; fails after `timeoutMs`. */
export function nextEvent<E extends EventName>(
  client: ControlClient,
  event: E,
  match: (data: ControlEvents[E]) => boolean,
  timeoutMs = 5000,
): Promise<ControlEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const unsubscribe = client.on(event, (data) => {
      if (!match(data)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(data);
    });
  });
}

/** A call that must fail with a one-line reason matching `reason`. */
export async function assertRefused(call: Promise<unknown>, reason: RegExp): Promise<void> {
  await assert.rejects(call, (err: Error) => {
    assert.ok(err instanceof Error, 'rejects with an Error');
    assert.doesNotMatch(err.message, /\n/, 'one line');
    assert.match(err.message, reason);
    return true;
  });
}


