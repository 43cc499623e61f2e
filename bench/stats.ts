// Summaries of repeated measurements. Medians and high percentiles, not means: a single GC pause
// or scheduler hiccup should show in p95, not shift the typical figure.
import { performance } from 'node:perf_hooks';
import { num } from './markdown.js';
import { DISTURBED_PERCENT } from './settings.js';

/** The value at quantile `q` (0..1) of `values`, by the nearest-rank method. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const median = (values: readonly number[]): number => quantile(values, 0.5);

/** A measurement that may run again: how much other work took the cores meanwhile, % of one core. */
export interface Retryable<T extends { otherCpuPercent: number }, Failed = never> {
  /** A failed row (where Failed is Error) is reported, and counts as the most disturbed. */
  result: T | Failed;
  runs: number;
  again: () => Promise<T | Failed>;
}

/** A table's measurements, which may run again if disturbed, and how to print them once they are final. */
export interface MeasuredTable {
  title: string;
  items: Retryable<{ otherCpuPercent: number }, Error>[];
  /** How long one item takes to measure again. */
  estimateMs: number;
  render: () => string;
}

const disturbance = (r: { otherCpuPercent: number } | Error): number => (r instanceof Error ? Number.POSITIVE_INFINITY : r.otherCpuPercent);

/**
 * On a shared machine other work can take the cores in the middle of a measurement: the most
 * disturbed measurements first (above DISTURBED_PERCENT, or failed) run once more while one
 * taking `estimateMs` still ends before `until` (a performance.now() value); the less disturbed
 * of the two is kept.
 */
export async function retryDisturbed({ items, estimateMs }: MeasuredTable, until: number, progress: (line: string) => void): Promise<void> {
  for (const item of [...items].sort((a, b) => disturbance(b.result) - disturbance(a.result))) {
    if (disturbance(item.result) <= DISTURBED_PERCENT || performance.now() + estimateMs > until) continue;
    progress(item.result instanceof Error ? 'again, as it failed:' : `again, as other work used ${num(item.result.otherCpuPercent, 0)} % of a core the first time:`);
    const again = await item.again();
    if (disturbance(again) < disturbance(item.result)) item.result = again;
    item.runs = 2;
  }
}
