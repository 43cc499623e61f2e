// A soak load process (forked by test/soak/soak.ts): the clients of one or more roles, on raw
// sockets, each role from its own loopback addresses. Steady viewers read every byte; stalled
// viewers stop reading and come back when PushCam drops them; churn connects and leaves (a third
// with a reset); long-polls hold /status.json?viewer=TOKEN&wait=MS open and ask again at once;
// the slowloris opens half-sent requests from one address, adds a header line now and then, and
// reconnects whenever PushCam closes one.
import { connect, type Socket } from 'node:net';
import { FrameCounter } from './frames.js';

export interface LoadPlan {
  port: number;
  key: string;
  steady: number;
  stalled: number;
  /** Connect/disconnect cycles, spread over `durationMs`. */
  churn: number;
  longPolls: number;
  /** The `wait` of each long-poll, ms. */
  waitMs: number;
  slowloris: number;
  /** How long churn and slowloris last; viewers and long-polls stay until told to stop. */
  durationMs: number;
}

/** What a load process has seen so far. */
export interface LoadStats {
  type: 'stats';
  /** Frames each steady viewer has received (boundaries counted). */
  steadyFrames: number[];
  /** Steady viewers whose stream ended or failed (they reconnect). */
  steadyLost: number;
  /** Stalled viewers PushCam dropped (each came back and stalled again). */
  stalledDropped: number;
  churnDone: number;
  churnResets: number;
  /** Churn connections that got no stream head. */
  churnRefused: number;
  longPollAnswers: number;
  /** Long-poll answers that were not 200, or connections lost without one. */
  longPollFailures: number;
  /** Long-poll requests waiting for an answer right now. */
  longPollsOpen: number;
  slowlorisOpened: number;
  /** Slowloris connections open right now; the most that PushCam kept open for over a second at once. */
  slowlorisOpen: number;
  slowlorisHeldPeak: number;
}

export type ToLoad = { type: 'plan'; plan: LoadPlan } | { type: 'sample' } | { type: 'stop' };
export type FromLoad = { type: 'ready' } | LoadStats;

/** The loopback addresses of a role: `127.0.<block>.<1..>`, `perAddress` clients each. */
function address(block: number, index: number, perAddress = 10): string {
  return `127.0.${block}.${1 + Math.floor(index / perAddress)}`;
}

const stats: LoadStats = {
  ...{ type: 'stats' as const, steadyFrames: [] as number[], steadyLost: 0, stalledDropped: 0, churnDone: 0, churnResets: 0, churnRefused: 0 },
  ...{ longPollAnswers: 0, longPollFailures: 0, longPollsOpen: 0, slowlorisOpened: 0, slowlorisOpen: 0, slowlorisHeldPeak: 0 },
};
const sockets = new Set<Socket>();
let stopping = false;

function open(port: number, localAddress: string): Socket {
  const socket = connect({ host: '127.0.0.1', port, localAddress });
  sockets.add(socket);
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
  return socket;
}

const later = (ms: number, run: () => void): void => {
  if (!stopping) setTimeout(() => !stopping && run(), ms).unref();
};

function streamRequest(plan: LoadPlan): string {
  return `GET /stream.mjpg?compat=advance&key=${plan.key} HTTP/1.1\r\nHost: 127.0.0.1:${plan.port}\r\n\r\n`;
}

/** Frames of each steady viewer's ended connections, and the counter of its open one. */
const steadyEnded: number[] = [];
const steadyLive: (FrameCounter | null)[] = [];

/** A viewer that reads everything and counts frames; `ready` once its stream has started. */
function steadyViewer(plan: LoadPlan, index: number, ready: () => void): void {
  const socket = open(plan.port, address(1, index));
  steadyEnded[index] ??= 0;
  const frames = (steadyLive[index] = new FrameCounter());
  socket.on('connect', () => socket.write(streamRequest(plan)));
  socket.on('data', (data: Buffer) => {
    const started = frames.started;
    frames.push(data);
    if (!started && frames.started) ready();
  });
  socket.on('close', () => {
    steadyEnded[index] += frames.boundaries;
    steadyLive[index] = null;
    if (stopping) return;
    stats.steadyLost++;
    later(1000, () => steadyViewer(plan, index, () => undefined));
  });
}

/** A viewer that reads the head and then nothing; dropped by PushCam's send timeout, it comes back. */
function stalledViewer(plan: LoadPlan, index: number): void {
  const socket = open(plan.port, address(2, index));
  // A paused socket does not see PushCam close it; a write does (the second one after fails). A
  // line end between requests is skipped by Node's parser, so it costs the server nothing.
  let probe: NodeJS.Timeout | undefined;
  socket.on('connect', () => socket.write(streamRequest(plan)));
  socket.once('data', () => {
    socket.pause();
    probe = setInterval(() => socket.write('\r\n'), 1000);
  });
  socket.on('close', () => {
    clearInterval(probe);
    stats.stalledDropped++;
    later(1000, () => stalledViewer(plan, index));
  });
}

/** Connect, wait for the stream's head (at most 2 s), leave: every third with a reset. */
function churnCycle(plan: LoadPlan, index: number): void {
  const socket = open(plan.port, address(4, index % 500));
  let done = false;
  const leave = (gotHead: boolean): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    stats.churnDone++;
    if (!gotHead) stats.churnRefused++;
    if (index % 3 === 0) {
      stats.churnResets++;
      socket.resetAndDestroy();
    } else {
      socket.destroy();
    }
  };
  const timer = setTimeout(() => leave(false), 2000);
  socket.on('connect', () => socket.write(streamRequest(plan)));
  socket.once('data', () => leave(true));
  socket.on('close', () => leave(false));
}

function churn(plan: LoadPlan): void {
  const started = performance.now();
  let launched = 0;
  const tick = setInterval(() => {
    // All launched by 90 % of the time, so that every cycle is done before the soak ends.
    const due = Math.min(plan.churn, Math.ceil(((performance.now() - started) / (plan.durationMs * 0.9)) * plan.churn));
    while (launched < due && !stopping) churnCycle(plan, launched++);
    if (launched >= plan.churn || stopping) clearInterval(tick);
  }, 20);
}

/** One page's long-poll, asked again as soon as it is answered, on one kept-alive connection. */
function longPoll(plan: LoadPlan, index: number): void {
  const socket = open(plan.port, address(3, index));
  const token = `soakpage${String(index).padStart(5, '0')}`;
  const ask = (): void => {
    stats.longPollsOpen++;
    socket.write(`GET /status.json?viewer=${token}&wait=${plan.waitMs}&key=${plan.key} HTTP/1.1\r\nHost: 127.0.0.1:${plan.port}\r\n\r\n`);
  };
  let buffer = Buffer.alloc(0);
  socket.on('connect', ask);
  socket.on('data', (data: Buffer) => {
    buffer = Buffer.concat([buffer, data]);
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.subarray(0, end).toString('latin1');
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (buffer.length < end + 4 + length) return;
      buffer = buffer.subarray(end + 4 + length);
      stats.longPollsOpen--;
      if (/^HTTP\/1\.1 200 /.test(head)) stats.longPollAnswers++;
      else stats.longPollFailures++;
      if (!stopping) ask();
    }
  });
  socket.on('close', () => {
    if (stopping) return;
    // Lost with a request open: that request failed. Come back, as a viewer page does.
    if (stats.longPollsOpen > 0) {
      stats.longPollsOpen--;
      stats.longPollFailures++;
    }
    later(1000, () => longPoll(plan, index));
  });
}

/** When each open slowloris connection was made: a connection closed as it arrives is open on this side for a moment. */
const slowlorisSince = new Map<Socket, number>();

function countHeldSlowloris(): void {
  const now = performance.now();
  let held = 0;
  for (const since of slowlorisSince.values()) if (now - since > 1000) held++;
  stats.slowlorisHeldPeak = Math.max(stats.slowlorisHeldPeak, held);
}

/** A half-sent request from 127.0.0.2, a header line every 5 s; reconnects when closed, backing off when refused at once. */
function slowlorisConnection(plan: LoadPlan, until: number, backoffMs = 1000): void {
  if (performance.now() > until) return;
  const socket = open(plan.port, '127.0.0.2');
  const opened = performance.now();
  let drip: NodeJS.Timeout | undefined;
  let connected = false;
  socket.on('connect', () => {
    connected = true;
    stats.slowlorisOpened++;
    stats.slowlorisOpen++;
    slowlorisSince.set(socket, performance.now());
    socket.write(`GET /stream.mjpg?key=${plan.key} HTTP/1.1\r\nHost: 127.0.0.1:${plan.port}\r\n`);
    drip = setInterval(() => socket.write(`X-Slow-${Math.floor(Math.random() * 1e6)}: x\r\n`), 5000);
  });
  socket.on('close', () => {
    clearInterval(drip);
    slowlorisSince.delete(socket);
    if (connected) stats.slowlorisOpen--;
    const lasted = performance.now() - opened;
    const next = lasted < 1000 ? Math.min(backoffMs * 2, 5000) : 1000;
    later(next + Math.random() * 500, () => slowlorisConnection(plan, until, next));
  });
}

async function run(plan: LoadPlan): Promise<void> {
  let started = 0;
  const allStarted = new Promise<void>((resolve) => {
    if (plan.steady === 0) resolve();
    for (let i = 0; i < plan.steady; i++) steadyViewer(plan, i, () => ++started === plan.steady && resolve());
  });
  for (let i = 0; i < plan.stalled; i++) stalledViewer(plan, i);
  for (let i = 0; i < plan.longPolls; i++) longPoll(plan, i);
  if (plan.churn > 0) churn(plan);
  const until = performance.now() + plan.durationMs;
  for (let i = 0; i < plan.slowloris; i++) slowlorisConnection(plan, until);
  if (plan.slowloris > 0) setInterval(countHeldSlowloris, 1000).unref();
  await allStarted;
  process.send?.({ type: 'ready' } satisfies FromLoad);
}

function sample(): LoadStats {
  return { ...stats, steadyFrames: steadyEnded.map((ended, i) => ended + (steadyLive[i]?.boundaries ?? 0)) };
}

process.on('message', (message: ToLoad) => {
  if (message.type === 'plan') void run(message.plan);
  if (message.type === 'sample') process.send?.(sample());
  if (message.type === 'stop') {
    process.send?.(sample());
    stopping = true;
    for (const socket of sockets) socket.destroy();
    setTimeout(() => process.exit(0), 100);
  }
});
// Never outlive the soak.
process.on('disconnect', () => process.exit(0));
