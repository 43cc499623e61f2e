// The soak: `pushcam serve` (test pattern, 320x240 at 10 fps) in its own process under hours'
// worth of abuse in minutes, from two load processes (test/soak/load.ts): steady viewers,
// viewers that stop reading, connect/disconnect churn (a third ended with a reset), concurrent
// long-polls, and a slowloris from one address (127.0.0.2). Meanwhile a new viewer from another
// address (127.0.0.1) asks for the stream every couple of seconds. Promises: the process stays up;
// steady viewers get >= 95 % of the source's frame rate; every new viewer has its first frame
// in under 1 s; after a garbage collection the JavaScript heap and the buffers outside it end
// within 5 MB of their level before, RSS within 20 MB, descriptors within 5.
//
//   node --import tsx test/soak/soak.ts [--minutes N]      (npm run soak; default 10 minutes)
import { type ChildProcess, fork } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServeChild, type ServeChild } from '../helpers/serve-child.js';
import { FrameCounter } from './frames.js';
import type { FromLoad, LoadPlan, LoadStats, ToLoad } from './load.js';

export interface SoakOptions {
  durationMs: number;
  steady: number;
  stalled: number;
  churn: number;
  longPolls: number;
  slowloris: number;
  /** PushCam's --send-timeout, seconds: how soon a stalled viewer is dropped. */
  sendTimeoutS: number;
  probeEveryMs: number;
}

/** The soak: 10 minutes of all of it at full size. */
export const FULL_SOAK: SoakOptions = { durationMs: 10 * 60_000, steady: 300, stalled: 100, churn: 10_000, longPolls: 1000, slowloris: 1000, sendTimeoutS: 15, probeEveryMs: 2000 };

/** MB: the process's RSS, and what V8 holds in its heap and in buffers outside it (heapUsed + external). */
interface Memory {
  rss: number;
  heap: number;
}

export interface SoakReport {
  options: SoakOptions;
  /** How the server ended during the soak, or null: it stayed up. */
  ended: string | null;
  /** Frames PushCam published while the steady viewers were measured, and over how long, s. */
  published: number;
  seconds: number;
  /** Frames each steady viewer got, over the frames the source's rate makes in that time (SOURCE_FPS): a PushCam too busy to make its frames fails too. */
  steadyShare: { mean: number; min: number };
  /** Time to a new viewer's first whole frame, ms; null = none within the probe's 5 s. */
  probes: (number | null)[];
  load: LoadStats[];
  /** MB; before and after are measured after a full garbage collection (ServeChild.memoryAfterGc). */
  memoryMB: { before: Memory; peakRss: number; after: Memory };
  fds: { before: number; peak: number; after: number };
  failures: string[];
}

const KEY = 'soak-key-0123456789abcdef';
const FIRST_FRAME_MS = 1000;
const PROBE_TIMEOUT_MS = 5000;
const MIN_SHARE = 0.95;
const HEAP_SLACK_MB = 5;
const RSS_SLACK_MB = 20;
const FD_SLACK = 5;
/** How long the server may take, once the load has gone, to close its sockets. */
const SETTLE_MS = 20_000;
const LONG_POLL_WAIT_MS = 10_000;
/** The test pattern's rate. */
const SOURCE_FPS = 10;

class LoadProcess {
  private readonly child: ChildProcess;
  private readonly inbox: FromLoad[] = [];
  private wake: (() => void) | null = null;

  constructor(plan: LoadPlan) {
    this.child = fork(fileURLToPath(new URL('./load.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (m: FromLoad) => {
      this.inbox.push(m);
      this.wake?.();
    });
    this.child.on('exit', () => this.wake?.());
    this.send({ type: 'plan', plan });
  }

  send(message: ToLoad): void {
    if (this.child.connected) this.child.send(message);
  }

  async next<T extends FromLoad>(type: T['type'], timeoutMs = 60_000): Promise<T> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const at = this.inbox.findIndex((m) => m.type === type);
      if (at >= 0) return this.inbox.splice(at, 1)[0] as T;
      if (this.child.exitCode !== null || performance.now() > deadline) throw new Error(`the soak's load process sent no ${type}`);
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, 200);
      });
    }
  }

  async stats(): Promise<LoadStats> {
    this.send({ type: 'sample' });
    return this.next<LoadStats>('stats');
  }

  /** Closes its connections and ends; resolves with its last figures. */
  async stop(): Promise<LoadStats> {
    this.send({ type: 'stop' });
    const last = await this.next<LoadStats>('stats');
    await new Promise<void>((r) => (this.child.exitCode !== null ? r() : this.child.once('exit', () => r())));
    return last;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** The seq of the newest frame, from a snapshot's X-Frame-Seq, asked from 127.0.0.1. */
function publishedSeq(server: ServeChild): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.origin}/snapshot.jpg?key=${KEY}`, { agent: false, localAddress: '127.0.0.1' }, (res) => {
      res.resume();
      const seq = Number(res.headers['x-frame-seq']);
      if (res.statusCode === 200 && seq > 0) resolve(seq);
      else reject(new Error(`a snapshot answered ${res.statusCode}`));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('no snapshot within 10 s')));
    req.on('error', reject);
    req.end();
  });
}

/** A new viewer from 127.0.0.1: ms from connecting to its first whole frame (the boundary after it), or null. */
function probeFirstFrame(server: ServeChild): Promise<number | null> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: '127.0.0.1', port: server.port, localAddress: '127.0.0.1' });
    const frames = new FrameCounter();
    const done = (ms: number | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ms);
    };
    const timer = setTimeout(() => done(null), PROBE_TIMEOUT_MS);
    socket.on('error', () => done(null));
    socket.on('close', () => done(null));
    socket.on('connect', () => socket.write(`GET /stream.mjpg?compat=advance&key=${KEY} HTTP/1.1\r\nHost: ${server.origin.slice(7)}\r\n\r\n`));
    socket.on('data', (data: Buffer) => {
      frames.push(data);
      if (frames.boundaries >= 2) done(Math.round(performance.now() - started));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The server the soak runs against: the pattern, small, with room for every viewer it connects. */
function startSoakServer(sendTimeoutS: number): Promise<ServeChild> {
  const args = ['--source', 'pattern', '--size', '320x240', '--interval', String(1000 / SOURCE_FPS), '--key', KEY, '--max-viewers', '5000', '--send-timeout', String(sendTimeoutS)];
  return startServeChild(args, { inspect: true });
}

/** What one round of load saw. */
interface Round {
  published: number;
  seconds: number;
  steadyShare: { mean: number; min: number };
  probes: (number | null)[];
  load: LoadStats[];
}

/**
 * One round: the viewers connect, then for `durationMs` the attack runs while a new viewer is
 * timed every probeEveryMs; then everything leaves. `watch` runs after every probe.
 */
async function round(server: ServeChild, o: SoakOptions, durationMs: number, watch: () => void, progress: (line: string) => void): Promise<Round> {
  const loads: LoadProcess[] = [];
  const result: Round = { published: 0, seconds: 0, steadyShare: { mean: 0, min: 0 }, probes: [], load: [] };
  const churn = Math.round((o.churn * durationMs) / o.durationMs);
  try {
    const base = { port: server.port, key: KEY, waitMs: LONG_POLL_WAIT_MS, durationMs };
    const viewers = new LoadProcess({ ...base, steady: o.steady, stalled: o.stalled, churn: 0, longPolls: 0, slowloris: 0 });
    loads.push(viewers);
    await viewers.next('ready');
    const firstSeq = await publishedSeq(server);
    const firstAt = performance.now();
    const firstFrames = (await viewers.stats()).steadyFrames;
    const attack = new LoadProcess({ ...base, steady: 0, stalled: 0, churn, longPolls: o.longPolls, slowloris: o.slowloris });
    loads.push(attack);
    const end = performance.now() + durationMs;
    let nextReport = performance.now() + 60_000;
    while (performance.now() < end && server.ended() === null) {
      const started = performance.now();
      result.probes.push(await probeFirstFrame(server));
      watch();
      if (performance.now() > nextReport) {
        nextReport += 60_000;
        const a = await attack.stats();
        progress(`${Math.round((durationMs - (end - performance.now())) / 1000)} s: RSS ${server.rssMB().toFixed(0)} MB, ${server.fds()} descriptors, churn ${a.churnDone}, long-poll answers ${a.longPollAnswers}, slowloris open ${a.slowlorisOpen}, last first frame ${result.probes.at(-1) ?? 'none'} ms`);
      }
      await sleep(Math.max(0, o.probeEveryMs - (performance.now() - started)));
    }
    // The attack stops first, so that the frame count can be asked for on a new connection.
    const attackStats = await attack.stop();
    if (server.ended() === null) {
      result.published = (await publishedSeq(server)) - firstSeq;
      result.seconds = (performance.now() - firstAt) / 1000;
      const shares = (await viewers.stats()).steadyFrames.map((n, i) => (n - (firstFrames[i] ?? 0)) / (result.seconds * SOURCE_FPS));
      result.steadyShare = { mean: shares.reduce((a, b) => a + b, 0) / shares.length, min: Math.min(...shares) };
    }
    result.load = [await viewers.stop(), attackStats];
    loads.length = 0;
    return result;
  } finally {
    for (const load of loads) load.kill();
  }
}

/** Waits, at most SETTLE_MS, for the server to close what the load left (its descriptors back within FD_SLACK of `fds`). */
async function settle(server: ServeChild, fds: number): Promise<void> {
  const deadline = performance.now() + SETTLE_MS;
  while (server.ended() === null && performance.now() < deadline && server.fds() > fds + FD_SLACK) await sleep(500);
}

async function memory(server: ServeChild): Promise<Memory> {
  const m = await server.memoryAfterGc();
  return { rss: m.rss, heap: m.heapUsed + m.external };
}

/**
 * Runs the soak against a server of its own. "Before" is the server idle after a warm-up round
 * (as long as the soak, at most 30 s, the same load) and a full garbage collection: V8 and the
 * allocator grow to the load's size once and keep that room, which is no leak; a leak is what
 * the process still holds on top of it once the load has gone and garbage is collected. Without
 * the collection a short run measures when V8 last ran it, not what is held (CI saw RSS +45 MB
 * after 15 s of load, with nothing held).
 */
export async function soak(o: SoakOptions, progress: (line: string) => void = () => undefined): Promise<SoakReport> {
  const server = await startSoakServer(o.sendTimeoutS);
  const none = { rss: 0, heap: 0 };
  const report: SoakReport = {
    ...{ options: o, ended: null, published: 0, seconds: 0, steadyShare: { mean: 0, min: 0 }, probes: [], load: [], failures: [] },
    memoryMB: { before: none, peakRss: 0, after: none },
    fds: { before: 0, peak: 0, after: 0 },
  };
  const watch = (): void => {
    report.memoryMB.peakRss = Math.max(report.memoryMB.peakRss, server.rssMB());
    report.fds.peak = Math.max(report.fds.peak, server.fds());
  };
  try {
    await probeFirstFrame(server);
    const idle = { memory: await memory(server), fds: server.fds() };
    const warmUpMs = Math.min(30_000, o.durationMs);
    progress(`warm-up: ${warmUpMs / 1000} s of the same load`);
    await round(server, o, warmUpMs, () => undefined, () => undefined);
    await settle(server, idle.fds);
    if (server.ended() === null) {
      report.memoryMB.before = await memory(server);
      report.fds.before = server.fds();
      const { before } = report.memoryMB;
      progress(`before: RSS ${before.rss.toFixed(0)} MB, heap ${before.heap.toFixed(1)} MB (${idle.memory.rss.toFixed(0)} and ${idle.memory.heap.toFixed(1)} MB before the warm-up), ${report.fds.before} descriptors; the soak: ${o.durationMs / 1000} s`);
      Object.assign(report, await round(server, o, o.durationMs, watch, progress));
      await settle(server, report.fds.before);
    }
    if (server.ended() === null) {
      report.memoryMB.after = await memory(server);
      report.fds.after = server.fds();
    }
  } finally {
    report.ended = server.ended();
    await server.stop();
  }
  report.failures = judge(report);
  return report;
}

function judge(r: SoakReport): string[] {
  const failures: string[] = [];
  if (r.ended !== null) return [`PushCam ended during the soak (${r.ended})`];
  if (r.steadyShare.mean < MIN_SHARE) failures.push(`steady viewers got ${percent(r.steadyShare.mean)} of the source's ${SOURCE_FPS} fps (at least ${percent(MIN_SHARE)})`);
  const late = r.probes.filter((ms) => ms === null || ms >= FIRST_FRAME_MS);
  if (late.length > 0) failures.push(`${late.length} of ${r.probes.length} new viewers waited 1 s or more for a first frame (${late.filter((ms) => ms === null).length} got none within 5 s)`);
  const { before, after } = r.memoryMB;
  if (after.heap > before.heap + HEAP_SLACK_MB) failures.push(`heap and buffers ${before.heap.toFixed(1)} -> ${after.heap.toFixed(1)} MB (at most +${HEAP_SLACK_MB})`);
  if (after.rss > before.rss + RSS_SLACK_MB) failures.push(`RSS ${before.rss.toFixed(0)} -> ${after.rss.toFixed(0)} MB (at most +${RSS_SLACK_MB})`);
  if (r.fds.after > r.fds.before + FD_SLACK) failures.push(`descriptors ${r.fds.before} -> ${r.fds.after} (at most +${FD_SLACK})`);
  return failures;
}

const percent = (x: number): string => `${(x * 100).toFixed(1)} %`;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** The figures as a table, one row each. */
export function table(r: SoakReport): string {
  const [viewers, attack] = r.load;
  const answered = r.probes.filter((ms): ms is number => ms !== null);
  const o = r.options;
  const rows: [string, string][] = [
    ['duration', `${(o.durationMs / 60_000).toFixed(2)} min`],
    ['process', r.ended === null ? 'stayed up' : `ENDED (${r.ended})`],
    ['steady viewers', `${o.steady}: ${percent(r.steadyShare.mean)} of the source's ${SOURCE_FPS} fps (lowest ${percent(r.steadyShare.min)}); PushCam published ${(r.published / r.seconds).toFixed(2)} fps; ${viewers?.steadyLost ?? '?'} streams lost`],
    ['stalled viewers', `${o.stalled} (send timeout ${o.sendTimeoutS} s): closed by PushCam ${viewers?.stalledDropped ?? '?'} times, each came back`],
    ['churn', `${attack?.churnDone ?? '?'} of ${o.churn} cycles, ${attack?.churnResets ?? '?'} with a reset, ${attack?.churnRefused ?? '?'} got no stream`],
    ['long-polls', `${o.longPolls} at once, wait ${LONG_POLL_WAIT_MS / 1000} s: ${attack?.longPollAnswers ?? '?'} answered, ${attack?.longPollFailures ?? '?'} failed`],
    ['slowloris (127.0.0.2)', `${o.slowloris} kept trying: ${attack?.slowlorisOpened ?? '?'} connections made, at most ${attack?.slowlorisHeldPeak ?? '?'} held open past 1 s at once`],
    ['new viewer, first frame (127.0.0.1)', `${r.probes.length} probes: median ${quantile(answered, 0.5)} ms, p99 ${quantile(answered, 0.99)} ms, max ${Math.max(0, ...answered)} ms; ${r.probes.length - answered.length} got none in 5 s; ${r.probes.filter((ms) => ms === null || ms >= FIRST_FRAME_MS).length} at 1 s or more`],
    ['RSS', `${r.memoryMB.before.rss.toFixed(0)} MB before, ${r.memoryMB.peakRss.toFixed(0)} MB peak, ${r.memoryMB.after.rss.toFixed(0)} MB after`],
    ['heap + buffers', `${r.memoryMB.before.heap.toFixed(1)} MB before, ${r.memoryMB.after.heap.toFixed(1)} MB after`],
    ['descriptors', `${r.fds.before} before, ${r.fds.peak} peak, ${r.fds.after} after`],
    ['result', r.failures.length === 0 ? 'pass' : `FAIL: ${r.failures.join('; ')}`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}

async function main(argv: string[]): Promise<void> {
  const at = argv.indexOf('--minutes');
  const minutes = at >= 0 ? Number(argv[at + 1]) : 10;
  if (!(minutes > 0 && minutes <= 24 * 60)) throw new Error(`--minutes needs a number of minutes, not "${argv[at + 1] ?? ''}"`);
  console.log(`soak: ${minutes} min; pushcam serve on 127.0.0.1, load from two processes`);
  const report = await soak({ ...FULL_SOAK, durationMs: minutes * 60_000 }, (line) => console.log(`  ${line}`));
  console.log(table(report));
  process.exitCode = report.failures.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: Error) => {
    console.error(`soak: ${err.message}`);
    process.exitCode = 1;
  });
}
