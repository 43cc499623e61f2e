// The main process's half of the Electron IPC adapter: one ipcMain handler per contract call,
// every event relayed to the window, camera frames on a MessagePort. Written against the small
// interfaces below, which Electron's ipcMain / WebContents / MessagePortMain satisfy and which a
// test can fake; this file does not import Electron.
import type { EventEmitter } from 'node:events';
import {
  CALL_NAMES,
  type CallReply,
  CORE_EVENT_NAMES,
  type CoreHandlers,
  type CoreEvents,
  type EventName,
  ipcChannel,
} from '../shared/contract.js';
import { callCore, oneLine } from '../server/control/calls.js';
import { type CameraFrame, FRAME_ACK, frameFromPortMessage, type PreviewFrame } from '../shared/frame-format.js';
import type { Sink } from '../server/hub/consumer.js';
import type { WindowPreview } from '../server/control/service.js';
import { isAppUrl } from './window.js';

export interface FrameLike {
  readonly url: string;
  readonly parent: FrameLike | null;
}

export interface InvokeEventLike {
  readonly sender: { readonly id: number };
  /** null when the frame navigated away or was destroyed before the call arrived. */
  readonly senderFrame: FrameLike | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => unknown): void;
  removeHandler(channel: string): void;
}

/** The main process's end of a frame channel (MessagePortMain). */
export interface FramePortLike {
  on(event: 'message', listener: (message: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}

/** `Port` is what travels to the window: MessagePortMain in Electron. */
export interface WebContentsLike<Port> {
  readonly id: number;
  isDestroyed(): boolean;
  send(channel: string, ...args: unknown[]): void;
  postMessage(channel: string, message: unknown, transfer?: Port[]): void;
}

export type ControlEventMap = { [E in keyof CoreEvents]: [CoreEvents[E]] };

/** The core as the adapter sees it: ControlService. */
export interface ControlCore extends CoreHandlers, Pick<EventEmitter<ControlEventMap>, 'on' | 'off'> {
  acceptFrame(frame: CameraFrame): void;
  openPreview(sink: Sink): WindowPreview;
}

export interface IpcAdapterOptions<Port> {
  ipcMain: IpcMainLike;
  core: ControlCore;
  /** The PushCam window's contents: the only sender trusted, the only receiver of events. */
  webContents: WebContentsLike<Port>;
  createChannel(): { port1: FramePortLike; port2: Port };
  log(line: string): void;
}

/** Registers the adapter; the function it returns unregisters it. */
export function registerIpc<Port>(o: IpcAdapterOptions<Port>): () => void {
  const checkSender = (event: InvokeEventLike): void => assertTrustedSender(event, o.webContents.id);
  const preview = o.core.openPreview(previewSink(o.webContents));
  for (const name of CALL_NAMES) {
    o.ipcMain.handle(ipcChannel.call(name), (event, ...args) =>
      reply(() => {
        checkSender(event);
        return callCore(o.core, preview, name, args);
      }),
    );
  }
  let framePort: FramePortLike | null = null;
  o.ipcMain.handle(ipcChannel.framePort, (event) =>
    reply(() => {
      checkSender(event);
      framePort?.close();
      framePort = openFramePort(o);
    }),
  );
  const stopRelaying = CORE_EVENT_NAMES.map((name) => relayEvent(o.core, name, o.webContents));
  return () => {
    for (const name of CALL_NAMES) o.ipcMain.removeHandler(ipcChannel.call(name));
    o.ipcMain.removeHandler(ipcChannel.framePort);
    for (const stop of stopRelaying) stop();
    preview.close();
    framePort?.close();
  };
}

/** Calls are taken only from the app's own page, in the main frame of the PushCam window. */
function assertTrustedSender(event: InvokeEventLike, windowContentsId: number): void {
  const frame = event.senderFrame;
  if (event.sender.id !== windowContentsId || frame === null || frame.parent !== null || !isAppUrl(frame.url)) {
    throw new Error('refused: the call did not come from the PushCam window');
  }
}

async function reply(run: () => unknown): Promise<CallReply> {
  try {
    return { ok: true, value: await run() };
  } catch (err) {
    return { ok: false, error: oneLine(err) };
  }
}

function relayEvent<Port>(core: ControlCore, name: keyof CoreEvents, contents: WebContentsLike<Port>): () => void {
  const send = (data: unknown): void => sendEvent(contents, name, data);
  core.on(name, send);
  return () => core.off(name, send);
}

/**
 * The window's preview over IPC. Never behind: Electron tells nothing of what the window has yet
 * to take (webContents.send has no backlog figure and no callback), so the rate cap alone bounds it.
 */
function previewSink<Port>(contents: WebContentsLike<Port>): Sink {
  return {
    send: ({ seq, width, height, jpeg }) => sendEvent(contents, 'preview', { seq, width, height, jpeg } satisfies PreviewFrame),
    behindMs: () => 0,
  };
}

function sendEvent<Port>(contents: WebContentsLike<Port>, name: EventName, data: unknown): void {
  if (!contents.isDestroyed()) contents.send(ipcChannel.event, name, data);
}

/**
 * A new frame channel: port1 stays here and feeds the core, port2 goes to the window. Every
 * frame is acked, refused or not, so the capture side never stalls; a refusal is logged when its
 * reason differs from the last one, not once per frame.
 */
function openFramePort<Port>(o: IpcAdapterOptions<Port>): FramePortLike {
  const { port1, port2 } = o.createChannel();
  let lastRefusal = '';
  port1.on('message', ({ data }) => {
    try {
      o.core.acceptFrame(frameFromPortMessage(data));
      lastRefusal = '';
    } catch (err) {
      const reason = oneLine(err);
      if (reason !== lastRefusal) o.log(`camera frame refused: ${reason}`);
      lastRefusal = reason;
    }
    port1.postMessage(FRAME_ACK);
  });
  port1.start();
  o.webContents.postMessage(ipcChannel.framePort, null, [port2]);
  return port1;
}
