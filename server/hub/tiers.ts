import type { EncodedImage } from '../encoder/encoder.js';
import type { TierSource } from '../encoder/tiers.js';
import { type Log, onChange } from '../log.js';
import type { Frame } from '../types.js';
import type { TierSpec, TierStatus } from '../../shared/status.js';

/** Tiers encoded at once besides the main picture: each costs a resize and an encode per frame. */
export const MAX_TIERS = 4;

/** Makes one tier frame from the main picture (server/encoder/tiers.ts). */
export type TierEncode = (main: TierSource, spec: TierSpec) => Promise<EncodedImage>;

/** Who gets a tier's frames: a stream viewer, or a snapshot request waiting for one. */
export interface TierMember {
  offer(frame: Frame): void;
}

export function tierKey(spec: TierSpec): string {
  return `${spec.width ?? 'full'}/${spec.quality ?? 'main'}`;
}

export function isMain(spec: TierSpec): boolean {
  return spec.width === null && spec.quality === null;
}

/**
 * One tier being made: each main frame is encoded once for all its members, one encode at a
 * time; a main frame that comes while the last is still encoding waits, replacing any that was
 * waiting (so a tier never falls behind the main picture). Its frames keep the main frame's seq
 * and time, so `?after=SEQ` and frame ages mean the same on every tier.
 */
class Tier {
  readonly members = new Set<TierMember>();
  newest: Frame | null = null;
  encodes = 0;
  totalMs = 0;
  private encoding = false;
  private waiting: { frame: Frame; source: TierSource } | null = null;
  private stopped = false;

  constructor(
    readonly spec: TierSpec,
    private readonly encode: TierEncode,
    /** Told why an encode failed, or '' when one worked. */
    private readonly trouble: (message: string) => void,
  ) {}

  feed(frame: Frame, source: TierSource): void {
    if (this.stopped) return;
    if (this.encoding) this.waiting = { frame, source };
    else void this.run(frame, source);
  }

  stop(): void {
    this.stopped = true;
    this.waiting = null;
  }

  private async run(frame: Frame, source: TierSource): Promise<void> {
    this.encoding = true;
    const started = performance.now();
    try {
      const image = await this.encode(source, this.spec);
      this.encodes++;
      this.totalMs += performance.now() - started;
      this.trouble('');
      if (this.stopped) return;
      const tierFrame: Frame = { jpeg: image.jpeg, width: image.width, height: image.height, seq: frame.seq, at: frame.at };
      this.newest = tierFrame;
      for (const member of [...this.members]) member.offer(tierFrame);
    } catch (err) {
      this.trouble(`could not make the ${tierKey(this.spec)} picture: ${(err as Error).message}`);
    } finally {
      this.encoding = false;
      const next = this.waiting;
      this.waiting = null;
      if (next) this.feed(next.frame, next.source);
    }
  }
}

/**
 * The tiers being made now, each started by its first member and stopped when its last leaves:
 * nobody watching a tier costs nothing. At most MAX_TIERS at once.
 */
export class Tiers {
  private readonly active = new Map<string, Tier>();

  constructor(
    private readonly encode: TierEncode,
    private readonly log: Log,
    /** The newest main frame, which a starting tier is made from at once. */
    private readonly latest: () => { frame: Frame; source: TierSource } | null,
  ) {}

  get size(): number {
    return this.active.size;
  }

  /** Whether a member could join this tier now: it runs already, or there is room for one more. */
  hasRoom(spec: TierSpec): boolean {
    return this.active.has(tierKey(spec)) || this.active.size < MAX_TIERS;
  }

  /** Adds a member (starting the tier if it is the first) and gives it the tier's newest frame; false when there is no room. */
  join(spec: TierSpec, member: TierMember): boolean {
    const key = tierKey(spec);
    let tier = this.active.get(key);
    if (!tier) {
      if (this.active.size >= MAX_TIERS) return false;
      // A tier that cannot be made fails on every frame: said once, until the trouble changes or ends.
      tier = new Tier(spec, this.encode, onChange(this.log));
      this.active.set(key, tier);
      const latest = this.latest();
      if (latest) tier.feed(latest.frame, latest.source);
    }
    tier.members.add(member);
    if (tier.newest) member.offer(tier.newest);
    return true;
  }

  /** Takes a member off; a tier left without any stops. */
  leave(spec: TierSpec, member: TierMember): void {
    const key = tierKey(spec);
    const tier = this.active.get(key);
    if (!tier || !tier.members.delete(member) || tier.members.size > 0) return;
    tier.stop();
    this.active.delete(key);
  }

  /** Bytes of a running tier's newest frame; null when it is not running or has none yet. */
  newestBytes(spec: TierSpec): number | null {
    return this.active.get(tierKey(spec))?.newest?.jpeg.length ?? null;
  }

  /** A new main frame: every running tier makes its own from it. */
  feed(frame: Frame, source: TierSource): void {
    for (const tier of this.active.values()) tier.feed(frame, source);
  }

  status(): TierStatus[] {
    return [...this.active.values()].map((t) => ({
      ...t.spec,
      members: t.members.size,
      encodes: t.encodes,
      avgMs: t.encodes === 0 ? 0 : Math.round((t.totalMs / t.encodes) * 100) / 100,
    }));
  }
}
