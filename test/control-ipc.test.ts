// The Electron IPC adapter (electron/ipc.ts + the preload's client, electron/ipc-client.ts) around
// a real ControlService, over the fake Electron IPC of test/helpers/fake-ipc.ts.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { ipcChannel } from '../shared/contract.js';
import { FRAME_ACK } from '../shared/frame-format.js';
import type { InvokeEventLike } from '../electron/ipc.js';
import { APP_PAGE } from '../electron/window.js';
import { assertRefused, contractCases, nextEvent } from './helpers/contract-cases.js';
import { APP_FRAME, type IpcRig, makeIpcRig as makeRig, WINDOW_ID } from './helpers/fake-ipc.js';

async function rig(t: TestContext): Promise<IpcRig> {
  const r = await makeRig();
  t.after(r.close);
  return r;
}

contractCases(
  async () => {
    const { client, close } = await makeRig();
    return { client, close };
  },
  { prefix: 'contract over Electron IPC' },
);

test('ipc: a handler for every call and the frame port, none left after unregistering', async () => {
  const r = await makeRig();
  const channels = [...r.ipcMain.handlers.keys()].sort();
  await r.close();
  assert.deepEqual(
    channels,
    (['createGuestLink', 'getState', 'kick', 'listGuestLinks', 'newKey', 'reportCamera', 'revokeGuestLink', 'setPreview', 'start', 'stop', 'updateSettings'] as const)
      .map((name) => ipcChannel.call(name))
      .concat(ipcChannel.framePort)
      .sort(),
  );
  assert.equal(r.ipcMain.handlers.size, 0);
});

test('ipc: calls from anything but the app page in the PushCam window are refused', async (t) => {
  const r = await rig(t);
  const intruders: [string, InvokeEventLike][] = [
    ['another web page', { sender: { id: WINDOW_ID }, senderFrame: { url: 'https://example.com/', parent: null } }],
    ['a file page', { sender: { id: WINDOW_ID }, senderFrame: { url: 'file:///tmp/x.html', parent: null } }],
    ['a frame inside the app page', { sender: { id: WINDOW_ID }, senderFrame: { url: APP_PAGE, parent: APP_FRAME } }],
    ['another window', { sender: { id: WINDOW_ID + 1 }, senderFrame: APP_FRAME }],
    ['a frame that is gone', { sender: { id: WINDOW_ID }, senderFrame: null }],
  ];
  for (const [who, sender] of intruders) {
    r.window.sender = sender;
    await assertRefused(r.client.call('start'), /refused/);
    await assertRefused(r.client.openFrameChannel(), /refused/);
    assert.equal(r.service.getState().broadcast.state, 'stopped', who);
  }
});

test('ipc: the core is called with the arguments the page passed', async (t) => {
  const r = await rig(t);
  await r.client.call('updateSettings', { text: 'hello', rotate: 90 });
  const settings = r.service.getState().settings;
  assert.equal(settings.text, 'hello');
  assert.equal(settings.rotate, 90);
});

test('ipc: events stop reaching the window once it is destroyed', async (t) => {
  const r = await rig(t);
  let heard = 0;
  r.client.on('state', () => heard++);
  await r.client.call('updateSettings', { text: 'a' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(heard > 0);
  r.window.destroyed = true;
  const before = heard;
  await r.service.updateSettings({ text: 'b' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(heard, before);
});

/** Sends one frame on the page's end of the port and waits for the core's ack. */
function sendFrame(port: MessagePort, frame: unknown, transfer: Transferable[] = []): Promise<unknown> {
  return new Promise((resolve) => {
    port.addEventListener('message', (event) => resolve(event.data), { once: true });
    port.postMessage(frame, transfer);
  });
}

test('ipc: camera frames on the port reach the core and each is acked', async (t) => {
  const r = await rig(t);
  const channel = await r.client.openFrameChannel();
  assert.equal(channel.kind, 'port');
  if (channel.kind !== 'port') return;
  const port = channel.port;
  port.start();
  t.after(() => port.close());
  await r.client.call('setPreview', true);
  const preview = nextEvent(r.client, 'preview', (p) => p.width === 32 && p.height === 16);
  const pixels = new Uint8Array(32 * 16 * 4).fill(200).buffer;
  assert.equal(await sendFrame(port, { width: 32, height: 16, channels: 4, pixels }, [pixels]), FRAME_ACK);
  const frame = await preview;
  assert.equal(frame.jpeg[0], 0xff);
  assert.equal(frame.jpeg[1], 0xd8);
});

test('ipc: a malformed frame is acked too, and its reason logged once, not per frame', async (t) => {
  const r = await rig(t);
  const channel = await r.client.openFrameChannel();
  if (channel.kind !== 'port') return assert.fail('expected a port');
  const port = channel.port;
  port.start();
  t.after(() => port.close());
  const bad = { width: 32, height: 16, channels: 4, pixels: new ArrayBuffer(10) };
  for (let i = 0; i < 3; i++) assert.equal(await sendFrame(port, bad), FRAME_ACK);
  assert.equal(await sendFrame(port, 'not a frame'), FRAME_ACK);
  const refusals = r.logs.filter((line) => line.includes('camera frame refused'));
  assert.equal(refusals.length, 2, refusals.join('\n'));
  assert.match(refusals[0]!, /needs 2048 bytes of pixels, not 10/);
});

test('ipc: a new frame port replaces the old one', async (t) => {
  const r = await rig(t);
  const first = await r.client.openFrameChannel();
  const second = await r.client.openFrameChannel();
  if (first.kind !== 'port' || second.kind !== 'port') return assert.fail('expected ports');
  t.after(() => second.port.close());
  const closed = new Promise((resolve) => first.port.addEventListener('close', resolve));
  await closed;
  second.port.start();
  const pixels = new ArrayBuffer(16 * 16 * 3);
  assert.equal(await sendFrame(second.port, { width: 16, height: 16, channels: 3, pixels }), FRAME_ACK);
});
