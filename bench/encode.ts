// The encode table: PushCam's Encoder, sharp alone and the live path against tjbench, per frame
// size (docs/benchmarks.md: method and columns).
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { Encoder } from '../server/encoder/encoder.js';
import { FRAMES_IN_FLIGHT } from '../server/pipeline.js';
import type { RawImage } from '../server/types.js';
import type { EncodeSettings } from '../shared/settings-table.js';
import { livePath } from './live-path.js';
import { kb, num, table } from './markdown.js';
import { testPicture } from './picture.js';
import { cpuMark, otherCpuPercent } from './proc.js';
import { ENCODE_BUDGET, LIVE_PATH_MS, ORIENT, OVERLAY, QUALITY, SIZES, TJBENCH_SECONDS } from './settings.js';
import type { MeasuredTable, Retryable } from './stats.js';
import { median, quantile } from './stats.js';
import { haveTjbench, prepareTjbench } from './tjbench.js';

/** One timed encode. */
type EncodeCase = () => Promise<{ ms: number; bytes: number }>;

/**
 * PushCam's own Encoder on a fresh copy of the pixels each time (a source makes a new buffer for
 * every frame, and the overlays draw into it in place), made outside the timed part.
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

/** The same encode as one sharp call, as the Encoder makes it at the end; it copies the pixels too (untimed), so both meet the same collector pauses. */
function bareSharpCase(picture: RawImage, quality: number): EncodeCase {
  return async () => {
    const data = Buffer.from(picture.data);
    const started = performance.now();
    const jpeg = await sharp(data, { raw: picture }).jpeg({ quality, optimiseCoding: false }).toBuffer();
    return { ms: performance.now() - started, bytes: jpeg.length };
  };
}

/**
 * Times every case taking turns (one encode of each, again and again, one at a time as the
 * pipeline encodes), so other work on the machine hits the columns of a row alike; each round
 * starts with an untimed pass, as `betweenRounds` leaves cold caches and idle threads behind.
 */
async function timeInterleaved(cases: readonly EncodeCase[], betweenRounds: () => Promise<void>): Promise<{ cell: string; bytes: number }[]> {
  const times = cases.map((): number[] => []);
  const bytes = cases.map(() => 0);
  const pass = async (timed: boolean): Promise<void> => {
    for (const [n, run] of cases.entries()) {
      const { ms, bytes: size } = await run();
      if (timed) times[n].push(ms);
      bytes[n] = size;
    }
  };
  for (let i = 0; i < ENCODE_BUDGET.warmupPasses; i++) await pass(false);
  for (let round = 0; round < ENCODE_BUDGET.rounds; round++) {
    await pass(false);
    for (let i = 0; i < ENCODE_BUDGET.perRound; i++) await pass(true);
    await betweenRounds();
  }
  return times.map((t, n) => ({ cell: `${num(median(t))} / ${num(quantile(t, 0.95))}`, bytes: bytes[n] }));
}

async function encodeRow(width: number, height: number, dir: string, tjAvailable: boolean): Promise<string[]> {
  const picture = await testPicture(width, height);
  const quality = { quality: QUALITY };
  const tj = tjAvailable ? await prepareTjbench(picture, QUALITY, dir) : null;
  const live = livePath(picture, quality);
  const cases = [encoderCase(picture, quality), encoderCase(picture, { ...quality, ...OVERLAY }), encoderCase(picture, { ...quality, ...ORIENT }), bareSharpCase(picture, QUALITY)];
  const [plain, overlay, orient, bare] = await timeInterleaved(cases, async () => {
    await tj?.runOnce();
    await live.runOnce();
  });
  const t = tj?.result();
  const l = live.result();
  return [
    `${width}x${height}`, plain.cell, overlay.cell, orient.cell, bare.cell,
    t ? `${num(t.ms)} (${t.subsampling})` : 'not installed',
    `${num(l.fps, 0)} · ${num(l.cpuMsPerFrame)}`,
    t ? `**${num((l.fps * t.ms) / 1000, 2)}**` : '–',
    `${kb(plain.bytes)} / ${t ? kb(t.bytes) : '–'}`,
  ];
}

interface EncodeResults {
  rows: string[][];
  /** How much of a core everything else on the machine used meanwhile (tjbench counts as the bench's). */
  otherCpuPercent: number;
}

async function measureEncode(dir: string, tjAvailable: boolean, progress: (line: string) => void): Promise<EncodeResults> {
  const started = { at: performance.now(), cpu: cpuMark() };
  const rows: string[][] = [];
  for (const [width, height] of SIZES) {
    progress(`encode ${width}x${height}`);
    rows.push(await encodeRow(width, height, dir, tjAvailable));
  }
  return { rows, otherCpuPercent: otherCpuPercent(started.cpu, cpuMark(), (performance.now() - started.at) / 1000) };
}

const HEADER = [
  'frame', 'PushCam Encoder', '+ timestamp + text', '+ mirror + rotate 90', 'sharp alone', 'tjbench',
  'live path: fps · CPU ms per frame', 'live path / tjbench, fps', 'JPEG size (PushCam / tjbench)',
];

export async function encodeTable(dir: string, progress: (line: string) => void): Promise<MeasuredTable> {
  const tjAvailable = await haveTjbench();
  if (!tjAvailable) progress('tjbench is missing (apt-get install -y libjpeg-turbo-progs); its column stays empty');
  const again = (): Promise<EncodeResults> => measureEncode(dir, tjAvailable, progress);
  const item: Retryable<EncodeResults> = { result: await again(), runs: 1, again };
  const render = (): string => {
    const { rows, otherCpuPercent } = item.result;
    const { rounds, perRound } = ENCODE_BUDGET;
    const note =
      `q${QUALITY}, ${rounds * perRound} encodes per cell, ${rounds} runs of tjbench (${TJBENCH_SECONDS} s) and of the live path (${LIVE_PATH_MS / 1000} s, ${FRAMES_IN_FLIGHT} frames in flight) per row. ` +
      `Meanwhile the rest of the machine used ${num(otherCpuPercent, 0)} % of one core${item.runs > 1 ? ` (the less disturbed of ${item.runs} measurements)` : ''}. Method and columns: docs/benchmarks.md.`;
    return table(HEADER, rows, note);
  };
  // The encode measurements take about this long on a 2-core machine.
  return { title: 'Encode cost per frame (ms, median / p95)', items: [item], estimateMs: 50_000, render };
}
