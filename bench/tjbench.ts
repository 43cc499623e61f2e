import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RawImage } from '../server/types.js';
import { TJBENCH_SECONDS } from './settings.js';
import { median } from './stats.js';

const run = promisify(execFile);

interface TjbenchResult {
  /** Milliseconds per frame, from tjbench's compression throughput. */
  ms: number;
  subsampling: string;
  /** The JPEG size tjbench's compression ratio implies, to check both tools made a similar file. */
  bytes: number;
}

/** Whether tjbench is installed; the table says so instead of failing when it is not. */
export async function haveTjbench(): Promise<boolean> {
  try {
    await run('tjbench', ['-h']);
    return true;
  } catch (err) {
    // libjpeg-turbo 2.1's tjbench exits non-zero after printing its usage.
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

/**
 * libjpeg-turbo's own figure for the same pixels: compression only, RGB in, 4:2:0, one thread,
 * default Huffman tables, run several short times between the other encodes; `result` is the
 * median run (docs/benchmarks.md).
 */
export async function prepareTjbench(picture: RawImage, quality: number, dir: string): Promise<{ runOnce: () => Promise<void>; result: () => TjbenchResult }> {
  const file = join(dir, `frame-${picture.width}x${picture.height}.ppm`);
  // A binary PPM (P6): RGB, the test picture's 3 channels.
  await writeFile(file, Buffer.concat([Buffer.from(`P6\n${picture.width} ${picture.height}\n255\n`), picture.data]));
  const args = [file, String(quality), '-rgb', '-subsamp', '420', '-componly', '-nowrite', '-quiet', '-benchtime', String(TJBENCH_SECONDS), '-warmup', '0.1'];
  const runs: TjbenchResult[] = [];
  return {
    runOnce: async () => void runs.push(parseQuiet((await run('tjbench', args, { timeout: 60_000 })).stdout, picture)),
    result: () => ({ ...runs[0], ms: median(runs.map((r) => r.ms)) }),
  };
}

/**
 * tjbench -quiet prints one row per test, e.g.
 * `RGB  (TD)  4:2:0    80    640    480     233.7   5.010   N/A`:
 * format, row order, subsampling, quality, width, height, Mpixels/s, ratio, decompression.
 */
function parseQuiet(stdout: string, picture: RawImage): TjbenchResult {
  const row = stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((cells) => cells.length >= 8 && /^\d:\d:\d$/.test(cells[2]) && cells[4] === String(picture.width));
  if (!row) throw new Error(`cannot read tjbench's output:\n${stdout}`);
  const mpixelsPerSecond = Number(row[6]);
  const ratio = Number(row[7]);
  const pixels = picture.width * picture.height;
  return { ms: (pixels / 1e6 / mpixelsPerSecond) * 1000, subsampling: row[2], bytes: (pixels * 3) / ratio };
}
