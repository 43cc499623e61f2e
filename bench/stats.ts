// Summaries of repeated measurements. Medians and high percentiles, not means: a single GC pause
// or scheduler hiccup should show in p95, not shift the typical figure.
import { DISTURBED_PERCENT } from './settings.js';

/** The value at quantile `q` (0..1) of `values`, by the nearest-rank method. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/**
 * On a shared machine other work can take the cores in the middle of a measurement: if it took
 * more than DISTURBED_PERCENT of a core during `first` and `mayRetry()`, `measure` runs once more
 * and the less disturbed of the two is kept; with how many runs there were, for the table to say.
 */
export async function lessDisturbed<T>(first: T, disturbance: (r: T) => number, mayRetry: () => boolean, measure: () => Promise<T>): Promise<{ result: T; runs: number }> {
  if (disturbance(first) <= DISTURBED_PERCENT || !mayRetry()) return { result: first, runs: 1 };
  const again = await measure();
  return { result: disturbance(again) < disturbance(first) ? again : first, runs: 2 };
}
