// `npm run bench`: what a frame costs to encode and what fan-out to many viewers costs, measured
// side by side with libjpeg-turbo's tjbench and the npm package mjpeg-server, printed as the
// Markdown tables in the README and written to bench/results.md.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Encoder } from '../server/encoder/encoder.js';
import { killAllChildren } from './children.js';
import { type EncodeTiming, timeBareSharp, timeEncoder } from './encode-bench.js';
import { type FanoutResult, runFanout, type ServerKind } from './fanout.js';
import { machineNote } from './machine.js';
import { machineBusySeconds, ownCpuSeconds } from './proc.js';
import { kb, mb, num, table } from './markdown.js';
import { testPicture } from './picture.js';
import { sum } from './stats.js';
import { haveTjbench, tjbench, type TjbenchResult } from './tjbench.js';

// The whole run must end by itself well inside its 6-minute budget, whatever hangs.
const DEADLINE_MS = 330_000;
const QUALITY = 80;
const SIZES = [
  [640, 480],
  [1280, 720],
  [1920, 1080],
] as const;
const ENCODE_BUDGET = { warmupRuns: 5, minRuns: 40, minMs: 1500 };
const TJBENCH_SECONDS = 1.5;
const RING_FRAMES = 30;
const FPS = 30;
const WARMUP_MS = 2000;
const MEASURE_MS = 10_000;
const VIEWER_ROWS = [
  { healthy: 1, stalled: 0 },
  { healthy: 50, stalled: 0 },
  { healthy: 200, stalled: 0 },
  { healthy: 180, stalled: 20 },
] as const;
const SERVERS: readonly ServerKind[] = ['pushcam', 'mjpeg-server'];
const SERVER_NAME: Record<ServerKind, string> = { pushcam: 'PushCam', 'mjpeg-server': 'mjpeg-server 0.3.1' };
const OVERLAY = { timestamp: true, text: 'Front door' };
const ORIENT = { mirror: true, rotate: 90 } as const;

const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
const cell = (t: EncodeTiming): string => `${num(t.medianMs)} / ${num(t.p95Ms)}`;

interface EncodeRow {
  size: string;
  bare: EncodeTiming;
  plain: EncodeTiming;
  overlay: EncodeTiming;
  orient: EncodeTiming;
  tj: TjbenchResult | null;
}

async function encodeRows(dir: string): Promise<EncodeRow[]> {
  const tjAvailable = await haveTjbench();
  if (!tjAvailable) progress('tjbench is missing (apt-get install -y libjpeg-turbo-progs); its column stays empty');
  const rows: EncodeRow[] = [];
  for (const [width, height] of SIZES) {
    progress(`encode ${width}x${height}`);
    const picture = await testPicture(width, height);
    const quality = { quality: QUALITY };
    rows.push({
      size: `${width}x${height}`,
      bare: await timeBareSharp(picture, QUALITY, ENCODE_BUDGET),
      plain: await timeEncoder(picture, quality, ENCODE_BUDGET),
      overlay: await timeEncoder(picture, { ...quality, ...OVERLAY }, ENCODE_BUDGET),
      orient: await timeEncoder(picture, { ...quality, ...ORIENT }, ENCODE_BUDGET),
      tj: tjAvailable ? await tjbench(picture, QUALITY, dir, TJBENCH_SECONDS) : null,
    });
  }
  return rows;
}

/** The encode rows, and how much of a core the rest of the machine used meanwhile. */
async function measureEncode(dir: string): Promise<{ rows: EncodeRow[]; otherCpuPercent: number }> {
  const started = { at: performance.now(), machine: machineBusySeconds(), own: ownCpuSeconds() };
  const rows = await encodeRows(dir);
  const seconds = (performance.now() - started.at) / 1000;
  const other = machineBusySeconds() - started.machine - (ownCpuSeconds() - started.own);
  return { rows, otherCpuPercent: Math.max(0, (other / seconds) * 100) };
}

function encodeTable({ rows, otherCpuPercent }: { rows: readonly EncodeRow[]; otherCpuPercent: number }): string {
  const header = ['frame', 'PushCam Encoder', '+ timestamp + text', '+ mirror + rotate 90', 'sharp alone', 'tjbench', 'JPEG size (PushCam / tjbench)'];
  const body = rows.map((r) => [
    r.size,
    cell(r.plain),
    cell(r.overlay),
    cell(r.orient),
    cell(r.bare),
    r.tj ? `${num(r.tj.ms)} (${r.tj.subsampling})` : 'not installed',
    `${kb(r.plain.bytes)} / ${r.tj ? kb(r.tj.bytes) : '–'}`,
  ]);
  const runs = Math.min(...rows.flatMap((r) => [r.bare.runs, r.plain.runs, r.overlay.runs, r.orient.runs]));
  const note =
    `Raw RGB to JPEG q${QUALITY}, 4:2:0, one frame at a time, on a camera-like test picture (gradients, soft texture, hard edges, grain; bench/picture.ts). ` +
    `PushCam columns: \`Encoder\` from server/encoder/encoder.ts with default settings (Huffman optimisation off), then with a timestamp and a text overlay, then mirrored and rotated 90°; median / p95 over at least ${runs} runs after a warm-up. ` +
    `"sharp alone": the same encode as one sharp call, without the Encoder around it. ` +
    `tjbench: \`tjbench frame.ppm ${QUALITY} -rgb -subsamp 420 -componly\` on the same pixels, its compression throughput as ms per frame (its average, not a median); JPEG size from its compression ratio. ` +
    `Meanwhile the rest of the machine used ${num(otherCpuPercent, 0)} % of one core.`;
  return `${table(header, body)}\n\n${note}`;
}

/** 30 different 640x480 frames, encoded once by PushCam's Encoder, for both servers to send. */
async function writeRing(dir: string): Promise<number> {
  await mkdir(dir, { recursive: true });
  const encoder = new Encoder({ quality: QUALITY });
  const sizes: number[] = [];
  for (let i = 0; i < RING_FRAMES; i++) {
    const { jpeg } = await encoder.encode({ kind: 'raw', image: await testPicture(640, 480, i) });
    sizes.push(jpeg.length);
    await writeFile(join(dir, `frame-${String(i).padStart(2, '0')}.jpg`), jpeg);
  }
  return sum(sizes) / sizes.length;
}

interface FanoutLine {
  healthy: number;
  stalled: number;
  server: ServerKind;
  result: FanoutResult;
}

async function fanoutLines(framesDir: string): Promise<FanoutLine[]> {
  const lines: FanoutLine[] = [];
  for (const { healthy, stalled } of VIEWER_ROWS) {
    // Both servers one after the other for each row, so a drift in the machine hits both.
    for (const server of SERVERS) {
      progress(`fan-out ${healthy + stalled} viewers (${stalled} stalled), ${server}`);
      const result = await runFanout({ server, healthy, stalled, warmupMs: WARMUP_MS, measureMs: MEASURE_MS, framesDir, fps: FPS });
      lines.push({ healthy, stalled, server, result });
    }
  }
  return lines;
}

function viewersLabel(line: FanoutLine): string {
  return line.stalled ? `${line.healthy + line.stalled} (${line.stalled} stalled)` : String(line.healthy);
}

/** A row whose viewers did not all get a stream says so, instead of showing flattering figures. */
function connectedNote(line: FanoutLine): string {
  const { connected } = line.result;
  const missing = line.healthy - connected.healthy + (line.stalled - connected.stalled);
  if (missing === 0) return '';
  const why = Object.entries(connected.failures).map(([reason, n]) => `${n}× ${reason}`).join(', ');
  return ` (${missing} refused: ${why})`;
}

/** What the server held back in the window: PushCam skips frames, mjpeg-server queues bytes. */
function backlog(r: FanoutResult): string {
  if (r.skippedPerViewerPerSecond !== null) return `${num(r.skippedPerViewerPerSecond)} frames/s skipped`;
  if (r.queuedBytes !== null) return `${mb(r.queuedBytes)} queued`;
  return '–';
}


function fanoutTable(lines: readonly FanoutLine[], avgFrameBytes: number): string {
  const header = ['viewers', 'server', 'fps per healthy viewer (median / min)', 'delivered, MB/s', 'server CPU, % of one core', 'server RSS idle → end (peak)', 'held back', "viewers' process CPU", 'rest of machine CPU'];
  const body = lines.map((l) => [
    viewersLabel(l),
    SERVER_NAME[l.server] + connectedNote(l),
    `${num(l.result.fpsMedian)} / ${num(l.result.fpsMin)}`,
    num(l.result.deliveredBytesPerSecond / 2 ** 20, 0),
    `${num(l.result.serverCpuPercent, 0)} %`,
    `${mb(l.result.idleRssBytes)} → ${mb(l.result.endRssBytes)} (${mb(l.result.peakRssBytes)})`,
    backlog(l.result),
    `${num(l.result.clientCpuPercent, 0)} %`,
    `${num(l.result.otherCpuPercent, 0)} %`,
  ]);
  const note =
    `640x480 at ${FPS} fps: a ring of ${RING_FRAMES} different frames encoded once beforehand at q${QUALITY} (${kb(avgFrameBytes)} on average), handed out as a new buffer per frame as a camera would; PushCam's encoder passes them through, so only fan-out is measured. ` +
    `mjpeg-server gets the same frames on the same schedule and writes each to every client (\`createReqHandler(req, res)\`, \`handler.write(jpeg)\`, its documented use). ` +
    `Each server runs alone in a fresh child process (CPU and memory from /proc, all its threads; peak = VmHWM); the viewers are raw HTTP connections in another child process, counting parts by boundary; ` +
    `${WARMUP_MS / 1000} s warm-up, then ${MEASURE_MS / 1000} s measured. Stalled viewers send the request and never read. ` +
    `"Held back": frames PushCam skipped per healthy viewer (it keeps only the newest frame), bytes mjpeg-server's responses hold unsent at the end (it keeps every frame; the stalled viewers share the same frame buffers, so RSS grows less than this). ` +
    `"Rest of machine": all CPU time not charged to the two children (other processes and kernel network work), % of one core; high values mean the row was disturbed. Loopback only. PushCam was started with maxClients 1000 (its default is 32).`;
  return `${table(header, body)}\n\n${note}`;
}

const load = (): string => loadavg().map((n) => n.toFixed(1)).join(' / ');

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = load();
  const dir = await mkdtemp(join(tmpdir(), 'pushcam-bench-'));
  try {
    const machine = machineNote();
    const encode = encodeTable(await measureEncode(dir));
    progress('encoding the fan-out frames');
    const framesDir = join(dir, 'frames');
    const avgFrameBytes = await writeRing(framesDir);
    const fanout = fanoutTable(await fanoutLines(framesDir), avgFrameBytes);
    const minutes = (performance.now() - started) / 60_000;
    const report = [
      '## Benchmarks',
      `Measured by \`npm run bench\` on ${machine}. Whole run: ${num(minutes)} min; load average (1 / 5 / 15 min) ${loadBefore} at the start, ${load()} at the end (anything above 0 is other work competing for the same cores).`,
      '### Encode cost per frame (ms, median / p95)',
      encode,
      '### Fan-out to many viewers',
      fanout,
    ].join('\n\n');
    console.log(report);
    await writeFile(fileURLToPath(new URL('./results.md', import.meta.url)), `${report}\n`);
  } finally {
    killAllChildren();
    await rm(dir, { recursive: true, force: true });
  }
}

const deadline = setTimeout(() => {
  progress(`still running after ${DEADLINE_MS / 1000} s: stopping`);
  killAllChildren();
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

try {
  await main();
} catch (err) {
  killAllChildren();
  console.error(err);
  process.exitCode = 1;
}
