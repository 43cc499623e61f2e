import { EventEmitter } from 'node:events';
import type { EncodedImage } from '../encoder/encoder.js';
import type { TierSource } from '../encoder/tiers.js';
import type { Frame, RawImage } from '../types.js';
import type { TierSpec, TierStatus, ViewerInfo } from '../../shared/status.js';
import { Consumer, type Sink } from './consumer.js';
import type { Farewell } from '../../shared/farewell.js';
import { farewellJpeg } from './farewell.js';
import { SnapshotViewer } from './snapshot-viewer.js';
import { isMain, type TierEncode, Tiers } from './tiers.js';
import type { Viewer } from './viewer.js';

interface HubEvents {
  /** How many want frames now (viewers plus waiting snapshot requests). */
  demand: [count: number];
  frame: [frame: Frame];
  joined: [viewer: ViewerInfo];
  left: [viewer: ViewerInfo];
}

/** A kicked viewer (same address and client) is refused this long, so its page cannot just come back. */
export const KICK_REFUSE_MS = 60_000;

/** How long an ending waits for its last pictures to go out before the connections are cut. */
export const FAREWELL_MS = 500;

interface Waiter {
  after: number;
  /** Waits for a main frame, or for a tier's (then the tier answers it). */
  main: boolean;
  resolve(frame: Frame | null): void;
}

export interface HubOptions {
  /** Makes tier frames (server/encoder/tiers.ts, at the encoder's quality where a tier does not say). */
  encodeTier: TierEncode;
  log?: (line: string) => void;
}

/** A page's request waiting to hear that its viewing ends (see `waitForFarewell`). */
interface FarewellListener {
  page: string | undefined;
  /** The guest link the request came by; null: the main key. */
  guest: string | null;
  resolve(reason: Farewell | null): void;
}

/** The frame rate is taken over this many frames. */
const FPS_FRAMES = 16;

let lastViewerId = 0;

/** Stream and snapshot viewers share one numbering, so an id names one row of the viewer table. */
export function newViewerId(): number {
  return ++lastViewerId;
}

/**
 * The meeting point of the pipeline and the viewers: holds the newest encoded frame, hands each
 * new one to every viewer (each decides for itself when to write it), and answers requests that
 * wait for a frame newer than one they have.
 */
export class Hub extends EventEmitter<HubEvents> {
  private newest: Frame | null = null;
  /** The pixels the newest frame was encoded from, kept only while tiers are made from them. */
  private newestPixels: RawImage | null = null;
  private readonly viewers = new Set<Viewer>();
  /** Consumers that are not viewers (the windows' previews): not listed, not counted against maxViewers. */
  private readonly consumers = new Set<Consumer>();
  /** The stream viewers that watch a tier; the others get the main picture. */
  private readonly onTier = new Map<Viewer, TierSpec>();
  private readonly tiers: Tiers;
  /** When the last FPS_FRAMES frames were published. */
  private readonly publishedAt: number[] = [];
  /** Snapshot viewers by their page token, or "ip user-agent" for clients without one. */
  private readonly snapshotViewers = new Map<string, SnapshotViewer>();
  /** The viewer page behind a stream or snapshot viewer, when it said (`?viewer=TOKEN`). */
  private readonly pages = new Map<string, Viewer | SnapshotViewer>();
  private readonly pageOf = new WeakMap<Viewer | SnapshotViewer, string>();
  private readonly farewellListeners = new Set<FarewellListener>();
  private readonly waiters = new Set<Waiter>();
  private holds = 0;
  /** "ip user-agent" of kicked viewers, and until when they are refused. */
  private readonly refused = new Map<string, number>();
  /**
   * Pages kicked while none of their status requests was waiting (between two of them), and
   * until when: their next status request hears it at once, not seconds later when the page finds
   * its stream gone. Cleared when the page watches again.
   */
  private readonly unheardKicks = new Map<string, number>();

  constructor(o: HubOptions) {
    super();
    this.tiers = new Tiers(
      o.encodeTier,
      o.log ?? (() => {}),
      () => this.newest && { frame: this.newest, source: { ...this.newest, pixels: this.newestPixels } },
    );
  }

  get latest(): Frame | null {
    return this.newest;
  }

  get demand(): number {
    return this.viewers.size + this.consumers.size + this.waiters.size + this.holds;
  }

  /**
   * Feeds `sink` the main picture by the viewers' send rules (./consumer.ts), at most one frame
   * per `minIntervalMs`, without making it a viewer (the window's preview). The newest frame
   * goes at once. Call the result to let go.
   */
  consume(sink: Sink, minIntervalMs: number): () => void {
    const consumer = new Consumer(sink, minIntervalMs);
    this.consumers.add(consumer);
    if (this.newest) consumer.offer(this.newest);
    this.emit('demand', this.demand);
    return () => {
      consumer.close();
      if (this.consumers.delete(consumer)) this.emit('demand', this.demand);
    };
  }

  /** Wants frames without taking any (a source kept running, as a test or the first camera report needs); call the result to let go. */
  hold(): () => void {
    this.holds++;
    this.emit('demand', this.demand);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      this.emit('demand', this.demand);
    };
  }

  /** Stream and snapshot viewers. */
  get viewerCount(): number {
    return this.viewers.size + this.snapshotViewers.size;
  }

  /** Viewers other than those of one page: whether the page may join a full server. */
  viewersBesides(page: string | undefined): number {
    return this.viewerCount - (page !== undefined && this.pages.has(page) ? 1 : 0);
  }

  /** Viewers of one guest link other than one page's: whether the page may join a link for one viewer at a time. */
  guestViewersBesides(guest: string, page: string | undefined): number {
    const own = page === undefined ? undefined : this.pages.get(page);
    return this.everyViewer().filter((v) => v.info.guest === guest && v !== own).length;
  }

  viewerList(): ViewerInfo[] {
    return [...[...this.viewers].map((v) => v.infoNow()), ...[...this.snapshotViewers.values()].map((v) => ({ ...v.info }))];
  }

  /** How a viewer page watches now, as far as PushCam sees: what the page compares with what it shows. */
  watching(page: string): ViewerInfo['via'] | null {
    return this.pages.get(page)?.info.via ?? null;
  }

  /** The id of the viewer a viewer page watches as, or null. */
  viewerIdOf(page: string): number | null {
    return this.pages.get(page)?.info.id ?? null;
  }

  /** Whether a viewer of `spec` could come now: the main picture always can, a tier while there is room (MAX_TIERS). */
  hasRoomFor(spec: TierSpec): boolean {
    return isMain(spec) || this.tiers.hasRoom(spec);
  }

  tierStatus(): TierStatus[] {
    return this.tiers.status();
  }

  /** Bytes of the newest frame of the main picture or of a running tier; null when there is none. */
  newestBytes(spec: TierSpec): number | null {
    return isMain(spec) ? (this.newest?.jpeg.length ?? null) : this.tiers.newestBytes(spec);
  }

  /** Frames a second published lately; 0 with fewer than two. */
  get fps(): number {
    const times = this.publishedAt;
    return times.length < 2 ? 0 : ((times.length - 1) * 1000) / (times[times.length - 1] - times[0]);
  }

  /** The size of the last picture sent to a viewer page's stream (a tier's may be smaller than the main picture); null if none. */
  pictureOf(page: string): { width: number; height: number } | null {
    const viewer = this.pages.get(page);
    return !viewer || viewer instanceof SnapshotViewer ? null : viewer.sentSize;
  }

  publish(image: EncodedImage): Frame {
    const frame: Frame = { jpeg: image.jpeg, width: image.width, height: image.height, seq: (this.newest?.seq ?? 0) + 1, at: Date.now() };
    const source: TierSource = { ...frame, pixels: image.pixels ?? null };
    this.newest = frame;
    this.publishedAt.push(frame.at);
    if (this.publishedAt.length > FPS_FRAMES) this.publishedAt.shift();
    this.newestPixels = this.tiers.size > 0 ? source.pixels : null;
    this.emit('frame', frame);
    for (const viewer of this.viewers) if (!this.onTier.has(viewer)) viewer.offer(frame);
    for (const consumer of this.consumers) consumer.offer(frame);
    this.tiers.feed(frame, source);
    const answered = [...this.waiters].filter((w) => w.main && frame.seq > w.after);
    for (const waiter of answered) waiter.resolve(frame);
    return frame;
  }

  /** Adds a viewer and gives it the newest frame at once. A page that was polling snapshots stops being that viewer. */
  add(viewer: Viewer, page?: string): void {
    const snapshotViewer = page === undefined ? undefined : this.snapshotViewers.get(page);
    if (snapshotViewer) this.letGo(snapshotViewer);
    this.viewers.add(viewer);
    if (page !== undefined) this.tag(viewer, page);
    this.watch(viewer, viewer.info.tier);
    this.emit('joined', { ...viewer.info });
    this.emit('demand', this.demand);
  }

  /** Moves a stream viewer to another tier (or the main picture); false when that tier has no room. */
  move(viewer: Viewer, spec: TierSpec): boolean {
    const now = this.onTier.get(viewer) ?? { width: null, quality: null };
    if (!this.viewers.has(viewer) || (now.width === spec.width && now.quality === spec.quality)) return true;
    if (!this.hasRoomFor(spec)) return false;
    this.unwatch(viewer);
    this.watch(viewer, spec);
    return true;
  }

  /** Starts a viewer on a tier, or on the main picture; either way it gets the newest frame at once. */
  private watch(viewer: Viewer, spec: TierSpec): void {
    viewer.info.tier = { ...viewer.info.tier, width: spec.width, quality: spec.quality };
    if (isMain(spec)) {
      if (this.newest) viewer.offer(this.newest);
      return;
    }
    if (!this.tiers.join(spec, viewer)) throw new Error('no room for another picture tier; ask hasRoomFor first');
    this.onTier.set(viewer, spec);
  }

  private unwatch(viewer: Viewer): void {
    const spec = this.onTier.get(viewer);
    if (!spec) return;
    this.onTier.delete(viewer);
    this.tiers.leave(spec, viewer);
  }

  /** When its connection has closed. */
  remove(viewer: Viewer): void {
    viewer.close();
    this.letGo(viewer);
  }

  /**
   * The snapshot viewer a long-poll belongs to (`page`, else `ip user-agent`), made on its first
   * request; null when it would be one viewer too many.
   */
  snapshotViewerFor(page: string | undefined, info: Pick<ViewerInfo, 'ip' | 'userAgent' | 'guest' | 'tier'>, maxViewers: number): SnapshotViewer | null {
    const key = page ?? `${info.ip} ${info.userAgent}`;
    const known = this.snapshotViewers.get(key);
    if (known) {
      known.info.tier = info.tier;
      return known;
    }
    if (this.viewersBesides(page) >= maxViewers) return null;
    const snapshotViewer: SnapshotViewer = new SnapshotViewer({ id: newViewerId(), ...info, since: Date.now() }, () => {
      if (this.snapshotViewers.get(key) === snapshotViewer) this.letGo(snapshotViewer);
    });
    this.snapshotViewers.set(key, snapshotViewer);
    if (page !== undefined) this.tag(snapshotViewer, page);
    this.emit('joined', { ...snapshotViewer.info });
    return snapshotViewer;
  }

  /**
   * Ends one viewer (the window's "kick"): its stream ends on a picture that says so, its page is
   * told, and it is refused for a while. False if there is no such viewer.
   */
  kick(id: number): boolean {
    const viewer = this.everyViewer().find((v) => v.info.id === id);
    if (!viewer) return false;
    this.refused.set(`${viewer.info.ip} ${viewer.info.userAgent}`, Date.now() + KICK_REFUSE_MS);
    const page = this.pageOf.get(viewer);
    if (page !== undefined && !this.tell('kicked', (listener) => listener.page === page)) this.rememberKick(page);
    this.letGo(viewer);
    void this.sayFarewell(viewer, 'kicked');
    return true;
  }

  /**
   * Ends every viewer (PushCam stops, restarts or takes a new key): each stream ends on a picture
   * that says why, and each page waiting to hear is told. Resolves once the pictures are out, or
   * after FAREWELL_MS, whichever is first.
   */
  async endAll(reason: Farewell): Promise<void> {
    this.tell(reason, () => true);
    await this.end(this.everyViewer(), reason);
  }

  /**
   * Ends the viewers who came through one guest link (it was revoked, or it expired), as endAll
   * does, and tells its pages even between two streams.
   */
  async endGuest(guest: string, reason: Farewell): Promise<void> {
    this.tell(reason, (listener) => listener.guest === guest);
    await this.end(
      this.everyViewer().filter((v) => v.info.guest === guest),
      reason,
    );
  }

  private async end(leaving: (Viewer | SnapshotViewer)[], reason: Farewell): Promise<void> {
    for (const viewer of leaving) this.letGo(viewer);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, FAREWELL_MS)));
    await Promise.race([Promise.all(leaving.map((v) => this.sayFarewell(v, reason))), deadline]);
    clearTimeout(timer);
  }

  /**
   * Resolves with the reason when the viewing of `page` ends (a kick of it, or endAll), or with
   * null after `timeoutMs` or when `signal` aborts. A page's status request waits on this, so the
   * page hears at once why its picture stopped, which no browser tells a page about an <img>.
   */
  waitForFarewell(page: string | undefined, timeoutMs: number, signal: AbortSignal, guest: string | null = null): Promise<Farewell | null> {
    const kickedUntil = page === undefined ? undefined : this.unheardKicks.get(page);
    if (kickedUntil !== undefined && kickedUntil > Date.now()) return Promise.resolve('kicked');
    return new Promise((resolve) => {
      const finish = (reason: Farewell | null): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.farewellListeners.delete(listener);
        resolve(reason);
      };
      const listener: FarewellListener = { page, guest, resolve: finish };
      const onAbort = (): void => finish(null);
      const timer = setTimeout(onAbort, timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
      this.farewellListeners.add(listener);
    });
  }

  /** Whether this client was kicked less than KICK_REFUSE_MS ago. */
  isRefused(ip: string, userAgent: string): boolean {
    const key = `${ip} ${userAgent}`;
    const until = this.refused.get(key);
    if (until !== undefined && until <= Date.now()) this.refused.delete(key);
    return until !== undefined && until > Date.now();
  }

  private rememberKick(page: string): void {
    const now = Date.now();
    for (const [known, until] of this.unheardKicks) if (until <= now) this.unheardKicks.delete(known);
    this.unheardKicks.set(page, now + KICK_REFUSE_MS);
  }

  private tag(viewer: Viewer | SnapshotViewer, page: string): void {
    this.unheardKicks.delete(page);
    this.pages.set(page, viewer);
    this.pageOf.set(viewer, page);
  }

  /** Takes a viewer off the lists; false if it was not on them. */
  private letGo(viewer: Viewer | SnapshotViewer): boolean {
    const listed = viewer instanceof SnapshotViewer ? this.dropSnapshotViewer(viewer) : this.viewers.delete(viewer);
    if (!listed) return false;
    if (!(viewer instanceof SnapshotViewer)) this.unwatch(viewer);
    const page = this.pageOf.get(viewer);
    if (page !== undefined && this.pages.get(page) === viewer) this.pages.delete(page);
    this.emit('left', { ...viewer.info });
    this.emit('demand', this.demand);
    return true;
  }

  private dropSnapshotViewer(snapshotViewer: SnapshotViewer): boolean {
    for (const [key, known] of this.snapshotViewers) {
      if (known !== snapshotViewer) continue;
      this.snapshotViewers.delete(key);
      return true;
    }
    return false;
  }

  /** Tells the waiting requests that `whose` picks that their viewing ends; false if none was waiting. */
  private tell(reason: Farewell, whose: (listener: FarewellListener) => boolean): boolean {
    let told = false;
    for (const listener of [...this.farewellListeners]) {
      if (!whose(listener)) continue;
      listener.resolve(reason);
      told = true;
    }
    return told;
  }

  private everyViewer(): (Viewer | SnapshotViewer)[] {
    return [...this.viewers, ...this.snapshotViewers.values()];
  }

  /** A stream's last picture says why it ends; a snapshot viewer's waits just end. */
  private async sayFarewell(viewer: Viewer | SnapshotViewer, reason: Farewell): Promise<void> {
    if (viewer instanceof SnapshotViewer) return viewer.disconnect();
    try {
      await viewer.finish(await farewellJpeg(reason, this.newest));
    } catch {
      viewer.disconnect();
    }
  }

  /**
   * The first frame with seq > `after` of the main picture or of a tier, or null after
   * `timeoutMs` or when `signal` aborts. A waiting request counts as demand, so it starts an idle
   * source; one for a tier is a member of it meanwhile (ask hasRoomFor first).
   */
  waitForFrame(after: number, timeoutMs: number, signal?: AbortSignal, spec: TierSpec = { width: null, quality: null }): Promise<Frame | null> {
    const main = isMain(spec);
    if (main && this.newest && this.newest.seq > after) return Promise.resolve(this.newest);
    if (!this.hasRoomFor(spec)) return Promise.reject(new Error('no room for another picture tier; ask hasRoomFor first'));
    return new Promise((resolve) => {
      const finish = (frame: Frame | null): void => {
        if (!this.waiters.delete(waiter)) return;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (!main) this.tiers.leave(spec, member);
        this.emit('demand', this.demand);
        resolve(frame);
      };
      const waiter: Waiter = { after, main, resolve: finish };
      const member = { offer: (frame: Frame): void => (frame.seq > after ? finish(frame) : undefined) };
      const onAbort = (): void => finish(null);
      const timer = setTimeout(onAbort, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.emit('demand', this.demand);
      if (!main) this.tiers.join(spec, member);
    });
  }
}
