import type { Stats } from '../../shared/contract.js';
import { byTestId, setText } from './dom.js';
import { Sparkline } from './sparkline.js';

// The three numbers that say how the broadcast runs, each with its last minute as a sparkline.

/** Stats come once a second: a minute of them. */
const HISTORY = 60;

interface Metric {
  key: Exclude<keyof Stats, 'at'>;
  testId: string;
  label: string;
  unit: string;
}

const METRICS: Metric[] = [
  { key: 'captureFps', testId: 'stat-capture', label: 'Capture rate over the last minute', unit: 'fps' },
  { key: 'encodeMs', testId: 'stat-encode', label: 'JPEG encoding time over the last minute', unit: 'ms' },
  { key: 'outKBps', testId: 'stat-out', label: 'Outgoing data rate over the last minute', unit: 'kB/s' },
];

export function bindStats(): (stats: Stats) => void {
  const history: Stats[] = [];
  const shown = METRICS.map((metric) => {
    const tile = byTestId(metric.testId, HTMLElement);
    const value = byTestId('value', HTMLElement, tile);
    const sparkline = new Sparkline(metric.label, HISTORY);
    tile.append(sparkline.element);
    return { metric, value, sparkline };
  });
  return (stats) => {
    history.push(stats);
    if (history.length > HISTORY) history.shift();
    for (const { metric, value, sparkline } of shown) {
      setText(value, `${formatValue(stats[metric.key])} ${metric.unit}`);
      sparkline.draw(history.map((s) => s[metric.key]));
    }
  };
}

function formatValue(n: number): string {
  return n >= 100 ? String(Math.round(n)) : n.toFixed(1);
}
