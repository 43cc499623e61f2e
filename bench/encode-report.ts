import { performance } from 'node:perf_hooks';
import { FRAMES_IN_FLIGHT } from '../server/pipeline.js';
import { bareSharpCase, encoderCase, type EncodeTiming, timeInterleaved } from './encode-bench.js';
import { LivePath, type LivePathResult } from './live-path.js';
import { kb, num, table } from './markdown.js';
import { testPicture } from './picture.js';
import { machineBusySeconds, ownCpuSeconds } from './proc.js';
import { DISTURBED_PERCENT, ENCODE_BUDGET, LIVE_PATH_MS, ORIENT, OVERLAY, QUALITY, SIZES, TJBENCH_SECONDS } from './settings.js';
import { haveTjbench, Tjbench, type TjbenchResult } from './tjbench.js';

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

/**
 * Measures again if other work took more than DISTURBED_PERCENT of a core the first time and
 * there is time before `until` (a performance.now() value); keeps the less disturbed of the two.
 */
export async function retryEncodeIfDisturbed(first: EncodeResults, dir: string, progress: (line: string) => void, until: number): Promise<EncodeResults> {
  if (first.otherCpuPercent <= DISTURBED_PERCENT || performance.now() + ENCODE_ESTIMATE_MS > until) return first;
  progress(`encoding again, as other work used ${num(first.otherCpuPercent, 0)} % of a core the first time:`);
  const again = await measureEncode(dir, progress);
  return { ...(again.otherCpuPercent < first.otherCpuPercent ? again : first), runs: 2 };
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
