// The encode table: PushCam's Encoder, sharp alone and the live path against tjbench, per frame size.
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { Encoder } from '../server/encoder/encoder.js';
import { FRAMES_IN_FLIGHT } from '../server/pipeline.js';
import type { EncodeSettings, RawImage } from '../server/types.js';
import { LivePath, type LivePathResult } from './live-path.js';
import { kb, num, table } from './markdown.js';
import { testPicture } from './picture.js';
import { machineBusySeconds, ownCpuSeconds } from './proc.js';
import { ENCODE_BUDGET, LIVE_PATH_MS, ORIENT, OVERLAY, QUALITY, SIZES, TJBENCH_SECONDS } from './settings.js';
import { lessDisturbed, median, quantile } from './stats.js';
import { haveTjbench, Tjbench, type TjbenchResult } from './tjbench.js';

interface EncodeTiming {
  medianMs: number;
  p95Ms: number;
  runs: number;
  bytes: number;
}

/** One timed encode. */
type EncodeCase = () => Promise<{ ms: number; bytes: number }>;

interface InterleaveBudget {
  /** Untimed passes before the first round. */
  warmupPasses: number;
  rounds: number;
  /** Timed encodes of each case per round. */
  perRound: number;
}

/**
 * PushCam's own Encoder on `picture`. Each run gets a fresh copy of the pixels (a source makes a
 * new buffer for every frame, and the overlays draw into the buffer in place); the copy is made
 * outside the timed part.
 */
function encoderCase(picture: RawImage, settings: Partial<EncodeSettings>): EncodeCase {
  const encoder = new Encoder(settings);
  return async () => {
    const image: RawImage = { ...picture, data: Buffer.from(picture.data) };
    const started = performance.now();
    const { jpeg } = await encoder.encode({ kind: 'raw', image });
    return { ms: performance.now() - started, bytes: jpeg.length };
  };
}

/**
 * The same encode straight through sharp, as the Encoder does it at the end: shows how much of
 * the Encoder's time is sharp's own and how much is the Encoder's work around it. It copies the
 * pixels too (untimed), so both make the same garbage and meet the same collector pauses.
 */
function bareSharpCase(picture: RawImage, quality: number): EncodeCase {
  return async () => {
    const data = Buffer.from(picture.data);
    const started = performance.now();
    const jpeg = await sharp(data, { raw: picture }).jpeg({ quality, optimiseCoding: false }).toBuffer();
    return { ms: performance.now() - started, bytes: jpeg.length };
  };
}

/**
 * Times every case, taking turns (one encode of each, again and again, one at a time as the
 * pipeline encodes), with `betweenRounds` run between rounds. On a machine where other work
 * comes and goes, taking turns spreads the disturbance evenly over the columns of one row
 * instead of landing on whichever case ran at the wrong moment. Each round starts with an
 * untimed pass: whatever ran between rounds left cold caches and idle threads, and the first
 * case after it would otherwise pay for them alone.
 */
async function timeInterleaved(cases: readonly EncodeCase[], budget: InterleaveBudget, betweenRounds: () => Promise<void>): Promise<EncodeTiming[]> {
  const times = cases.map((): number[] => []);
  const bytes = cases.map(() => 0);
  const pass = async (timed: boolean): Promise<void> => {
    for (const [n, run] of cases.entries()) {
      const { ms, bytes: size } = await run();
      if (timed) times[n].push(ms);
      bytes[n] = size;
    }
  };
  for (let i = 0; i < budget.warmupPasses; i++) await pass(false);
  for (let round = 0; round < budget.rounds; round++) {
    await pass(false);
    for (let i = 0; i < budget.perRound; i++) await pass(true);
    await betweenRounds();
  }
  return times.map((t, n) => ({ medianMs: median(t), p95Ms: quantile(t, 0.95), runs: t.length, bytes: bytes[n] }));
}

interface EncodeRow {
  size: string;
  bare: EncodeTiming;
  plain: EncodeTiming;
  overlay: EncodeTiming;
  orient: EncodeTiming;
  live: LivePathResult;
  tj: TjbenchResult | null;
}

export interface EncodeResults {
  rows: EncodeRow[];
  /** How much of a core everything else on the machine used meanwhile. */
  otherCpuPercent: number;
  /** How many times it was measured: a disturbed measurement runs again if time allows. */
  runs: number;
}

const cell = (t: EncodeTiming): string => `${num(t.medianMs)} / ${num(t.p95Ms)}`;

async function encodeRow(width: number, height: number, dir: string, tjAvailable: boolean): Promise<EncodeRow> {
  const picture = await testPicture(width, height);
  const quality = { quality: QUALITY };
  const tj = tjAvailable ? await Tjbench.prepare(picture, QUALITY, dir, TJBENCH_SECONDS) : null;
  const live = new LivePath(picture, quality, LIVE_PATH_MS);
  const cases = [
    encoderCase(picture, quality),
    encoderCase(picture, { ...quality, ...OVERLAY }),
    encoderCase(picture, { ...quality, ...ORIENT }),
    bareSharpCase(picture, QUALITY),
  ];
  const [plain, overlay, orient, bare] = await timeInterleaved(cases, ENCODE_BUDGET, async () => {
    await tj?.runOnce();
    await live.runOnce();
  });
  return { size: `${width}x${height}`, plain, overlay, orient, bare, live: live.result(), tj: tj?.result() ?? null };
}

async function encodeRows(dir: string, progress: (line: string) => void): Promise<EncodeRow[]> {
  const tjAvailable = await haveTjbench();
  if (!tjAvailable) progress('tjbench is missing (apt-get install -y libjpeg-turbo-progs); its column stays empty');
  const rows: EncodeRow[] = [];
  for (const [width, height] of SIZES) {
    progress(`encode ${width}x${height}`);
    rows.push(await encodeRow(width, height, dir, tjAvailable));
  }
  return rows;
}

/** Every encode figure, with the machine's other CPU use over the same time (tjbench counts as ours). */
export async function measureEncode(dir: string, progress: (line: string) => void): Promise<EncodeResults> {
  const started = { at: performance.now(), machine: machineBusySeconds(), own: ownCpuSeconds() };
  const rows = await encodeRows(dir, progress);
  const seconds = (performance.now() - started.at) / 1000;
  const other = machineBusySeconds() - started.machine - (ownCpuSeconds() - started.own);
  return { rows, otherCpuPercent: Math.max(0, (other / seconds) * 100), runs: 1 };
}

// The encode measurements take about this long on a 2-core machine.
const ENCODE_ESTIMATE_MS = 50_000;

/** The encode figures again if the first were disturbed and there is time before `until` (a performance.now() value). */
export async function retryEncodeIfDisturbed(first: EncodeResults, dir: string, progress: (line: string) => void, until: number): Promise<EncodeResults> {
  const { result, runs } = await lessDisturbed(first, (r) => r.otherCpuPercent, () => performance.now() + ENCODE_ESTIMATE_MS < until, () => {
    progress(`encoding again, as other work used ${num(first.otherCpuPercent, 0)} % of a core the first time:`);
    return measureEncode(dir, progress);
  });
  return { ...result, runs };
}

export function encodeTable({ rows, otherCpuPercent, runs: measured }: EncodeResults): string {
  const header = [
    'frame',
    'PushCam Encoder',
    '+ timestamp + text',
    '+ mirror + rotate 90',
    'sharp alone',
    'tjbench',
    'live path: fps · CPU ms per frame',
    'live path / tjbench, fps',
    'JPEG size (PushCam / tjbench)',
  ];
  const body = rows.map((r) => [
    r.size,
    cell(r.plain),
    cell(r.overlay),
    cell(r.orient),
    cell(r.bare),
    r.tj ? `${num(r.tj.ms)} (${r.tj.subsampling})` : 'not installed',
    `${num(r.live.fps, 0)} · ${num(r.live.cpuMsPerFrame)}`,
    r.tj ? `**${num((r.live.fps * r.tj.ms) / 1000, 2)}**` : '–',
    `${kb(r.plain.bytes)} / ${r.tj ? kb(r.tj.bytes) : '–'}`,
  ]);
  const runs = Math.min(...rows.flatMap((r) => [r.bare.runs, r.plain.runs, r.overlay.runs, r.orient.runs]));
  const note =
    `q${QUALITY}, ${runs} encodes per cell, ${ENCODE_BUDGET.rounds} runs of tjbench (${TJBENCH_SECONDS} s) and of the live path (${LIVE_PATH_MS / 1000} s, ${FRAMES_IN_FLIGHT} frames in flight) per row. ` +
    `Meanwhile the rest of the machine used ${num(otherCpuPercent, 0)} % of one core${measured > 1 ? ` (the less disturbed of ${measured} measurements)` : ''}. Method and columns: docs/benchmarks.md.`;
  return `${table(header, body)}\n\n${note}`;
}
