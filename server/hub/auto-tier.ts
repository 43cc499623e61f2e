import type { LinkSample, TierSpec } from '../../shared/status.js';

// `?quality=auto`: PushCam moves a viewer along a ladder of pictures, from the main one down to
// a small, low one, by what its link carries. The policy is a pure function of a state and one
// look at the link (`nextAuto`), so it is tested with a made-up link; `AutoTier` (stream route)
// looks at the real one every AUTO_LOOK_MS.

/**
 * The ladder, top (the main picture) to bottom. Each rung is about half the bytes of the one
 * above (measured on 720p camera-like frames: 86 KB main at q50, 960 q60 about 56 KB, 640 q45
 * 32 KB, 426 q35 16 KB, 320 q25 8 KB), so the policy can guess a rung it has not seen yet.
 */
export const LADDER: readonly TierSpec[] = [
  { width: null, quality: null },
  { width: 960, quality: 60 },
  { width: 640, quality: 45 },
  { width: 426, quality: 35 },
  { width: 320, quality: 25 },
];
/** Bytes of a rung over those of the one below it, for rungs not being made. */
const RUNG_RATIO = 2;
/** What counts as fluid: more frames than this a second are not worth a smaller picture. */
export const FLUID_FPS = 25;
/** A rung that needs more than this share of the link at the frame rate is too much for it... */
const DOWN_LOAD = 0.9;
/** ... so is one with more than this queued for the viewer, ms (lag). */
const LAG_MS = 250;
/** Coming down, the viewer goes to the biggest rung that needs at most this share. */
const FIT_LOAD = 0.75;
/** Going up, the next rung must need at most this share (the gap to DOWN_LOAD is the hysteresis). */
const UP_LOAD = 0.6;
/** Too much for this long: down (looks at the link every AUTO_LOOK_MS). */
const DOWN_AFTER_MS = 500;
/** Room for the next rung for this long: up. */
const UP_AFTER_MS = 2000;
/** A rung the viewer came down from is tried again after this, doubling each time up to the max... */
const RETRY_MS = 5000;
const MAX_RETRY_MS = 60_000;
/** ... and back to RETRY_MS once the viewer has stayed on it this long. */
const STABLE_MS = 20_000;
export const AUTO_LOOK_MS = 250;
/**
 * The link's rate is the least of the kernel's last few estimates. A frame smaller than what the
 * link sends in one burst (a Wi-Fi aggregate, tc tbf's bucket) is delivered at the speed of the
 * burst: measured on a 2 Mbit/s link with 8 KB frames, estimates of 2 Mbit/s and of 680 Mbit/s
 * by turns. Over 2 s of looks, at least one is the link's own.
 */
const RATE_LOOKS = 8;

export interface AutoState {
  /** Index in LADDER. */
  rung: number;
  /** When the viewer came to this rung, ms. */
  since: number;
  /** Since when the rung has been too much, or has had room for the next one up; null when neither. */
  overSince: number | null;
  roomSince: number | null;
  /** Per rung: not tried again before this time, and how long the next wait is. */
  retryAt: readonly number[];
  retryMs: readonly number[];
  /** The kernel's last RATE_LOOKS delivery rates, bits a second. */
  rates: readonly number[];
}

export interface AutoLook {
  now: number;
  /** The kernel's delivery rate, bits a second (0 = not known yet), and the bytes queued for the viewer (in flight and unsent). */
  deliveryBitsPerSecond: number;
  queuedBytes: number;
  /** The rate the viewer can get frames at: the main picture's, or less with `?fps`. */
  fps: number;
  /** Bytes of the newest frame of each rung, null for a rung not being made now. */
  rungBytes: readonly (number | null)[];
}

export function initialAuto(now: number): AutoState {
  return { rung: 0, since: now, overSince: null, roomSince: null, retryAt: LADDER.map(() => 0), retryMs: LADDER.map(() => RETRY_MS), rates: [] };
}

/** The rung a viewer should be on after this look at its link. */
export function nextAuto(previous: AutoState, look: AutoLook): AutoState {
  if (look.deliveryBitsPerSecond <= 0 || look.fps <= 0) return previous;
  const state = { ...previous, rates: [...previous.rates, look.deliveryBitsPerSecond].slice(-RATE_LOOKS) };
  const rate = Math.min(...state.rates);
  const load = (rung: number): number => (bytesOf(look.rungBytes, rung) * 8 * Math.min(look.fps, FLUID_FPS)) / rate;
  const behindMs = ((look.queuedBytes * 8) / rate) * 1000;
  const bottom = LADDER.length - 1;
  const over = state.rung < bottom && (load(state.rung) > DOWN_LOAD || behindMs > LAG_MS);
  const room = state.rung > 0 && look.now >= state.retryAt[state.rung - 1] && load(state.rung - 1) <= UP_LOAD && behindMs <= LAG_MS / 2;
  const overSince = over ? (state.overSince ?? look.now) : null;
  const roomSince = room ? (state.roomSince ?? look.now) : null;
  if (overSince !== null && look.now - overSince >= DOWN_AFTER_MS) {
    let to = state.rung + 1;
    while (to < bottom && load(to) > FIT_LOAD) to++;
    return moveTo(state, to, look.now);
  }
  if (roomSince !== null && look.now - roomSince >= UP_AFTER_MS) return moveTo(state, state.rung - 1, look.now);
  return { ...state, overSince, roomSince };
}

function moveTo(state: AutoState, rung: number, now: number): AutoState {
  const retryAt = [...state.retryAt];
  const retryMs = [...state.retryMs];
  if (rung > state.rung) {
    // Down from a rung: it waits before it is tried again, longer each time it did not hold.
    const wait = now - state.since >= STABLE_MS ? RETRY_MS : state.retryMs[state.rung];
    retryAt[state.rung] = now + wait;
    retryMs[state.rung] = Math.min(wait * 2, MAX_RETRY_MS);
  }
  return { ...state, rung, since: now, overSince: null, roomSince: null, retryAt, retryMs };
}

/** A rung's bytes: measured where it is being made, else guessed from the nearest rung that is. */
function bytesOf(known: readonly (number | null)[], rung: number): number {
  const own = known[rung];
  if (own !== null && own !== undefined) return own;
  for (let d = 1; d < LADDER.length; d++) {
    const below = known[rung + d];
    if (below !== null && below !== undefined) return below * RUNG_RATIO ** d;
    const above = known[rung - d];
    if (above !== null && above !== undefined) return above / RUNG_RATIO ** d;
  }
  return 0;
}

/** What AutoTier needs of the hub. */
export interface AutoHub {
  /** Moves the viewer; false when that tier cannot start now (MAX_TIERS). */
  move(spec: TierSpec): boolean;
  /** Bytes of the newest frame of a tier (or the main picture), null when it is not being made. */
  newestBytes(spec: TierSpec): number | null;
  /** Frames a second the viewer can get now. */
  fps(): number;
}

/** One `?quality=auto` viewer: looks at its link every AUTO_LOOK_MS and moves it along the LADDER. */
export class AutoTier {
  private state = initialAuto(Date.now());
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly hub: AutoHub,
    private readonly link: { sample(): LinkSample | null },
  ) {
    this.timer = setInterval(() => this.look(), AUTO_LOOK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private look(): void {
    const sample = this.link.sample();
    if (!sample) return;
    const next = nextAuto(this.state, {
      now: Date.now(),
      deliveryBitsPerSecond: sample.deliveryBitsPerSecond,
      queuedBytes: sample.inFlightBytes + sample.unsentBytes,
      fps: this.hub.fps(),
      rungBytes: LADDER.map((spec) => this.hub.newestBytes(spec)),
    });
    // A rung that cannot start now (other viewers hold every tier) is tried again at the next look.
    if (next.rung !== this.state.rung && !this.hub.move(LADDER[next.rung])) return;
    this.state = next;
  }
}
