import './offline.js';
// The Electron IPC adapter (electron/ipc.ts + the preload's client, electron/ipc-client.ts) around
// a real ControlService, carried by a fake ipcMain/webContents/ipcRenderer trio that behaves like
// Electron's where it matters: structured-cloned arguments and answers, asynchronous delivery,
// the sender's frame on every call, ports transferred with postMessage. Used by the adapter's
// tests and by the control fuzz (test/fuzz/control.ts).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel, type MessagePort as NodeMessagePort } from 'node:worker_threads';
import type { ControlClient } from '../../shared/contract.js';
import { ControlService, type ControlServiceOptions } from '../../server/control/service.js';
import { type FrameLike, type FramePortLike, type IpcMainLike, type InvokeEventLike, registerIpc, type WebContentsLike } from '../../electron/ipc.js';
import { createIpcClient, type IpcRendererEventLike, type IpcRendererLike } from '../../electron/ipc-client.js';
import { APP_PAGE } from '../../electron/window.js';

type RendererListener = (event: IpcRendererEventLike, ...args: unknown[]) => void;
type Handler = (event: InvokeEventLike, ...args: unknown[]) => unknown;

export const APP_FRAME: FrameLike = { url: APP_PAGE, parent: null };
export const WINDOW_ID = 7;

export class FakeIpcMain implements IpcMainLike {
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
export class FakeWindow implements WebContentsLike<NodeMessagePort> {
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

export interface IpcRig {
  service: ControlService;
  window: FakeWindow;
  ipcMain: FakeIpcMain;
  client: ControlClient;
  logs: string[];
  close(): Promise<void>;
}

export async function makeIpcRig(options: Partial<ControlServiceOptions> = {}): Promise<IpcRig> {
  const dir = await mkdtemp(join(tmpdir(), 'pushcam-ipc-'));
  const logs: string[] = [];
  const log = (line: string): void => void logs.push(line);
  const service = await ControlService.create({ settingsFile: join(dir, 'settings.json'), configDir: dir, captureInWindow: true, log, ...options });
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
