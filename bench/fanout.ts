// The fan-out table: many viewers of one 640x480 stream, PushCam against mjpeg-server, each
// server alone in a child process fed the same pre-encoded frames (bench/ring-source.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Encoder } from '../server/encoder/encoder.js';
import { Child } from './children.js';
import { kb, mb, num, table } from './markdown.js';
import type { ConnectViewers, Counters, Listening, ServerStats, ViewersConnected } from './messages.js';
import { kernelSendQueueBytes, machineBusySeconds, type ProcSample, sampleProc } from './proc.js';
import { testPicture } from './picture.js';
import { DISTURBED_PERCENT, FPS, MEASURE_MS, QUALITY, RING_FRAMES, VIEWER_ROWS, WARMUP_MS } from './settings.js';
import { lessDisturbed, median, quantile, sum } from './stats.js';

export type ServerKind = 'pushcam' | 'mjpeg-server';

type Viewers = (typeof VIEWER_ROWS)[number];

interface FanoutResult {
  connected: ViewersConnected;
  /** Frames per second the server sent out: below the source's rate, the server fell behind. */
  publishedFps: number;
  /** Frames per second of each healthy viewer, and how old frames were when their last byte reached one, ms. */
  fpsPerViewer: number[];
  agesMs: number[];
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

const START_TIMEOUT_MS = 20_000;
const CONNECT_TIMEOUT_MS = 30_000;
const MARK_TIMEOUT_MS = 15_000;
const CHILD_MODULE: Record<ServerKind, string> = { pushcam: './pushcam-child.ts', 'mjpeg-server': './mjpeg-child.ts' };

/** A server under test in a child process of its own (in network namespace `netns`, if given), serving the frames in `framesDir`. */
export function serverChild(kind: ServerKind, framesDir: string, netns?: string): Child {
  return new Child(CHILD_MODULE[kind], [framesDir, String(FPS)], netns);
}

/**
 * One row of the fan-out table: a fresh server child (so its peak RSS is this row's alone), a
 * fresh child of viewers, a warm-up, then two readings MEASURE_MS apart of the viewers' frame
 * counters and of the server's CPU time and memory. Both children are gone when this returns.
 */
async function runFanout(kind: ServerKind, { healthy, stalled }: Viewers, framesDir: string): Promise<FanoutResult> {
  const server = serverChild(kind, framesDir);
  let viewers: Child | undefined;
  try {
    const { port, path } = await server.next<Listening>('listening', START_TIMEOUT_MS);
    const idle = sampleProc(server.pid);
    viewers = new Child('./viewers-child.ts', []);
    const connect: ConnectViewers = { type: 'connect', port, path, healthy, stalled };
    viewers.send(connect);
    const connected = await viewers.next<ViewersConnected>('connected', CONNECT_TIMEOUT_MS);
    await sleep(WARMUP_MS);
    const before = await reading(server, viewers);
    await sleep(MEASURE_MS);
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
    fpsPerViewer: after.counters.frames.map((n, i) => (n - before.counters.frames[i]) / seconds),
    // The second reading's ages are exactly the frames read inside the window.
    agesMs: after.counters.ages,
    serverCpuPercent: (serverSeconds / seconds) * 100,
    clientCpuPercent: (clientSeconds / seconds) * 100,
    otherCpuPercent: Math.max(0, ((machineSeconds - serverSeconds - clientSeconds) / seconds) * 100),
    skippedPerViewerPerSecond: skipped === null || healthyViewers === 0 ? null : skipped / healthyViewers / seconds,
  };
}

const SERVERS: readonly ServerKind[] = ['pushcam', 'mjpeg-server'];
const SERVER_NAME: Record<ServerKind, string> = { pushcam: 'PushCam', 'mjpeg-server': 'mjpeg-server 0.3.1' };

interface FanoutLine {
  viewers: Viewers;
  server: ServerKind;
  /** A row that failed (a child that hung or died) is reported, not fatal to the run. */
  result: FanoutResult | Error;
  /** How many times the row ran: a disturbed row runs again if time allows (retryDisturbed). */
  runs: number;
}

// Starting a row's children, connecting its viewers and ending them takes about this long.
const ROW_OVERHEAD_MS = 5000;

/** Different camera-like frames, encoded once by PushCam's Encoder, for both servers to send; their mean size. */
export async function writeRing(dir: string, picture = { width: 640, height: 480, quality: QUALITY }): Promise<number> {
  await mkdir(dir, { recursive: true });
  const encoder = new Encoder({ quality: picture.quality });
  const sizes: number[] = [];
  for (let i = 0; i < RING_FRAMES; i++) {
    const { jpeg } = await encoder.encode({ kind: 'raw', image: await testPicture(picture.width, picture.height, i) });
    sizes.push(jpeg.length);
    await writeFile(join(dir, `frame-${String(i).padStart(2, '0')}.jpg`), jpeg);
  }
  return sum(sizes) / sizes.length;
}

async function runOne(viewers: Viewers, server: ServerKind, framesDir: string, progress: (line: string) => void): Promise<FanoutResult | Error> {
  progress(`fan-out ${viewers.healthy} healthy, ${viewers.stalled} stalled viewers: ${server}`);
  const result = await runFanout(server, viewers, framesDir).catch((err: unknown) =>
    err instanceof Error ? err : new Error(String(err)),
  );
  if (result instanceof Error) progress(`  failed: ${result.message}`);
  else if (result.otherCpuPercent > DISTURBED_PERCENT) progress(`  disturbed: other work used ${num(result.otherCpuPercent, 0)} % of a core`);
  return result;
}

/** How much other work competed with a row; a failed row counts as the most disturbed. */
function disturbance(result: FanoutResult | Error): number {
  return result instanceof Error ? Number.POSITIVE_INFINITY : result.otherCpuPercent;
}

/** The most disturbed rows first run again, with the time left before `until` (a performance.now() value). */
export async function retryDisturbed(lines: FanoutLine[], framesDir: string, progress: (line: string) => void, until: number): Promise<void> {
  for (const line of [...lines].sort((a, b) => disturbance(b.result) - disturbance(a.result))) {
    const mayRetry = (): boolean => performance.now() + WARMUP_MS + MEASURE_MS + ROW_OVERHEAD_MS < until;
    ({ result: line.result, runs: line.runs } = await lessDisturbed(line.result, disturbance, mayRetry, () => {
      progress('again, as the first run was disturbed:');
      return runOne(line.viewers, line.server, framesDir, progress);
    }));
  }
}

/** Every set of viewers against both servers, one after the other, so a change in the machine's load hits both. */
export async function fanoutLines(framesDir: string, progress: (line: string) => void): Promise<FanoutLine[]> {
  const lines: FanoutLine[] = [];
  for (const viewers of VIEWER_ROWS) {
    for (const server of SERVERS) lines.push({ viewers, server, result: await runOne(viewers, server, framesDir, progress), runs: 1 });
  }
  return lines;
}

function viewersLabel({ healthy, stalled }: Viewers): string {
  return stalled ? `${healthy + stalled} (${stalled} stalled)` : String(healthy);
}

/** A row whose viewers did not all get a stream says so, instead of showing flattering figures. */
function serverLabel(line: FanoutLine, r: FanoutResult): string {
  const missing = line.viewers.healthy + line.viewers.stalled - (r.connected.healthy + r.connected.stalled);
  const name = SERVER_NAME[line.server] + (line.runs > 1 ? ' *' : '');
  if (missing === 0) return name;
  const why = Object.entries(r.connected.failures).map(([reason, n]) => `${n}× ${reason}`).join(', ');
  return `${name} (${missing} refused: ${why})`;
}

/** What the server held back in the window: PushCam skips frames, mjpeg-server queues bytes. */
function backlog(r: FanoutResult): string {
  if (r.skippedPerViewerPerSecond !== null) return `${num(r.skippedPerViewerPerSecond)} frames/s skipped`;
  if (r.queuedBytes !== null) return `${mb(r.queuedBytes)} queued`;
  return '–';
}

const percent = (n: number): string => `${num(n, 0)} %`;
const pair = (a: number, b: number, digits = 1): string => `${num(a, digits)} / ${num(b, digits)}`;

const HEADER = [
  'viewers',
  'server',
  'fps sent',
  'fps per healthy viewer (median / min)',
  'frame age at viewer, ms (median / p95)',
  'server CPU, % of one core',
  'marginal CPU vs mjpeg-server',
  'server RSS idle → end (peak)',
  'held back',
  'unsent in kernel',
  "viewers' process CPU",
  'rest of machine CPU',
];

/**
 * PushCam's marginal CPU (this row minus the one-viewer row, so the frame source cancels out)
 * over mjpeg-server's for the same viewers; '–' for the peer's own rows and the one-viewer row.
 */
function marginalRatio(line: FanoutLine, lines: readonly FanoutLine[]): string {
  const cpu = (server: ServerKind, v: Viewers): number => {
    const found = lines.find((l) => l.server === server && l.viewers.healthy === v.healthy && l.viewers.stalled === v.stalled);
    return found && !(found.result instanceof Error) ? found.result.serverCpuPercent : Number.NaN;
  };
  if (line.server !== 'pushcam' || line.viewers.healthy + line.viewers.stalled <= 1) return '–';
  const one = VIEWER_ROWS[0];
  const ratio = (cpu('pushcam', line.viewers) - cpu('pushcam', one)) / (cpu('mjpeg-server', line.viewers) - cpu('mjpeg-server', one));
  return Number.isFinite(ratio) ? `${num(ratio, 2)}x` : '–';
}

function row(line: FanoutLine, lines: readonly FanoutLine[]): string[] {
  const r = line.result;
  const label = viewersLabel(line.viewers);
  if (r instanceof Error) return [label, SERVER_NAME[line.server], `failed: ${r.message}`, ...Array<string>(HEADER.length - 3).fill('')];
  return [
    label,
    serverLabel(line, r),
    num(r.publishedFps),
    pair(median(r.fpsPerViewer), r.fpsPerViewer.length ? Math.min(...r.fpsPerViewer) : Number.NaN),
    pair(median(r.agesMs), quantile(r.agesMs, 0.95), 0),
    percent(r.serverCpuPercent),
    marginalRatio(line, lines),
    `${mb(r.idleRssBytes)} → ${mb(r.endRssBytes)} (${mb(r.peakRssBytes)})`,
    backlog(r),
    mb(r.kernelQueuedBytes),
    percent(r.clientCpuPercent),
    percent(r.otherCpuPercent),
  ];
}

export function fanoutTable(lines: readonly FanoutLine[], avgFrameBytes: number): string {
  const note =
    `640x480 at ${FPS} fps, a ring of ${RING_FRAMES} frames at q${QUALITY} (${kb(avgFrameBytes)} on average) passed through unchanged; ` +
    `${WARMUP_MS / 1000} s warm-up, then ${MEASURE_MS / 1000} s measured; * marks the less disturbed of two runs. Loopback only. Method and columns: docs/benchmarks.md.`;
  return `${table(HEADER, lines.map((l) => row(l, lines)))}\n\n${note}`;
}
