import { svg } from './dom.js';

// A sparkline: the last minute of one number as a line over a soft area, scaled to its own
// peak so the shape shows even when the values are small.

const WIDTH = 120;
const HEIGHT = 32;

export class Sparkline {
  readonly element: SVGSVGElement;
  private readonly line: SVGPolylineElement;
  private readonly area: SVGPolygonElement;

  constructor(
    label: string,
    private readonly capacity: number,
  ) {
    this.element = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, preserveAspectRatio: 'none', class: 'sparkline', role: 'img', 'aria-label': label });
    this.area = svg('polygon', { class: 'sparkline-area' });
    this.line = svg('polyline', { class: 'sparkline-line', 'vector-effect': 'non-scaling-stroke' });
    this.element.append(this.area, this.line);
  }

  draw(values: readonly number[]): void {
    const peak = Math.max(...values, 1e-9);
    const step = WIDTH / Math.max(1, this.capacity - 1);
    // The newest value sits at the right edge; a minute not yet filled is empty on the left.
    const offset = (this.capacity - values.length) * step;
    const points = values.map((v, i) => `${round(offset + i * step)},${round(HEIGHT - 2 - (v / peak) * (HEIGHT - 4))}`);
    this.line.setAttribute('points', points.join(' '));
    const base = values.length ? [`${round(offset + (values.length - 1) * step)},${HEIGHT}`, `${round(offset)},${HEIGHT}`] : [];
    this.area.setAttribute('points', [...points, ...base].join(' '));
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
