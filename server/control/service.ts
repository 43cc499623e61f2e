import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import QRCode from 'qrcode';
import { FixedKey, type KeyStore, SavedKey } from '../config/access-key.js';
import { GuestLinks } from '../config/guest-links.js';
import { needsPixels } from '../encoder/encoder.js';
import { loadTls, TlsFileError, type TlsFiles } from '../http/listener.js';
import { localUrl, type Served, urlFor, viewerUrls } from '../http/urls.js';
import type { Sink } from '../hub/consumer.js';
import type { Farewell } from '../../shared/farewell.js';
import type { Log } from '../log.js';
import { Announcer } from '../net/announce.js';
import { createCore, type Core, type HttpServer, PortInUseError, serveHttp } from '../pushcam.js';
import { CameraSource } from '../source/camera.js';
import { makeSource, type SourceSpec } from '../source/sources.js';
import {
  type CameraReport,
  type CaptureRequest,
  type CoreEvents,
  type CoreHandlers,
  type ControlState,
  type GuestLink,
  type GuestLinkRow,
  type GuestLinkSpec,
  type Settings,
  STATS_INTERVAL_MS,
  type Stats,
  type ViewerRow,
  type WindowHandlers,
} from '../../shared/contract.js';
import type { CameraFrame } from '../../shared/frame-format.js';
import { SettingsStore, validateSettingsPatch } from './settings.js';
import { ADDRESS_KEYS, ENCODE_KEYS, SERVER_KEYS, SOURCE_SETTINGS } from '../../shared/settings-table.js';
import type { ViewerInfo } from '../../shared/status.js';
import { describeUserAgent } from '../user-agent.js';

export interface ControlServiceOptions {
  /** Where the picture comes from; the camera, captured by the window or a headless page, unless said. */
  source?: SourceSpec;
  /** Where settings persist; null keeps them in memory. */
  settingsFile: string | null;
  /** The command line's options: they win over the saved settings for this run (SettingsStore). */
  overrides?: Partial<Settings>;
  /** Where the access key is kept, unless `key` sets one for this run (--key). */
  configDir: string;
  key?: string;
  /** --host: who can connect follows it instead of the lanAccess setting. */
  host?: string;
  /** The command line's --send-timeout, in ms. */
  sendTimeoutMs?: number;
  /** The command line's --max-per-address and --allow-host. */
  maxPerAddress?: number;
  allowHosts?: readonly string[];
  /** true in the desktop app: the window captures. false: a headless capture page does, or there is no camera. */
  captureInWindow: boolean;
  log: Log;
}

type EventMap = { [E in keyof CoreEvents]: [CoreEvents[E]] };

/** The preview gets at most this many frames a second; it is a thumbnail, not a viewer. */
const PREVIEW_FPS = 10;
/**
 * The capture side's JPEG quality when the core decodes, draws on and re-encodes its frames at the
 * user's quality: high, so that the first of the two generations loses little.
 */
const REENCODED_JPEG_QUALITY = 95;

/**
 * PushCam, whichever way it runs (the desktop app, `pushcam serve` with or without its panel):
 * the pipeline from its source runs for as long as the app does (so the preview works before
 * broadcasting); broadcasting is the HTTP server. Both control adapters (Electron IPC, loopback
 * WebSocket) call these methods and relay its events.
 */
/** A window's own preview: its setPreview call, and its end when the window goes. */
export interface WindowPreview extends WindowHandlers {
  close(): void;
}

export class ControlService extends EventEmitter<EventMap> implements CoreHandlers {
  private readonly core: Core;
  private readonly spec: SourceSpec;
  /** The source when it is the camera, whose frames the capture side pushes in. */
  private readonly camera: CameraSource | null;
  private http: HttpServer | null = null;
  private broadcast: ControlState['broadcast'] = { state: 'stopped', port: null };
  /** The port chosen for `port: 0`, kept across restarts. */
  private pickedPort: number | null = null;
  private captureActive = false;
  /** Each open window preview's close. */
  private readonly previews = new Set<() => void>();
  private qr = { url: '', svg: '' };
  /** Each guest link's QR code, by id, for the URL it was made of. */
  private readonly guestQrs = new Map<string, { url: string; svg: string }>();
  private readonly statsTimer: NodeJS.Timeout;
  private sample = { at: Date.now(), received: 0, encodes: 0, encodeMs: 0, viewers: new Map<number, { frames: number; bytes: number }>() };
  private viewerFps = new Map<number, number>();
  private readonly announcer: Announcer;

  private constructor(
    private readonly store: SettingsStore,
    private readonly keys: KeyStore,
    private readonly guests: GuestLinks,
    private readonly o: ControlServiceOptions,
    private readonly notices: Notices,
  ) {
    super();
    const spec = o.source ?? { kind: 'camera' };
    this.spec = spec;
    this.camera = spec.kind === 'camera' ? new CameraSource({ onDemand: (active) => this.setCaptureActive(active), log: o.log }) : null;
    const source = spec.kind === 'camera' ? this.camera! : makeSource(spec, store.settings, o.log);
    this.core = createCore(source, pick(store.settings, ENCODE_KEYS), o.log);
    this.core.hub.on('joined', (viewer) => this.viewersChanged(viewer));
    this.core.hub.on('left', (viewer) => this.viewersChanged(viewer));
    this.guests.on('expired', (link) => void this.endGuest(link, 'expired'));
    this.announcer = new Announcer(o.log);
    this.announcer.on('change', () => this.emitState());
    this.statsTimer = setInterval(() => this.tick(), STATS_INTERVAL_MS);
  }

  static async create(o: ControlServiceOptions): Promise<ControlService> {
    const notices = new Notices(o.log);
    const overrides = o.overrides ?? {};
    const store = o.settingsFile ? SettingsStore.load(o.settingsFile, notices.add, overrides) : SettingsStore.inMemory(overrides);
    const keys = o.key === undefined ? SavedKey.load(o.configDir, notices.add) : new FixedKey(o.key);
    // Guest links are kept where the settings are, and like them only with a settings file.
    const guests = o.settingsFile ? GuestLinks.load(join(dirname(o.settingsFile), 'guest-links.json'), notices.add) : GuestLinks.inMemory();
    const service = new ControlService(store, keys, guests, o, notices);
    await service.refreshQr();
    return service;
  }

  get hub(): Core['hub'] {
    return this.core.hub;
  }

  getState(): ControlState {
    const s = this.store.settings;
    const served = this.served();
    const links = this.guests.list();
    const urls = this.addressUrls(this.viewerKey());
    const nameUrl = served && this.announcer.hostname ? urlFor(served, this.announcer.hostname, this.viewerKey()) : '';
    const reach = this.reach();
    return {
      broadcast: { ...this.broadcast },
      settings: { ...s },
      share: {
        urls: nameUrl ? [...urls, nameUrl] : urls,
        localUrl: served ? localUrl(served, this.viewerKey()) : '',
        nameUrl,
        secure: served?.secure ?? false,
        reach,
        host: this.o.host ?? null,
        qrSvg: reach === 'network' && this.qr.url === urls[0] ? this.qr.svg : '',
        key: this.keys.key,
        keyKept: this.keys.kept,
        canRenewKey: this.keys.renewable,
      },
      source: { ...this.core.pipeline.sourceStatus(), kind: this.spec.kind },
      camera: this.camera ? this.camera.lastReport : null,
      capture: this.captureRequest(),
      captureInWindow: this.o.captureInWindow && this.camera !== null,
      viewers: this.core.hub.viewerList().map(
        (v): ViewerRow => ({
          ...v,
          client: describeUserAgent(v.userAgent),
          guestName: v.guest === null ? null : (links.find((l) => l.id === v.guest)?.name ?? null),
          fps: this.viewerFps.get(v.id) ?? 0,
        }),
      ),
      guests: this.listGuestLinks(),
      notices: [...this.notices.list],
    };
  }

  async updateSettings(patch: Partial<Settings>): Promise<ControlState> {
    const before = this.store.settings;
    const changes = validateSettingsPatch(patch);
    // A certificate that cannot be used is refused here: the setting stays, and so does the server.
    if ('tlsCert' in changes || 'tlsKey' in changes) {
      const files = tlsFilesOf({ ...before, ...changes });
      if (files) loadTls(files);
    }
    const after = this.store.update(changes);
    const changed = (keys: readonly (keyof Settings)[]): boolean => keys.some((k) => before[k] !== after[k]);
    if (changed(ENCODE_KEYS)) this.core.encoder.settings = { ...this.core.encoder.settings, ...pick(after, ENCODE_KEYS) };
    const sourceChanged = changed(SOURCE_SETTINGS[this.spec.kind]);
    if (this.spec.kind !== 'camera') {
      if (sourceChanged) this.core.pipeline.replaceSource(makeSource(this.spec, after, this.o.log));
    } else if (sourceChanged || captureJpegQuality(before) !== captureJpegQuality(after)) {
      this.emit('capture', this.captureRequest());
    }
    if (changed(SERVER_KEYS) && this.http) await this.restartHttp(changed(ADDRESS_KEYS) ? 'moved' : 'restarting');
    if (changed(['name', 'mdns'])) this.announce();
    await this.refreshQr();
    return this.emitState();
  }

  async start(): Promise<ControlState> {
    if (this.http || this.broadcast.state === 'starting') return this.getState();
    return this.listenAndTell();
  }

  async stop(): Promise<ControlState> {
    await this.closeHttp('stopped');
    return this.emitState();
  }

  kick(viewerId: number): ControlState {
    if (!this.core.hub.kick(viewerId)) throw new Error(`no viewer ${viewerId} is connected`);
    return this.getState();
  }

  /** A new key: the old links stop working and everyone watching is dropped. Refused for a key --key set. */
  async newKey(): Promise<ControlState> {
    this.keys.renew();
    if (this.http) await this.restartHttp('new-key');
    await this.refreshQr();
    return this.emitState();
  }

  async createGuestLink(spec: GuestLinkSpec): Promise<GuestLinkRow> {
    const { link } = this.guests.create(spec);
    await this.refreshQr();
    this.emitState();
    return this.guestRow({ ...link, expired: false }, this.core.hub.viewerList());
  }

  listGuestLinks(): GuestLinkRow[] {
    const watching = this.core.hub.viewerList();
    return this.guests.list().map((link) => this.guestRow(link, watching));
  }

  async revokeGuestLink(id: string): Promise<ControlState> {
    const link = this.guests.revoke(id);
    this.guestQrs.delete(id);
    // Told the broadcaster disconnected them, as a kick says.
    await this.endGuest(link, 'kicked');
    return this.emitState();
  }

  /**
   * A window's preview, off until the window's setPreview call turns it on (each window's its
   * own). While on, the hub feeds `sink` (the window's WebSocket or IPC) as it feeds a viewer, at
   * most PREVIEW_FPS frames a second. Close it when the window goes.
   */
  openPreview(sink: Sink): WindowPreview {
    let release: (() => void) | null = null;
    const setPreview = (on: boolean): void => {
      if (on && !release) release = this.core.hub.consume(sink, 1000 / PREVIEW_FPS);
      if (!on && release) {
        release();
        release = null;
      }
    };
    const close = (): void => {
      setPreview(false);
      this.previews.delete(close);
    };
    this.previews.add(close);
    return { setPreview, close };
  }

  reportCamera(report: CameraReport): void {
    this.cameraSource().report(report);
    this.emitState();
  }

  /** One camera frame (pixels or a JPEG) from the capture side, checked where it came in (shared/frame-format.ts). */
  acceptFrame(frame: CameraFrame): void {
    this.cameraSource().acceptFrame(frame);
  }

  async close(): Promise<void> {
    clearInterval(this.statsTimer);
    this.guests.close();
    for (const close of [...this.previews]) close();
    this.core.pipeline.close();
    await this.http?.close();
    this.http = null;
    await this.announcer.close();
  }

  private cameraSource(): CameraSource {
    if (!this.camera) throw new Error(`this PushCam serves ${this.spec.kind === 'pattern' ? 'the test pattern' : `a ${this.spec.kind === 'dir' ? 'folder' : 'file'}`}, not a camera`);
    return this.camera;
  }

  private viewersChanged(viewer: ViewerInfo): void {
    if (viewer.guest !== null) this.guests.seen(viewer.guest);
    this.emitState();
  }

  private async endGuest(link: GuestLink, reason: Farewell): Promise<void> {
    await this.core.hub.endGuest(link.id, reason);
    this.emitState();
  }

  private guestRow(link: GuestLink & { expired: boolean }, watching: ViewerInfo[]): GuestLinkRow {
    const viewers = watching.filter((v) => v.guest === link.id).length;
    const url = this.guestUrl(link.id);
    const qr = this.guestQrs.get(link.id);
    return {
      ...link,
      viewers,
      // Watching now is seen now.
      lastSeen: viewers > 0 ? Date.now() : link.lastSeen,
      url,
      qrSvg: this.reach() === 'network' && url !== '' && qr?.url === url ? qr.svg : '',
      keyKnown: this.guests.keyOf(link.id) !== undefined,
    };
  }

  /** A guest link's URL with its own key, while broadcasting and when this run knows the key. */
  private guestUrl(id: string): string {
    const key = this.guests.keyOf(id);
    if (key === undefined) return '';
    return this.addressUrls(key)[0] ?? '';
  }

  private emitState(): ControlState {
    const state = this.getState();
    this.emit('state', state);
    return state;
  }

  /** Serves on the port the settings ask for, or with port 0 on the one picked before while it is free. */
  private async listen(s: Settings): Promise<HttpServer> {
    const options = {
      host: this.host(),
      key: this.viewerKey(),
      maxViewers: s.maxViewers,
      guests: this.guests,
      sendTimeoutMs: this.o.sendTimeoutMs,
      maxPerAddress: this.o.maxPerAddress,
      allowHosts: () => this.allowedHosts(),
      name: () => this.store.settings.name,
      tls: tlsFilesOf(s),
    };
    if (s.port === 0 && this.pickedPort !== null) {
      try {
        return await serveHttp(this.core, { ...options, port: this.pickedPort }, this.o.log);
      } catch (err) {
        if (!(err instanceof PortInUseError)) throw err;
        this.o.log(`port ${this.pickedPort} was taken meanwhile; serving on another free port`);
      }
    }
    return serveHttp(this.core, { ...options, port: s.port }, this.o.log);
  }

  /** Stops broadcasting; viewers' last picture, and their pages, say why. */
  private async closeHttp(reason: Farewell): Promise<void> {
    const http = this.http;
    this.http = null;
    this.broadcast = { state: 'stopped', port: null };
    this.announce();
    await http?.close(reason);
  }

  /** A new key or server setting: straight from broadcasting to starting, never 'stopped' in between. */
  private async restartHttp(reason: Farewell): Promise<void> {
    const http = this.http;
    this.http = null;
    this.broadcast = { state: 'starting', port: null };
    await http?.close(reason);
    await this.listenAndTell();
  }

  private async listenAndTell(): Promise<ControlState> {
    const s = this.store.settings;
    this.broadcast = { state: 'starting', port: null };
    this.emitState();
    try {
      this.http = await this.listen(s);
      // "Any free port" is chosen once: a restart for a new key or setting keeps viewers' links.
      this.pickedPort = s.port === 0 ? this.http.port : null;
      this.broadcast = { state: 'broadcasting', port: this.http.port };
    } catch (err) {
      this.broadcast = { state: 'error', port: null, ...listenProblem(err, this.host()) };
    }
    this.announce();
    await this.refreshQr();
    return this.emitState();
  }

  /** The links by address for `key` while broadcasting: one per LAN address; none when not broadcasting. */
  private addressUrls(key: string | null): string[] {
    const served = this.served();
    return served ? viewerUrls(served, key) : [];
  }

  /** Where viewers reach the server while broadcasting; null when it is not. */
  private served(): Served | null {
    return this.http ? { secure: this.http.secure, port: this.http.port, host: this.host() } : null;
  }

  /** On the LAN by name while broadcasting to it, unless the mdns setting (or PUSHCAM_NO_MDNS, for every run) turns it off. */
  private announce(): void {
    const announce = this.http !== null && this.store.settings.mdns && !process.env.PUSHCAM_NO_MDNS && this.reach() === 'network';
    const host = this.host();
    const address = host === '0.0.0.0' || host === '::' ? undefined : host;
    void this.announcer.set(announce ? { name: this.store.settings.name, port: this.http!.port, address } : null);
  }

  /** Names viewers may reach this server by besides the machine's own (hosts.ts): --allow-host, and the mDNS name while it is announced. */
  private allowedHosts(): readonly string[] {
    const names = this.o.allowHosts ?? [];
    return this.announcer.hostname ? [...names, this.announcer.hostname] : names;
  }

  /** The key viewers need, or null with open access. */
  private viewerKey(): string | null {
    return this.store.settings.openAccess ? null : this.keys.key;
  }

  private host(): string | undefined {
    return this.o.host ?? (this.store.settings.lanAccess ? undefined : '127.0.0.1');
  }

  private reach(): 'network' | 'local' {
    const host = this.host();
    return host !== undefined && isLoopback(host) ? 'local' : 'network';
  }

  private async refreshQr(): Promise<void> {
    await this.refreshGuestQrs();
    const url = this.addressUrls(this.viewerKey())[0] ?? '';
    if (url === this.qr.url) return;
    this.qr = { url, svg: await qrSvg(url) };
  }

  private async refreshGuestQrs(): Promise<void> {
    for (const { id } of this.guests.list()) {
      const url = this.guestUrl(id);
      if (this.guestQrs.get(id)?.url !== url) this.guestQrs.set(id, { url, svg: await qrSvg(url) });
    }
  }

  private captureRequest(): CaptureRequest {
    const s = this.store.settings;
    const { cameraId, cameraLabel, width, height, intervalMs } = s;
    return { active: this.captureActive, cameraId, cameraLabel, width, height, intervalMs, jpegQuality: captureJpegQuality(s) };
  }

  private setCaptureActive(active: boolean): void {
    this.captureActive = active;
    this.emit('capture', this.captureRequest());
  }

  /** Every STATS_INTERVAL_MS: rates from the counters' deltas, for the stats sparklines and the viewer table. */
  private tick(): void {
    const now = Date.now();
    const seconds = Math.max(0.001, (now - this.sample.at) / 1000);
    const { pipeline, encoder } = this.core;
    const viewers = new Map(this.core.hub.viewerList().map((v) => [v.id, { frames: v.framesSent, bytes: v.bytesSent }]));
    let bytes = 0;
    this.viewerFps = new Map();
    for (const [id, now] of viewers) {
      const before = this.sample.viewers.get(id) ?? { frames: 0, bytes: 0 };
      bytes += now.bytes - before.bytes;
      this.viewerFps.set(id, round((now.frames - before.frames) / seconds));
    }
    const encodes = encoder.frames - this.sample.encodes;
    const stats: Stats = {
      at: now,
      captureFps: round((pipeline.received - this.sample.received) / seconds),
      encodeMs: encodes > 0 ? round((encoder.totalMs - this.sample.encodeMs) / encodes) : 0,
      outKBps: round(bytes / 1024 / seconds),
    };
    this.sample = { at: now, received: pipeline.received, encodes: encoder.frames, encodeMs: encoder.totalMs, viewers };
    this.emit('stats', stats);
    if (viewers.size > 0) this.emitState();
  }
}

/** A link as a QR code, an SVG document; '' for no link. */
async function qrSvg(url: string): Promise<string> {
  return url ? QRCode.toString(url, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' }) : '';
}

/** Things the user should know once (a damaged or unwritable settings file): kept for the window, said in the log. */
class Notices {
  readonly list: string[] = [];
  constructor(private readonly log: (line: string) => void) {}
  readonly add = (line: string): void => {
    if (this.list.includes(line)) return;
    this.list.push(line);
    this.log(line);
  };
}

/** Why the HTTP server could not listen, in the words every mode shows (the window, the terminal). */
function listenProblem(err: unknown, host: string | undefined): { error: string; suggestedPort?: number } {
  if (err instanceof TlsFileError) return { error: `${err.message}.` };
  if (err instanceof PortInUseError) return { error: `Port ${err.port} is in use by another program.`, suggestedPort: err.suggestion ?? undefined };
  const { code, port } = err as NodeJS.ErrnoException & { port?: number };
  if (code === 'EADDRNOTAVAIL') return { error: `--host ${host ?? ''}: this computer has no such address; it has ${ownAddresses().join(', ')}.` };
  if (code === 'EACCES') return { error: `Port ${port ?? ''} is reserved for the system; use one from 1024 up.` };
  return { error: `Could not start: ${(err as Error).message}` };
}

/** The certificate and key the settings name; null for plain HTTP. Refuses one without the other. */
function tlsFilesOf(s: Settings): TlsFiles | null {
  if (!s.tlsCert && !s.tlsKey) return null;
  if (!s.tlsCert || !s.tlsKey) throw new TlsFileError(`HTTPS needs both a certificate and its key: the ${s.tlsCert ? 'key' : 'certificate'} file is not set`);
  return { cert: s.tlsCert, key: s.tlsKey };
}

function ownAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a ? [a.address] : []));
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, from[k]])) as Pick<T, K>;
}

/** A JPEG the encoder passes through untouched is what viewers get, so it is made at the user's quality. */
function captureJpegQuality(s: Settings): number {
  return needsPixels(s) ? Math.max(REENCODED_JPEG_QUALITY, s.quality) : s.quality;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
