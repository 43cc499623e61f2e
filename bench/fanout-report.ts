import { mkdir, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { Encoder } from '../server/encoder/encoder.js';
import { type FanoutResult, type FanoutRow, runFanout, type ServerKind } from './fanout.js';
import { kb, mb, num, table } from './markdown.js';
import { testPicture } from './picture.js';
import { DISTURBED_PERCENT, FPS, MEASURE_MS, QUALITY, RING_FRAMES, SLOW_ROW, VIEWER_ROWS, WARMUP_MS } from './settings.js';
import { sum } from './stats.js';

const SERVERS: readonly ServerKind[] = ['pushcam', 'mjpeg-server'];
const SERVER_NAME: Record<ServerKind, string> = { pushcam: 'PushCam', 'mjpeg-server': 'mjpeg-server 0.3.1' };

type Viewers = Pick<FanoutRow, 'healthy' | 'slow' | 'slowBytesPerSecond' | 'stalled' | 'warmupMs'>;

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
  progress(`fan-out ${viewers.healthy} healthy, ${viewers.slow} slow, ${viewers.stalled} stalled viewers: ${server}`);
  const result = await runFanout({ ...viewers, server, measureMs: MEASURE_MS, framesDir, fps: FPS }).catch((err: unknown) =>
    err instanceof Error ? err : new Error(String(err)),
  );
  if (result instanceof Error) progress(`  failed: ${result.message}`);
  else if (result.otherCpuPercent > DISTURBED_PERCENT) progress(`  disturbed: other work used ${num(result.otherCpuPercent, 0)} % of a core`);
  return result;
}

/** One set of viewers against both servers, one after the other, so a change in the machine's load hits both. */
async function runBoth(viewers: Viewers, framesDir: string, progress: (line: string) => void): Promise<FanoutLine[]> {
  const lines: FanoutLine[] = [];
  for (const server of SERVERS) lines.push({ viewers, server, result: await runOne(viewers, server, framesDir, progress), runs: 1 });
  return lines;
}

/** How much other work competed with a row; a failed row counts as the most disturbed. */
function disturbance(result: FanoutResult | Error): number {
  return result instanceof Error ? Number.POSITIVE_INFINITY : result.otherCpuPercent;
}

/**
 * On a shared machine other work can take the cores in the middle of a row. With the time left
 * before `until` (a performance.now() value), the most disturbed rows run once more, and the
 * less disturbed of the two runs is kept; the table says which rows ran twice.
 */
export async function retryDisturbed(lines: FanoutLine[], framesDir: string, progress: (line: string) => void, until: number): Promise<void> {
  const disturbed = lines.filter((l) => disturbance(l.result) > DISTURBED_PERCENT).sort((a, b) => disturbance(b.result) - disturbance(a.result));
  for (const line of disturbed) {
    if (performance.now() + line.viewers.warmupMs + MEASURE_MS + ROW_OVERHEAD_MS > until) continue;
    progress('again, as the first run was disturbed:');
    const again = await runOne(line.viewers, line.server, framesDir, progress);
    line.runs++;
    if (disturbance(again) < disturbance(line.result)) line.result = again;
  }
}

export async function fanoutLines(framesDir: string, progress: (line: string) => void): Promise<FanoutLine[]> {
  const lines: FanoutLine[] = [];
  for (const row of VIEWER_ROWS) lines.push(...(await runBoth({ ...row, slow: 0, slowBytesPerSecond: 0, warmupMs: WARMUP_MS }, framesDir, progress)));
  return lines;
}

export async function slowLines(framesDir: string, avgFrameBytes: number, progress: (line: string) => void): Promise<FanoutLine[]> {
  const slowBytesPerSecond = Math.round(avgFrameBytes * FPS * SLOW_ROW.shareOfStream);
  return runBoth({ ...SLOW_ROW, slowBytesPerSecond }, framesDir, progress);
}

function viewersLabel({ viewers: v }: FanoutLine): string {
  const total = v.healthy + v.slow + v.stalled;
  const parts = [v.slow ? `${v.slow} slow` : '', v.stalled ? `${v.stalled} stalled` : ''].filter(Boolean);
  return parts.length ? `${total} (${parts.join(', ')})` : String(total);
}

/** A row whose viewers did not all get a stream says so, instead of showing flattering figures. */
function serverLabel(line: FanoutLine, r: FanoutResult): string {
  const v = line.viewers;
  const missing = v.healthy + v.slow + v.stalled - (r.connected.healthy + r.connected.slow + r.connected.stalled);
  const runs = line.runs > 1 ? ' *' : '';
  if (missing === 0) return SERVER_NAME[line.server] + runs;
  const why = Object.entries(r.connected.failures).map(([reason, n]) => `${n}× ${reason}`).join(', ');
  return `${SERVER_NAME[line.server]}${runs} (${missing} refused: ${why})`;
}

/** What the server held back in the window: PushCam skips frames, mjpeg-server queues bytes. */
function backlog(r: FanoutResult): string {
  if (r.skippedPerViewerPerSecond !== null) return `${num(r.skippedPerViewerPerSecond)} frames/s skipped`;
  if (r.queuedBytes !== null) return `${mb(r.queuedBytes)} queued`;
  return '–';
}

const percent = (n: number): string => `${num(n, 0)} %`;
const pair = (a: number, b: number, digits = 1): string => `${num(a, digits)} / ${num(b, digits)}`;
const rss = (r: FanoutResult): string => `${mb(r.idleRssBytes)} → ${mb(r.endRssBytes)} (${mb(r.peakRssBytes)})`;

/** The cells of one line, or its failure spread over `width` cells. */
function cells(line: FanoutLine, width: number, figures: (r: FanoutResult, line: FanoutLine) => string[]): string[] {
  const r = line.result;
  if (r instanceof Error) return [viewersLabel(line), SERVER_NAME[line.server], `failed: ${r.message}`, ...Array<string>(width - 3).fill('')];
  return [viewersLabel(line), serverLabel(line, r), ...figures(r, line)];
}

const MAIN_HEADER = [
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
    const found = lines.find((l) => l.server === server && l.viewers.healthy === v.healthy && l.viewers.stalled === v.stalled && l.viewers.slow === v.slow);
    return found && !(found.result instanceof Error) ? found.result.serverCpuPercent : Number.NaN;
  };
  const one = { ...line.viewers, healthy: 1, stalled: 0, slow: 0 };
  if (line.server !== 'pushcam' || line.viewers.healthy + line.viewers.stalled <= 1) return '–';
  const ratio = (cpu('pushcam', line.viewers) - cpu('pushcam', one)) / (cpu('mjpeg-server', line.viewers) - cpu('mjpeg-server', one));
  return Number.isFinite(ratio) ? `${num(ratio, 2)}x` : '–';
}

function mainFigures(r: FanoutResult, line: FanoutLine, lines: readonly FanoutLine[]): string[] {
  return [
    num(r.publishedFps),
    pair(r.healthy.fpsMedian, r.healthy.fpsMin),
    pair(r.healthy.ageMedianMs, r.healthy.ageP95Ms, 0),
    percent(r.serverCpuPercent),
    marginalRatio(line, lines),
    rss(r),
    backlog(r),
    mb(r.kernelQueuedBytes),
    percent(r.clientCpuPercent),
    percent(r.otherCpuPercent),
  ];
}

export function fanoutTable(lines: readonly FanoutLine[], avgFrameBytes: number): string {
  const note =
    `640x480 at ${FPS} fps: a ring of ${RING_FRAMES} different frames encoded once beforehand at q${QUALITY} (${kb(avgFrameBytes)} on average), handed out as a new buffer per frame as a camera would, ` +
    `with the time it was made in a JPEG comment; PushCam's encoder passes them through (checked: no re-encodes), so only fan-out is measured. ` +
    `mjpeg-server gets the same frames on the same schedule and writes each to every client (\`createReqHandler(req, res)\`, \`handler.write(jpeg)\`, its documented use). ` +
    `Each server runs alone in a fresh child process (CPU and memory from /proc, all its threads; peak = VmHWM); the viewers are raw HTTP connections in another child process, counting parts by boundary and reading each frame's time; ` +
    `${WARMUP_MS / 1000} s warm-up, then ${MEASURE_MS / 1000} s measured. Stalled viewers send the request and never read. ` +
    `"fps sent": frames per second the server sent out (below ${FPS}, the server itself fell behind). "Frame age": how old a frame was when its last byte reached a healthy viewer. ` +
    `"Held back": frames PushCam skipped per healthy viewer (it keeps only the newest frame), bytes mjpeg-server's responses hold unsent at the end (it keeps every frame; stalled viewers share frame buffers, so RSS grows less than this). ` +
    `"Unsent in kernel": the Send-Q of the server's connections at the end (\`ss\`), memory the kernel holds for slow or stalled viewers outside any RSS. ` +
    `"Marginal CPU": PushCam's CPU for these viewers minus its CPU for one, over the same for mjpeg-server (so the frame source cancels out). ` +
    `"Rest of machine": CPU time not charged to the two children (other processes, kernel network work), % of one core: high values mean the row was disturbed; ` +
    `a row above ${DISTURBED_PERCENT} % ran once more if the time budget allowed, and the less disturbed run is shown (marked *). ` +
    `Loopback only. PushCam was started with maxClients 1000 (its default is 32).`;
  const figures = (r: FanoutResult, line: FanoutLine): string[] => mainFigures(r, line, lines);
  return `${table(MAIN_HEADER, lines.map((l) => cells(l, MAIN_HEADER.length, figures)))}\n\n${note}`;
}

const SLOW_HEADER = [
  'viewers',
  'server',
  'slow viewers: fps (median / min)',
  'slow viewers: frame age, ms (median / p95)',
  'healthy viewers: fps (median / min)',
  'healthy viewers: frame age, ms (median / p95)',
  'server RSS idle → end (peak)',
  'unsent in kernel',
  'rest of machine CPU',
];

function slowFigures(r: FanoutResult): string[] {
  return [
    pair(r.slow.fpsMedian, r.slow.fpsMin),
    pair(r.slow.ageMedianMs, r.slow.ageP95Ms, 0),
    pair(r.healthy.fpsMedian, r.healthy.fpsMin),
    pair(r.healthy.ageMedianMs, r.healthy.ageP95Ms, 0),
    rss(r),
    mb(r.kernelQueuedBytes),
    percent(r.otherCpuPercent),
  ];
}

export function slowTable(lines: readonly FanoutLine[]): string {
  const rate = lines[0]?.viewers.slowBytesPerSecond ?? 0;
  const note =
    `The same stream; ${SLOW_ROW.slow} of the viewers read no faster than ${num(rate / 2 ** 20, 2)} MB/s, ${SLOW_ROW.shareOfStream * 100} % of what the stream needs (a token bucket pausing and resuming the socket), ` +
    `as a phone on weak Wi-Fi would. ${SLOW_ROW.warmupMs / 1000} s warm-up, so the delay has built up, then ${MEASURE_MS / 1000} s measured. ` +
    `Rows marked * are the less disturbed of two runs, as above. ` +
    `What a slow viewer has not read yet waits first in the kernel's socket buffers (Linux grows a send buffer to several MB; "unsent in kernel" is their Send-Q at the end), and only then in the server: the frame age shows how late such a viewer really is.`;
  return `${table(SLOW_HEADER, lines.map((l) => cells(l, SLOW_HEADER.length, slowFigures)))}\n\n${note}`;
}
