import { EventEmitter } from 'node:events';
import type { Frame, ViewerInfo } from '../types.js';
import { type Farewell, farewellJpeg } from './farewell.js';
import { SnapshotViewer } from './snapshot-viewer.js';
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
  resolve(frame: Frame | null): void;
}

/** A page's request waiting to hear that its viewing ends (see `waitForFarewell`). */
interface FarewellListener {
  page: string | undefined;
  /** The guest link the request came by; null: the main key. */
  guest: string | null;
  resolve(reason: Farewell | null): void;
}

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
  private readonly viewers = new Set<Viewer>();
  /** Snapshot viewers by their page token, or "ip user-agent" for clients without one. */
  private readonly pollers = new Map<string, SnapshotViewer>();
  /** The viewer page behind a stream or snapshot viewer, when it said (`?viewer=TOKEN`). */
  private readonly pages = new Map<string, Viewer | SnapshotViewer>();
  private readonly pageOf = new WeakMap<Viewer | SnapshotViewer, string>();
  private readonly farewellListeners = new Set<FarewellListener>();
  private readonly waiters = new Set<Waiter>();
  private holds = 0;
  /** "ip user-agent" of kicked viewers, and until when they are refused. */
  private readonly refused = new Map<string, number>();

  get latest(): Frame | null {
    return this.newest;
  }

  get demand(): number {
    return this.viewers.size + this.waiters.size + this.holds;
  }

  /** Wants frames without being a viewer (the window's preview); call the result to let go. */
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
    return this.viewers.size + this.pollers.size;
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
    return [...[...this.viewers].map((v) => v.snapshot()), ...[...this.pollers.values()].map((v) => ({ ...v.info }))];
  }

  /** How a viewer page watches now, as far as PushCam sees: what the page compares with what it shows. */
  watching(page: string): ViewerInfo['via'] | null {
    return this.pages.get(page)?.info.via ?? null;
  }

  /** The id of the viewer a viewer page watches as, or null. */
  viewerIdOf(page: string): number | null {
    return this.pages.get(page)?.info.id ?? null;
  }

  publish(image: { jpeg: Buffer; width: number; height: number }): Frame {
    const frame: Frame = { ...image, seq: (this.newest?.seq ?? 0) + 1, at: Date.now() };
    this.newest = frame;
    this.emit('frame', frame);
    for (const viewer of this.viewers) viewer.offer(frame);
    const answered = [...this.waiters].filter((w) => frame.seq > w.after);
    for (const waiter of answered) {
      this.waiters.delete(waiter);
      waiter.resolve(frame);
    }
    if (answered.length > 0) this.emit('demand', this.demand);
    return frame;
  }

  /** Adds a viewer and gives it the newest frame at once. A page that was polling snapshots stops being that viewer. */
  add(viewer: Viewer, page?: string): void {
    const poller = page === undefined ? undefined : this.pollers.get(page);
    if (poller) this.letGo(poller);
    this.viewers.add(viewer);
    if (page !== undefined) this.tag(viewer, page);
    if (this.newest) viewer.offer(this.newest);
    this.emit('joined', { ...viewer.info });
    this.emit('demand', this.demand);
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
  poller(page: string | undefined, info: { ip: string; userAgent: string; guest: string | null }, maxViewers: number): SnapshotViewer | null {
    const key = page ?? `${info.ip} ${info.userAgent}`;
    const known = this.pollers.get(key);
    if (known) return known;
    if (this.viewersBesides(page) >= maxViewers) return null;
    const poller: SnapshotViewer = new SnapshotViewer({ id: newViewerId(), ...info, since: Date.now() }, () => {
      if (this.pollers.get(key) === poller) this.letGo(poller);
    });
    this.pollers.set(key, poller);
    if (page !== undefined) this.tag(poller, page);
    this.emit('joined', { ...poller.info });
    return poller;
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
    this.tell('kicked', (listener) => page !== undefined && listener.page === page);
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

  private tag(viewer: Viewer | SnapshotViewer, page: string): void {
    this.pages.set(page, viewer);
    this.pageOf.set(viewer, page);
  }

  /** Takes a viewer off the lists; false if it was not on them. */
  private letGo(viewer: Viewer | SnapshotViewer): boolean {
    const listed = viewer instanceof SnapshotViewer ? this.dropPoller(viewer) : this.viewers.delete(viewer);
    if (!listed) return false;
    const page = this.pageOf.get(viewer);
    if (page !== undefined && this.pages.get(page) === viewer) this.pages.delete(page);
    this.emit('left', { ...viewer.info });
    this.emit('demand', this.demand);
    return true;
  }

  private dropPoller(poller: SnapshotViewer): boolean {
    for (const [key, known] of this.pollers) {
      if (known !== poller) continue;
      this.pollers.delete(key);
      return true;
    }
    return false;
  }

  /** Tells the waiting requests that `whose` picks that their viewing ends. */
  private tell(reason: Farewell, whose: (listener: FarewellListener) => boolean): void {
    for (const listener of [...this.farewellListeners]) {
      if (whose(listener)) listener.resolve(reason);
    }
  }

  private everyViewer(): (Viewer | SnapshotViewer)[] {
    return [...this.viewers, ...this.pollers.values()];
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
   * The first frame with seq > `after`, or null after `timeoutMs` or when `signal` aborts.
   * A waiting request counts as demand, so it starts an idle source.
   */
  waitForFrame(after: number, timeoutMs: number, signal?: AbortSignal): Promise<Frame | null> {
    if (this.newest && this.newest.seq > after) return Promise.resolve(this.newest);
    return new Promise((resolve) => {
      const finish = (frame: Frame | null): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (this.waiters.delete(waiter)) this.emit('demand', this.demand);
        resolve(frame);
      };
      const waiter: Waiter = { after, resolve: finish };
      const onAbort = (): void => finish(null);
      const timer = setTimeout(onAbort, timeoutMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.emit('demand', this.demand);
    });
  }
}
