// The Electron IPC adapter (electron/ipc.ts + the preload's client, electron/ipc-client.ts) around
// a real ControlService, carried by a fake ipcMain/webContents/ipcRenderer trio that behaves like
// Electron's where it matters: structured-cloned arguments and answers, asynchronous delivery,
// the sender's frame on every call, ports transferred with postMessage.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MessageChannel, type MessagePort as NodeMessagePort } from 'node:worker_threads';
import { type ControlClient, FRAME_ACK, ipcChannel } from '../server/control/contract.js';
import { ControlService } from '../server/control/service.js';
import { type FrameLike, type FramePortLike, type IpcMainLike, type InvokeEventLike, registerIpc, type WebContentsLike } from '../electron/ipc.js';
import { createIpcClient, type IpcRendererEventLike, type IpcRendererLike } from '../electron/ipc-client.js';
import { APP_PAGE } from '../electron/window.js';
import { assertRefused, contractCases, nextEvent } from './helpers/contract-cases.js';

type RendererListener = (event: IpcRendererEventLike, ...args: unknown[]) => void;
type Handler = (event: InvokeEventLike, ...args: unknown[]) => unknown;

const APP_FRAME: FrameLike = { url: APP_PAGE, parent: null };
const WINDOW_ID = 7;

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler): void {
    if (this.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
}

/** The window: its webContents (main side) and its ipcRenderer (page side). */
class FakeWindow implements WebContentsLike<NodeMessagePort> {
  readonly id = WINDOW_ID;
  destroyed = false;
  /** Who the page's calls appear to come from; a test changes it to play an intruder. */
  sender: InvokeEventLike = { sender: { id: WINDOW_ID }, senderFrame: APP_FRAME };
  private readonly listeners = new Map<string, Set<RendererListener>>();

  constructor(private readonly ipcMain: FakeIpcMain) {}

  isDestroyed(): boolean {
    return this.destroyed;
  }
  send(channel: string, ...args: unknown[]): void {
    this.deliver(channel, [], structuredClone(args));
  }
  postMessage(channel: string, message: unknown, transfer: NodeMessagePort[] = []): void {
    this.deliver(channel, transfer as unknown as MessagePort[], [structuredClone(message)]);
  }

  readonly renderer: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      const handler = this.ipcMain.handlers.get(channel);
      if (!handler) throw new Error(`No handler registered for '${channel}'`);
      await Promise.resolve();
      return structuredClone(await handler(this.sender, ...structuredClone(args)));
    },
    on: (channel, listener) => {
      const set = this.listeners.get(channel) ?? new Set();
      this.listeners.set(channel, set.add(listener));
    },
    removeListener: (channel, listener) => this.listeners.get(channel)?.delete(listener),
  };

  private deliver(channel: string, ports: MessagePort[], args: unknown[]): void {
    setImmediate(() => {
      for (const listener of this.listeners.get(channel) ?? []) listener({ ports }, ...args);
    });
  }
}

/**
 * worker_threads ports are not shaped like MessagePortMain: their 'message' listeners get the
 * data itself, Electron's get `{ data, ports }`. This wraps port1 the Electron way.
 */
function electronStylePort(port: NodeMessagePort): FramePortLike {
  return {
    on: (_event, listener) => port.on('message', (data: unknown) => listener({ data })),
    postMessage: (message) => port.postMessage(message),
    start: () => port.start(),
    close: () => port.close(),
  };
}

interface Rig {
  service: ControlService;
  window: FakeWindow;
  ipcMain: FakeIpcMain;
  client: ControlClient;
  logs: string[];
  close(): Promise<void>;
}

async function makeRig(): Promise<Rig> {
  const dir = await mkdtemp(join(tmpdir(), 'pushcam-ipc-'));
  const logs: string[] = [];
  const log = (line: string): void => void logs.push(line);
  const service = await ControlService.create({ settingsFile: join(dir, 'settings.json'), configDir: dir, captureInWindow: true, log });
  const ipcMain = new FakeIpcMain();
  const window = new FakeWindow(ipcMain);
  const ports: NodeMessagePort[] = [];
  const createChannel = (): { port1: FramePortLike; port2: NodeMessagePort } => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    return { port1: electronStylePort(port1), port2 };
  };
  const unregister = registerIpc({ ipcMain, core: service, webContents: window, createChannel, log });
  const close = async (): Promise<void> => {
    unregister();
    for (const port of ports) port.close();
    await service.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { service, window, ipcMain, client: createIpcClient(window.renderer), logs, close };
}

async function rig(t: TestContext): Promise<Rig> {
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
    (['getState', 'kick', 'newKey', 'reportCamera', 'setPreview', 'start', 'stop', 'updateSettings'] as const)
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
