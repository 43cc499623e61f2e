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

export interface EncodeBudget {
  warmupRuns: number;
  minRuns: number;
  /** Keep going past minRuns until this much time is spent, so fast sizes get more samples. */
  minMs: number;
}

/**
 * Times PushCam's own Encoder on `picture`, one encode at a time as the pipeline does. Each run
 * gets a fresh copy of the pixels (a source makes a new buffer for every frame, and the overlays
 * draw into the buffer in place); the copy is made outside the timed part.
 */
export async function timeEncoder(picture: RawImage, settings: Partial<EncodeSettings>, budget: EncodeBudget): Promise<EncodeTiming> {
  const encoder = new Encoder(settings);
  return timeRuns(budget, async () => {
    const image: RawImage = { ...picture, data: Buffer.from(picture.data) };
    const started = performance.now();
    const { jpeg } = await encoder.encode({ kind: 'raw', image });
    return { ms: performance.now() - started, bytes: jpeg.length };
  });
}

/**
 * The same encode straight through sharp, as the Encoder does it at the end: shows how much of
 * the Encoder's time is sharp's own and how much is the Encoder's work around it.
 */
export async function timeBareSharp(picture: RawImage, quality: number, budget: EncodeBudget): Promise<EncodeTiming> {
  return timeRuns(budget, async () => {
    const started = performance.now();
    const jpeg = await sharp(picture.data, { raw: picture }).jpeg({ quality, optimiseCoding: false }).toBuffer();
    return { ms: performance.now() - started, bytes: jpeg.length };
  });
}

async function timeRuns(budget: EncodeBudget, once: () => Promise<{ ms: number; bytes: number }>): Promise<EncodeTiming> {
  for (let i = 0; i < budget.warmupRuns; i++) await once();
  const times: number[] = [];
  let bytes = 0;
  const started = performance.now();
  while (times.length < budget.minRuns || performance.now() - started < budget.minMs) {
    const run = await once();
    times.push(run.ms);
    bytes = run.bytes;
  }
  return { medianMs: median(times), p95Ms: quantile(times, 0.95), runs: times.length, bytes };
}
