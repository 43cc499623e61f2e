import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { Encoder } from '../server/encoder/encoder.js';
import type { EncodeSettings, RawImage } from '../server/types.js';
import { median, quantile } from './stats.js';

export interface EncodeTiming {
  medianMs: number;
  p95Ms: number;
  runs: number;
  bytes: number;
}

/** One timed encode. */
export type EncodeCase = () => Promise<{ ms: number; bytes: number }>;

export interface InterleaveBudget {
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
export function encoderCase(picture: RawImage, settings: Partial<EncodeSettings>): EncodeCase {
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
export function bareSharpCase(picture: RawImage, quality: number): EncodeCase {
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
export async function timeInterleaved(cases: readonly EncodeCase[], budget: InterleaveBudget, betweenRounds: () => Promise<void>): Promise<EncodeTiming[]> {
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
