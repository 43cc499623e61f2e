import { generator } from '../../bench/picture.js';

/** Each case its own generator, seeded from the run's seed and the case's index, so any case replays alone. */
export function caseRandom(seed: number, index: number): () => number {
  return generator(seed ^ Math.imul(index + 1, 0x9e3779b9));
}

/** The choices a fuzz case is made of, from one seeded generator. */
export class Picker {
  constructor(readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}
