// The fan-out table: many viewers of one 640x480 stream, PushCam against mjpeg-server, each
// server alone in a child process fed the same pre-encoded frames (bench/server-child.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Encoder } from '../server/encoder/encoder.js';
import { type Child, countersOf, serverChild, type ServerKind, startViewers } from './children.js';
import { kb, mb, num, percent, table } from './markdown.js';
import type { Counters, Listening, ServerStats, ViewersConnected } from './messages.js';
import { testPicture } from './picture.js';
import { cpuMark, type CpuMark, cpuOf, kernelSendQueueBytes, memoryOf, otherCpuPercent } from './proc.js';
import { FANOUT_RUN, FPS, QUALITY, RING_FRAMES, VIEWER_ROWS } from './settings.js';
import { type MeasuredTable, median, quantile, type Retryable } from './stats.js';

const SERVER_NAME: Record<ServerKind, string> = { pushcam: 'PushCam', 'mjpeg-server': 'mjpeg-server 0.3.1' };

/** Different camera-like frames, encoded once by PushCam's Encoder, for both servers to send; their mean size. */
export async function writeRing(dir: string, picture: { width: number; height: number; quality: number }): Promise<number> {
  await mkdir(dir, { recursive: true });
  const encoder = new Encoder({ quality: picture.quality });
  let bytes = 0;
  for (let i = 0; i < RING_FRAMES; i++) {
    const { jpeg } = await encoder.encode({ kind: 'raw', image: await testPicture(picture.width, picture.height, i) });
    bytes += jpeg.length;
    await writeFile(join(dir, `frame-${String(i).padStart(2, '0')}.jpg`), jpeg);
  }
  return bytes / RING_FRAMES;
}

/** Both children's counters and CPU time and the machine's, at (nearly) the same moment. */
interface Reading {
  counters: Counters;
  stats: ServerStats;
  serverCpu: number;
  viewersCpu: number;
  cpu: CpuMark;
}

interface Watched {
  port: number;
  serverPid: number;
  connected: ViewersConnected;
  idleRssBytes: number;
  before: Reading;
  after: Reading;
  seconds: number;
  /** How fast a figure of the readings grew between them, per second. */
  rate: (figure: (r: Reading) => number) => number;
}

/**
 * A fresh server of `kind` and a fresh child of viewers, both in network namespace `netns` if
 * given; a warm-up, two readings `measureMs` apart, then `measure` while both still run. Both
 * children are gone when this returns.
 */
export async function watch<R>(
  kind: ServerKind,
  framesDir: string,
  o: { healthy: number; stalled: number; query?: string; netns?: string; warmupMs: number; measureMs: number },
  measure: (w: Watched) => R,
): Promise<R> {
  const server = serverChild(kind, framesDir, o.netns);
  let viewers: Child | undefined;
  try {
    const { port, path } = await server.next<Listening>('listening');
    const idleRssBytes = memoryOf(server.pid).rssBytes;
    const started = await startViewers({ port, path: path + (o.query ?? ''), healthy: o.healthy, stalled: o.stalled }, o.netns);
    viewers = started.viewers;
    const reading = async (): Promise<Reading> => {
      server.send({ type: 'stats' });
      const [cpu, serverCpu, viewersCpu] = [cpuMark(), cpuOf([server.pid]), cpuOf([started.viewers.pid])];
      const [counters, stats] = await Promise.all([countersOf(started.viewers), server.next<ServerStats>('stats')]);
      return { counters, stats, serverCpu, viewersCpu, cpu };
    };
    await sleep(o.warmupMs);
    const before = await reading();
    await sleep(o.measureMs);
    const after = await reading();
    const seconds = (after.counters.at - before.counters.at) / 1000;
    const rate = (figure: (r: Reading) => number): number => (figure(after) - figure(before)) / seconds;
    return measure({ port, serverPid: server.pid, connected: started.connected, idleRssBytes, before, after, seconds, rate });
  } finally {
    await Promise.all([server.kill(), viewers?.kill()]);
  }
}

type Viewers = (typeof VIEWER_ROWS)[number];

interface FanoutResult {
  /** Viewers that got no stream, and why; '' if none. */
  refused: string;
  /** The row's figures but the marginal CPU, which it gets from the others. */
  cells: (marginal: string) => string[];
  serverCpuPercent: number;
  otherCpuPercent: number;
}

interface FanoutLine extends Retryable<FanoutResult, Error> {
  viewers: Viewers;
  server: ServerKind;
}

/** One row, or its error (a child that hung or died). */
async function runFanout(server: ServerKind, viewers: Viewers, framesDir: string, progress: (line: string) => void): Promise<FanoutResult | Error> {
  progress(`fan-out ${viewers.healthy} healthy, ${viewers.stalled} stalled viewers: ${server}`);
  const result = await watch(server, framesDir, { ...viewers, ...FANOUT_RUN }, ({ port, serverPid, connected, idleRssBytes, before, after, seconds, rate }): FanoutResult => {
    if (after.stats.encodes > 0) throw new Error(`PushCam re-encoded ${after.stats.encodes} frames: the bench meant it to pass them through`);
    const [kernelQueuedBytes, end] = [kernelSendQueueBytes(port), memoryOf(serverPid)];
    const missing = viewers.healthy + viewers.stalled - (connected.healthy + connected.stalled);
    const why = Object.entries(connected.failures).map(([reason, n]) => `${n}× ${reason}`).join(', ');
    const fps = after.counters.frames.map((_n, i) => rate((r) => r.counters.frames[i]));
    // The second reading's ages are exactly the frames read inside the window.
    const ages = after.counters.ages;
    const { skippedFrames, queuedBytes } = after.stats;
    // What the server held back: PushCam skips frames, mjpeg-server queues bytes.
    const heldBack = skippedFrames !== null ? `${num(rate((r) => r.stats.skippedFrames ?? 0) / fps.length)} frames/s skipped` : `${mb(queuedBytes ?? Number.NaN)} queued`;
    const [serverCpuPercent, other] = [rate((r) => r.serverCpu) * 100, otherCpuPercent(before.cpu, after.cpu, seconds)];
    return {
      refused: missing === 0 ? '' : ` (${missing} refused: ${why})`,
      serverCpuPercent,
      otherCpuPercent: other,
      cells: (marginal) => [
        num(rate((r) => r.stats.published)),
        `${num(median(fps))} / ${num(fps.length ? Math.min(...fps) : Number.NaN)}`,
        `${num(median(ages), 0)} / ${num(quantile(ages, 0.95), 0)}`,
        percent(serverCpuPercent),
        marginal,
        `${mb(idleRssBytes)} → ${mb(end.rssBytes)} (${mb(end.peakRssBytes)})`,
        heldBack,
        mb(kernelQueuedBytes),
        percent(rate((r) => r.viewersCpu) * 100),
        percent(other),
      ],
    };
  }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
  if (result instanceof Error) progress(`  failed: ${result.message}`);
  return result;
}

/** PushCam's marginal CPU (N viewers minus one, so the frame source cancels out) over mjpeg-server's; '–' but for PushCam's rows of many viewers. */
function marginalRatio(line: FanoutLine, lines: readonly FanoutLine[]): string {
  const cpu = (server: ServerKind, v: Viewers): number => {
    const found = lines.find((l) => l.server === server && l.viewers === v)?.result;
    return found && !(found instanceof Error) ? found.serverCpuPercent : Number.NaN;
  };
  if (line.server !== 'pushcam' || line.viewers.healthy + line.viewers.stalled <= 1) return '–';
  const one = VIEWER_ROWS[0];
  const ratio = (cpu('pushcam', line.viewers) - cpu('pushcam', one)) / (cpu('mjpeg-server', line.viewers) - cpu('mjpeg-server', one));
  return Number.isFinite(ratio) ? `${num(ratio, 2)}x` : '–';
}

const HEADER = [
  'viewers', 'server', 'fps sent', 'fps per healthy viewer (median / min)', 'frame age at viewer, ms (median / p95)', 'server CPU, % of one core',
  'marginal CPU vs mjpeg-server', 'server RSS idle → end (peak)', 'held back', 'unsent in kernel', "viewers' process CPU", 'rest of machine CPU',
];

/** Every set of viewers against both servers, one after the other, so a change in the machine's load hits both. */
export async function fanoutTable(dir: string, progress: (line: string) => void): Promise<MeasuredTable> {
  const framesDir = join(dir, 'frames');
  progress('encoding the fan-out frames');
  const frameBytes = await writeRing(framesDir, { width: 640, height: 480, quality: QUALITY });
  const lines: FanoutLine[] = [];
  for (const viewers of VIEWER_ROWS) {
    for (const server of ['pushcam', 'mjpeg-server'] as const) {
      const again = (): Promise<FanoutResult | Error> => runFanout(server, viewers, framesDir, progress);
      lines.push({ viewers, server, result: await again(), runs: 1, again });
    }
  }
  const render = (): string => {
    const rows = lines.map((line) => {
      const { healthy, stalled } = line.viewers;
      const label = stalled ? `${healthy + stalled} (${stalled} stalled)` : String(healthy);
      const r = line.result;
      if (r instanceof Error) return [label, SERVER_NAME[line.server], `failed: ${r.message}`, ...Array<string>(HEADER.length - 3).fill('')];
      return [label, SERVER_NAME[line.server] + (line.runs > 1 ? ' *' : '') + r.refused, ...r.cells(marginalRatio(line, lines))];
    });
    const note =
      `640x480 at ${FPS} fps, a ring of ${RING_FRAMES} frames at q${QUALITY} (${kb(frameBytes)} on average) passed through unchanged; ` +
      `${FANOUT_RUN.warmupMs / 1000} s warm-up, then ${FANOUT_RUN.measureMs / 1000} s measured; * marks the less disturbed of two runs. Loopback only. Method and columns: docs/benchmarks.md.`;
    return table(HEADER, rows, note);
  };
  // Starting a row's children, connecting its viewers and ending them takes about 5 s.
  return { title: 'Fan-out to many viewers', items: lines, estimateMs: FANOUT_RUN.warmupMs + FANOUT_RUN.measureMs + 5000, render };
}
