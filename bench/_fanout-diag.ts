import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from './children.js';
import type { Counters, Listening, ServerStats, ViewersConnected } from './messages.js';
import { machineBusySeconds, type ProcSample, sampleProc } from './proc.js';
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

export interface FanoutResult {
  connected: ViewersConnected;
  fpsAll: number[];
  fpsMedian: number;
  fpsMin: number;
  /** How old frames were when the healthy viewers read them, ms. */
  ageMedianMs: number;
  ageP95Ms: number;
  /** Bytes per second all healthy viewers received together. */
  deliveredBytesPerSecond: number;
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
}

const CHILD_MODULE: Record<ServerKind, string> = {
  pushcam: './_pushcam-diag.ts',
  'mjpeg-server': './_mjpeg-diag.ts',
};
const START_TIMEOUT_MS = 20_000;
const CONNECT_TIMEOUT_MS = 30_000;
const MARK_TIMEOUT_MS = 5_000;

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
    viewers.send({ type: 'connect', port, path, healthy: row.healthy, stalled: row.stalled });
    const connected = await viewers.next<ViewersConnected>('connected', CONNECT_TIMEOUT_MS);
    await sleep(row.warmupMs);
    const before = await reading(server, viewers);
    await sleep(row.measureMs);
    const after = await reading(server, viewers);
    if (after.stats.encodes > 0) throw new Error(`PushCam re-encoded ${after.stats.encodes} frames: the bench meant it to pass them through`);
    return {
      connected,
      ...rates(before, after),
      idleRssBytes: idle.rssBytes,
      endRssBytes: after.proc.rssBytes,
      peakRssBytes: after.proc.peakRssBytes,
      queuedBytes: after.stats.queuedBytes,
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

type Rates = Pick<FanoutResult, 'fpsAll' | 'fpsMedian' | 'fpsMin' | 'ageMedianMs' | 'ageP95Ms' | 'deliveredBytesPerSecond' | 'serverCpuPercent' | 'clientCpuPercent' | 'otherCpuPercent' | 'skippedPerViewerPerSecond'>;

function rates(before: Reading, after: Reading): Rates {
  const seconds = (after.counters.at - before.counters.at) / 1000;
  const fps = after.counters.frames.map((n, i) => (n - before.counters.frames[i]) / seconds);
  const skipped = after.stats.skippedFrames !== null && before.stats.skippedFrames !== null ? after.stats.skippedFrames - before.stats.skippedFrames : null;
  const serverSeconds = after.proc.cpuSeconds - before.proc.cpuSeconds;
  const clientSeconds = (after.counters.cpuMicros - before.counters.cpuMicros) / 1e6;
  const machineSeconds = after.machineSeconds - before.machineSeconds;
  return {
    otherCpuPercent: Math.max(0, ((machineSeconds - serverSeconds - clientSeconds) / seconds) * 100),
    skippedPerViewerPerSecond: skipped === null || fps.length === 0 ? null : skipped / fps.length / seconds,
    fpsMedian: median(fps),
    fpsAll: fps,
    fpsMin: fps.length ? Math.min(...fps) : Number.NaN,
    // The second reading's ages are exactly the frames read inside the window.
    ageMedianMs: median(after.counters.ages),
    ageP95Ms: quantile(after.counters.ages, 0.95),
    deliveredBytesPerSecond: (after.counters.bytes - before.counters.bytes) / seconds,
    serverCpuPercent: (serverSeconds / seconds) * 100,
    clientCpuPercent: (clientSeconds / seconds) * 100,
  };
}
