import { BoundaryCounter } from './boundary-counter.js';

/** Counts the frames of a stream read from its answer's first byte: the boundary comes from the head. */
export class FrameCounter {
  private head = '';
  private counter: BoundaryCounter | null = null;

  /** Boundaries seen: with advance headers the one after a frame comes with it, so frame N is whole at N + 1. */
  get boundaries(): number {
    return this.counter?.count ?? 0;
  }

  /** Whether the stream's head has come. */
  get started(): boolean {
    return this.counter !== null;
  }

  push(data: Buffer): void {
    if (this.counter) return this.counter.push(data);
    this.head += data.toString('latin1');
    const boundary = /boundary=([^\r\n;]+)/.exec(this.head)?.[1];
    const end = this.head.indexOf('\r\n\r\n');
    if (!boundary || end < 0) return;
    this.counter = new BoundaryCounter(Buffer.from(`--${boundary}`));
    this.counter.push(Buffer.from(this.head.slice(end + 4), 'latin1'));
  }
}
