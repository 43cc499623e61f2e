import { createHash } from 'node:crypto';
import { PerAddress } from './per-address.js';

/** Wrong keys an address may try before it is slowed down. */
export const FREE_FAILURES = 10;
/** Then one more try per this long. */
const FAILURE_REFILL_MS = 3_000;
/** Addresses remembered; past it the one that failed longest ago is forgotten. */
const REMEMBERED = 10_000;

interface Bucket {
  tries: number;
  at: number;
  /** The last wrong keys' hash: the same ones again (a page with an old cookie that retries) guess nothing new, and cost nothing. */
  guess: string;
}

/**
 * Slows down guessing the key: each address has FREE_FAILURES tries, spent by wrong keys and
 * given back one per FAILURE_REFILL_MS. With none left its keys are not even compared, so a
 * guess costs the guesser FAILURE_REFILL_MS whatever it is. Other addresses are unaffected.
 */
export class KeyFailures {
  private readonly buckets = new PerAddress<Bucket>(REMEMBERED);

  /** 0 if this address may try a key now; else the milliseconds until it may. */
  waitFor(address: string, now = Date.now()): number {
    const tries = this.triesLeft(address, now);
    if (tries >= 1) return 0;
    return Math.ceil((1 - tries) * FAILURE_REFILL_MS);
  }

  /** Wrong keys from this address. */
  failed(address: string, keys: readonly string[], now = Date.now()): void {
    const guess = createHash('sha256').update(keys.join('\n')).digest('base64');
    if (this.buckets.get(address)?.guess === guess) return;
    this.buckets.set(address, { tries: this.triesLeft(address, now) - 1, at: now, guess });
  }

  private triesLeft(address: string, now: number): number {
    const bucket = this.buckets.get(address);
    if (!bucket) return FREE_FAILURES;
    const tries = Math.min(FREE_FAILURES, bucket.tries + (now - bucket.at) / FAILURE_REFILL_MS);
    // A full bucket is the same as none: forgetting it keeps memory to the addresses that fail.
    if (tries >= FREE_FAILURES) this.buckets.delete(address);
    return tries;
  }
}
