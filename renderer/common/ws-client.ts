import {
  type CallName,
  type ClientEvents,
  type ControlCalls,
  type ControlClient,
  EVENT_NAMES,
  type EventName,
  type FrameChannel,
  STATS_INTERVAL_MS,
} from '../../shared/contract.js';
import { parsePreview } from '../../shared/frame-format.js';

// The browser side of the loopback WebSocket adapter (server/control/ws-server.ts): the same
// ControlClient the Electron preload gives the window, so the UI cannot tell them apart. It keeps
// its link to the core: when PushCam quits (the socket closes) or stops answering (a suspended
// process keeps its socket open but sends nothing), it says 'lost', fails every call, and tries
// again until PushCam answers at the same address, then says 'connected'.

type Listener = (data: never) => void;

/** The part of the browser's WebSocket this client uses; Node tests pass the `ws` package's. */
type WebSocketClass = new (url: string) => WebSocket;

export interface ConnectionOptions {
  /** The core sends stats every STATS_INTERVAL_MS: this long without a message, it is gone. */
  silenceMs?: number;
  /** How long to wait between tries to reach it again. */
  retryMs?: number;
}

/** A ControlClient that can also be let go of (Node tests; a page just closes). */
export interface WsControlClient extends ControlClient {
  close(): void;
}

const LOST = 'the connection to PushCam was lost';

/** Connects to `ws://127.0.0.1:PORT/control?token=...`; resolves once the socket is open, rejects if the first try fails. */
export function connectControl(url: string, Socket: WebSocketClass = WebSocket, o: ConnectionOptions = {}): Promise<WsControlClient> {
  const silenceMs = o.silenceMs ?? 5 * STATS_INTERVAL_MS;
  const retryMs = o.retryMs ?? 1000;
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const names: (keyof ClientEvents)[] = [...EVENT_NAMES, 'connection'];
  const listeners = new Map<keyof ClientEvents, Set<Listener>>(names.map((e) => [e, new Set()]));
  let nextId = 1;
  /** The open socket; null while the link is lost. */
  let current: WebSocket | null = null;
  let heardAt = 0;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const dispatch = <E extends keyof ClientEvents>(event: E, data: ClientEvents[E]): void => {
    for (const listener of listeners.get(event) ?? []) (listener as (d: ClientEvents[E]) => void)(data);
  };

  /** One try: resolves with the socket once open; rejects if it closes first or opens too slowly. */
  const open = (): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new Socket(url);
      ws.binaryType = 'arraybuffer';
      const slow = setTimeout(() => ws.close(), silenceMs);
      ws.addEventListener('open', () => {
        clearTimeout(slow);
        resolve(ws);
      });
      ws.addEventListener('close', () => {
        clearTimeout(slow);
        reject(new Error(`cannot reach PushCam's control channel at ${url.split('?')[0]}`));
        drop(ws);
      });
      // A failed try also closes; the close says it.
      ws.addEventListener('error', () => undefined);
      ws.addEventListener('message', (message) => {
        if (ws === current) receive(message.data as ArrayBuffer | string);
      });
    });

  const use = (ws: WebSocket): void => {
    current = ws;
    heardAt = Date.now();
  };

  /** The link is gone (socket closed, or silent): fail the calls in flight, say so once, try again. */
  const drop = (ws: WebSocket): void => {
    if (ws !== current) return;
    current = null;
    ws.close();
    for (const call of pending.values()) call.reject(new Error(LOST));
    pending.clear();
    dispatch('connection', 'lost');
    scheduleRetry();
  };

  const scheduleRetry = (): void => {
    if (closed) return;
    retry = unref(
      setTimeout(() => {
        open().then(
          (ws) => {
            if (closed) return ws.close();
            use(ws);
            dispatch('connection', 'connected');
          },
          scheduleRetry,
        );
      }, retryMs),
    );
  };

  const receive = (data: ArrayBuffer | string): void => {
    heardAt = Date.now();
    if (data instanceof ArrayBuffer) return dispatch('preview', parsePreview(data));
    const parsed = JSON.parse(data) as { id?: number; result?: unknown; error?: string; event?: EventName; data?: unknown };
    if (parsed.event) return dispatch(parsed.event, parsed.data as never);
    const call = pending.get(parsed.id ?? -1);
    pending.delete(parsed.id ?? -1);
    if (parsed.error !== undefined) call?.reject(new Error(parsed.error));
    else call?.resolve(parsed.result);
  };

  const watchdog = unref(
    setInterval(() => {
      if (current && Date.now() - heardAt > silenceMs) drop(current);
    }, Math.max(100, silenceMs / 5)),
  );

  const client: WsControlClient = {
    call<N extends CallName>(name: N, ...args: Parameters<ControlCalls[N]>): Promise<ReturnType<ControlCalls[N]>> {
      return new Promise((resolve, reject) => {
        const ws = current;
        if (!ws || ws.readyState !== ws.OPEN) return reject(new Error(LOST));
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        ws.send(JSON.stringify({ id, call: name, args }));
      });
    },
    on(event, listener) {
      const set = listeners.get(event);
      if (!set) throw new Error(`unknown event "${String(event)}"`);
      set.add(listener as Listener);
      return () => set.delete(listener as Listener);
    },
    openFrameChannel(): Promise<FrameChannel> {
      return Promise.resolve({ kind: 'websocket', url: url.replace(/\/control\?/, '/frames?') });
    },
    close() {
      closed = true;
      clearTimeout(retry);
      clearInterval(watchdog);
      const ws = current;
      current = null;
      ws?.close();
    },
  };
  return open().then(
    (ws) => {
      use(ws);
      return client;
    },
    (err: Error) => {
      client.close();
      throw err;
    },
  );
}

/** In Node (the tests) the client's timers must not keep the process alive; browsers have no unref. */
function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/** The control URL for a page served by the control server, from the token in its fragment. */
export function controlUrlFromLocation(location: Location): string {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  return `ws://${location.host}/control?token=${encodeURIComponent(token)}`;
}
