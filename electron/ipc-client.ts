// The window's half of the Electron IPC adapter: a ControlClient over ipcRenderer. No Electron
// import: the preload passes the real ipcRenderer in, the tests a fake one.
import {
  CALL_NAMES,
  type CallName,
  type CallReply,
  type ClientEvents,
  type ControlCalls,
  type ControlClient,
  EVENT_NAMES,
  type EventName,
  type FrameChannel,
  ipcChannel,
} from '../shared/contract.js';

export interface IpcRendererEventLike {
  readonly ports: readonly MessagePort[];
}

type IpcListener = (event: IpcRendererEventLike, ...args: unknown[]) => void;

/** The parts of Electron's ipcRenderer the client uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: IpcListener): unknown;
  removeListener(channel: string, listener: IpcListener): unknown;
}

export function createIpcClient(ipc: IpcRendererLike): ControlClient {
  const listeners = new Map<EventName, Set<(data: unknown) => void>>();
  let dispatching = false;
  let framePortQueue: Promise<unknown> = Promise.resolve();

  const dispatch: IpcListener = (_event, name, data) => {
    for (const listener of listeners.get(name as EventName) ?? []) listener(data);
  };

  return {
    async call<N extends CallName>(name: N, ...args: Parameters<ControlCalls[N]>): Promise<ReturnType<ControlCalls[N]>> {
      if (!CALL_NAMES.includes(name)) throw new Error(`"${String(name)}" is not a PushCam call`);
      return unwrap(await ipc.invoke(ipcChannel.call(name), ...args)) as ReturnType<ControlCalls[N]>;
    },

    on<E extends keyof ClientEvents>(event: E, listener: (data: ClientEvents[E]) => void): () => void {
      // The core is this app: the link to it is never lost, so 'connection' never comes.
      if (event === 'connection') return () => undefined;
      if (!EVENT_NAMES.includes(event as EventName)) throw new Error(`"${String(event)}" is not a PushCam event`);
      if (!dispatching) {
        ipc.on(ipcChannel.event, dispatch);
        dispatching = true;
      }
      const forEvent = listeners.get(event as EventName) ?? new Set();
      listeners.set(event as EventName, forEvent);
      const untyped = listener as (data: unknown) => void;
      forEvent.add(untyped);
      return () => forEvent.delete(untyped);
    },

    // One request at a time: each new port replaces the last, so two in flight would both take the first.
    openFrameChannel(): Promise<FrameChannel> {
      const next = framePortQueue.then(() => requestFramePort(ipc));
      framePortQueue = next.catch(() => undefined);
      return next;
    },
  };
}

/** Asks the main process for a frame port and waits for it to arrive on ipcChannel.framePort. */
function requestFramePort(ipc: IpcRendererLike): Promise<FrameChannel> {
  return new Promise((resolve, reject) => {
    const onPort: IpcListener = (event) => {
      ipc.removeListener(ipcChannel.framePort, onPort);
      const port = event.ports[0];
      if (port) resolve({ kind: 'port', port });
      else reject(new Error('the frame port message carried no port'));
    };
    ipc.on(ipcChannel.framePort, onPort);
    ipc
      .invoke(ipcChannel.framePort)
      .then(unwrap)
      .catch((err: unknown) => {
        ipc.removeListener(ipcChannel.framePort, onPort);
        reject(err instanceof Error ? err : new Error(String(err)));
      });
  });
}

function unwrap(reply: unknown): unknown {
  const r = reply as CallReply;
  if (r.ok) return r.value;
  throw new Error(r.error);
}

/** What the preload hands to the page: the contract's functions, and a way to get the frame port. */
export interface PageBridge {
  call: ControlClient['call'];
  on: ControlClient['on'];
  /** Fetches a frame port and posts it to the page's window with `portTag` as the message. */
  postFramePort(): Promise<void>;
}

/**
 * Runs in the page's own world (contextBridge.executeInMainWorld) and defines `window.pushcam`.
 * A MessagePort cannot be returned through the context bridge, so the preload posts it to the
 * window, where this picks it up and resolves openFrameChannel() with it. Self-contained: Electron
 * serializes this function, so it may use nothing from the module around it.
 */
export function installPageClient(bridge: PageBridge, portTag: string): void {
  // Ports arrive in the order they were asked for (the preload asks one at a time).
  const waiting: ((channel: FrameChannel) => void)[] = [];
  window.addEventListener('message', (event: MessageEvent) => {
    if (event.source !== window || event.data !== portTag || event.ports.length !== 1) return;
    waiting.shift()?.({ kind: 'port', port: event.ports[0] });
  });
  const openFrameChannel = (): Promise<FrameChannel> =>
    new Promise((resolve, reject) => {
      waiting.push(resolve);
      bridge.postFramePort().catch((err: unknown) => {
        waiting.splice(waiting.indexOf(resolve), 1);
        reject(err);
      });
    });
  const client: ControlClient = Object.freeze({ call: bridge.call, on: bridge.on, openFrameChannel });
  Object.defineProperty(window, 'pushcam', { value: client, enumerable: true });
}
