import {
  type CallName,
  type ControlCalls,
  type ControlClient,
  type ControlEvents,
  type EventName,
  EVENT_NAMES,
  type FrameChannel,
} from '../../server/control/contract.js';

// The browser side of the loopback WebSocket adapter (server/control/ws-server.ts): the same
// ControlClient the Electron preload gives the window, so the UI cannot tell them apart.

type Listener = (data: never) => void;

/** The part of the browser's WebSocket this client uses; Node tests pass the `ws` package's. */
type WebSocketClass = new (url: string) => WebSocket;

/** Connects to `ws://127.0.0.1:PORT/control?token=...`; resolves once the socket is open. */
export function connectControl(url: string, Socket: WebSocketClass = WebSocket): Promise<ControlClient> {
  const ws = new Socket(url);
  ws.binaryType = 'arraybuffer';
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Map<EventName, Set<Listener>>(EVENT_NAMES.map((e) => [e, new Set()]));
  let nextId = 1;

  const dispatch = <E extends EventName>(event: E, data: ControlEvents[E]): void => {
    for (const listener of listeners.get(event) ?? []) (listener as (d: ControlEvents[E]) => void)(data);
  };
  ws.addEventListener('message', (message) => {
    if (message.data instanceof ArrayBuffer) return dispatch('preview', parsePreview(message.data));
    const parsed = JSON.parse(message.data as string) as { id?: number; result?: unknown; error?: string; event?: EventName; data?: unknown };
    if (parsed.event) return dispatch(parsed.event, parsed.data as never);
    const call = pending.get(parsed.id ?? -1);
    pending.delete(parsed.id ?? -1);
    if (parsed.error !== undefined) call?.reject(new Error(parsed.error));
    else call?.resolve(parsed.result);
  });
  ws.addEventListener('close', () => {
    for (const call of pending.values()) call.reject(new Error('the connection to PushCam was lost'));
    pending.clear();
  });

  const client: ControlClient = {
    call<N extends CallName>(name: N, ...args: Parameters<ControlCalls[N]>): Promise<ReturnType<ControlCalls[N]>> {
      return new Promise((resolve, reject) => {
        if (ws.readyState !== ws.OPEN) return reject(new Error('the connection to PushCam was lost'));
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, call: name, args }));
      });
    },
    on(event, listener) {
      if (!EVENT_NAMES.includes(event)) throw new Error(`unknown event "${String(event)}"`);
      listeners.get(event)?.add(listener as Listener);
      return () => listeners.get(event)?.delete(listener as Listener);
    },
    openFrameChannel(): Promise<FrameChannel> {
      return Promise.resolve({ kind: 'websocket', url: url.replace(/\/control\?/, '/frames?') });
    },
  };
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(client), { once: true });
    ws.addEventListener('error', () => reject(new Error(`cannot reach PushCam's control channel at ${url.split('?')[0]}`)), { once: true });
  });
}

function parsePreview(data: ArrayBuffer): ControlEvents['preview'] {
  const header = new DataView(data, 0, 12);
  return {
    seq: header.getUint32(0, true),
    width: header.getUint32(4, true),
    height: header.getUint32(8, true),
    jpeg: new Uint8Array(data, 12),
  };
}

/** The control URL for a page served by the control server, from the token in its fragment. */
export function controlUrlFromLocation(location: Location): string {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  return `ws://${location.host}/control?token=${encodeURIComponent(token)}`;
}
