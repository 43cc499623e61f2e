import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from './children.js';
import type { ConnectViewers, Counters, Listening, ServerStats, ViewersConnected } from './messages.js';
import { kernelSendQueueBytes, machineBusySeconds, type ProcSample, sampleProc } from './proc.js';
import { median, quantile } from './stats.js';

export type ServerKind = 'pushcam' | 'mjpeg-server';

export interface FanoutRow {
  server: ServerKind;
  healthy: number;
  stalled: number;
  warmupMs: number;
  measureMs: number;
  framesDir: string;
  fps: number;
}

/** What the reading viewers got in the window. */
export interface ViewersResult {
  fpsMedian: number;
  fpsMin: number;
  /** How old frames were when the viewers read them, ms. */
  ageMedianMs: number;
  ageP95Ms: number;
}

export interface FanoutResult {
  connected: ViewersConnected;
  /** Frames per second the server sent out: below the source's rate, the server fell behind. */
  publishedFps: number;
  healthy: ViewersResult;
  serverCpuPercent: number;
  clientCpuPercent: number;
  /** The rest of the machine's CPU use in the window, % of one core: other work competing. */
  otherCpuPercent: number;
  idleRssBytes: number;
  endRssBytes: number;
  peakRssBytes: number;
  /** PushCam: frames skipped per healthy viewer per second, in the window. */
  skippedPerViewerPerSecond: number | null;
  /** mjpeg-server: bytes its responses hold at the end of the window. */
  queuedBytes: number | null;
  /** Bytes the kernel holds unsent for the server's connections at the end of the window. */
  kernelQueuedBytes: number;
}

const CHILD_MODULE: Record<ServerKind, string> = {
  pushcam: './pushcam-child.ts',
  'mjpeg-server': './mjpeg-child.ts',
};
const START_TIMEOUT_MS = 20_000;
const CONNECT_TIMEOUT_MS = 30_000;
const MARK_TIMEOUT_MS = 15_000;

/**
 * One row of the fan-out table: a fresh server child (so its peak RSS is this row's alone), a
 * fresh child of viewers, a warm-up, then two readings `measureMs` apart of the viewers' frame
 * counters and of the server's CPU time and memory. Both children are gone when this returns.
 */
export async function runFanout(row: FanoutRow): Promise<FanoutResult> {
  const server = new Child(CHILD_MODULE[row.server], [row.framesDir, String(row.fps)]);
  let viewers: Child | undefined;
  try {
    const { port, path } = await server.next<Listening>('listening', START_TIMEOUT_MS);
    const idle = sampleProc(server.pid);
    viewers = new Child('./viewers-child.ts', []);
    const connect: ConnectViewers = { type: 'connect', port, path, healthy: row.healthy, stalled: row.stalled };
    viewers.send(connect);
    const connected = await viewers.next<ViewersConnected>('connected', CONNECT_TIMEOUT_MS);
    await sleep(row.warmupMs);
    const before = await reading(server, viewers);
    await sleep(row.measureMs);
    const after = await reading(server, viewers);
    const kernelQueuedBytes = kernelSendQueueBytes(port);
    if (after.stats.encodes > 0) throw new Error(`PushCam re-encoded ${after.stats.encodes} frames: the bench meant it to pass them through`);
    return {
      connected,
      ...rates(before, after),
      idleRssBytes: idle.rssBytes,
      endRssBytes: after.proc.rssBytes,
      peakRssBytes: after.proc.peakRssBytes,
      queuedBytes: after.stats.queuedBytes,
      kernelQueuedBytes,
    };
  } finally {
    await Promise.all([server.kill(), viewers?.kill()]);
  }
}

interface Reading {
  machineSeconds: number;
  proc: ProcSample;
  counters: Counters;
  stats: ServerStats;
}

/** Both children's counters and the server's /proc figures, at (nearly) the same moment. */
async function reading(server: Child, viewers: Child): Promise<Reading> {
  viewers.send({ type: 'mark' });
  server.send({ type: 'stats' });
  const proc = sampleProc(server.pid);
  const machineSeconds = machineBusySeconds();
  const [counters, stats] = await Promise.all([viewers.next<Counters>('counters', MARK_TIMEOUT_MS), server.next<ServerStats>('stats', MARK_TIMEOUT_MS)]);
  return { machineSeconds, proc, counters, stats };
}

function viewersResult(before: Counters, after: Counters, seconds: number): ViewersResult {
  const fps = after.frames.map((n, i) => (n - before.frames[i]) / seconds);
  return {
    fpsMedian: median(fps),
    fpsMin: fps.length ? Math.min(...fps) : Number.NaN,
    // The second reading's ages are exactly the frames read inside the window.
    ageMedianMs: median(after.ages),
    ageP95Ms: quantile(after.ages, 0.95),
  };
}

type Rates = Omit<FanoutResult, 'connected' | 'idleRssBytes' | 'endRssBytes' | 'peakRssBytes' | 'queuedBytes' | 'kernelQueuedBytes'>;

function rates(before: Reading, after: Reading): Rates {
  const seconds = (after.counters.at - before.counters.at) / 1000;
  const serverSeconds = after.proc.cpuSeconds - before.proc.cpuSeconds;
  const clientSeconds = (after.counters.cpuMicros - before.counters.cpuMicros) / 1e6;
  const machineSeconds = after.machineSeconds - before.machineSeconds;
  const skipped = after.stats.skippedFrames !== null && before.stats.skippedFrames !== null ? after.stats.skippedFrames - before.stats.skippedFrames : null;
  const healthyViewers = after.counters.frames.length;
  return {
    publishedFps: (after.stats.published - before.stats.published) / seconds,
    healthy: viewersResult(before.counters, after.counters, seconds),
    serverCpuPercent: (serverSeconds / seconds) * 100,
    clientCpuPercent: (clientSeconds / seconds) * 100,
    otherCpuPercent: Math.max(0, ((machineSeconds - serverSeconds - clientSeconds) / seconds) * 100),
    skippedPerViewerPerSecond: skipped === null || healthyViewers === 0 ? null : skipped / healthyViewers / seconds,
  };
}
