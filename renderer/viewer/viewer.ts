// The viewer page: the push stream in an <img>, and words that say what is really happening.
//
// No engine tells a page what a multipart <img> is doing: Chromium and WebKit fire `load` once,
// for the first part (Firefox once per part), and none fires an event when the stream ends. So
// the page keeps one status request open, which the server holds for up to HOLD_MS and answers at
// once, with the reason, when it ends this page's viewing (a stop, a restart, a new key, a kick),
// and which says whether the server sees this page's stream. The picture itself is read with
// createImageBitmap: drawImage of a multipart <img> draws its first part forever in Firefox.
// Snapshots (long-polled) are for a stream that cannot get through, and only that: fresh streams
// failed while the server answers.

import { type Farewell, FAREWELL_WORDS } from '../../shared/farewell.js';
import type { PageStatus, StatusJson } from '../../shared/status.js';
import { byTestId } from '../common/by-test-id.js';

const HOLD_MS = 2000;
/** A fresh stream the server has not seen this long after it was asked for is held up on the way (or ended). */
const STREAM_GRACE_MS = 1500;
/** Streams that fail one after the other before the page falls back to snapshots. */
const STREAM_TRIES = 2;
const STREAM_RETRY_MS = 500;
/** Frames published, picture unchanged this long: the stream is stuck (or a proxy holds it). */
const STALL_MS = 4000;
/** After failures this long, "Reconnecting…" says that PushCam cannot be reached. */
const UNREACHABLE_AFTER_MS = 4000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 2000;
/** From snapshots, the stream is tried again after this, doubling up to the max. */
const STREAM_AGAIN_MS = 30_000;
const STREAM_AGAIN_MAX_MS = 10 * 60_000;
/** A stream that gets through sends its first bytes within this. */
const GETS_THROUGH_MS = 4000;
const FULL_RETRY_MS = 10_000;
const IDLE_MS = 3000;
/** The side of the pixel sample: enough to see a change, cheap to draw and read back. */
const SAMPLE = 16;
/** Mean difference per channel below which two samples show the same picture (decoders differ slightly). */
const SAME_PICTURE = 4;

type Mode = 'connecting' | 'live' | 'snapshots' | 'reconnecting' | 'unreachable' | 'stopped' | 'moved' | 'kicked' | 'expired' | 'full' | 'in-use' | 'paused';

/** What each mode says: the badge, and a message over the picture for the modes that need one. */
const WORDS: Record<Mode, { badge: string; message?: string }> = {
  connecting: { badge: 'Connecting…' },
  live: { badge: 'Live' },
  snapshots: { badge: 'Slow connection: showing snapshots' },
  reconnecting: { badge: 'Reconnecting…' },
  unreachable: { badge: 'Reconnecting…', message: 'PushCam cannot be reached. Trying again…' },
  stopped: { badge: 'Stopped', message: 'The broadcaster stopped broadcasting. The picture comes back when the broadcast starts again.' },
  moved: { badge: 'Moved', message: sentences(FAREWELL_WORDS.moved) },
  kicked: { badge: 'Disconnected', message: sentences(FAREWELL_WORDS.kicked) },
  expired: { badge: 'Expired', message: sentences(FAREWELL_WORDS.expired) },
  full: { badge: 'Full', message: 'PushCam has as many viewers as it allows. You get in when a place is free…' },
  'in-use': { badge: 'In use', message: 'This link is for one viewer at a time, and someone else is watching through it. You get in when they stop…' },
  paused: { badge: 'Paused' },
};

/** The words of the stream's last picture (a line each) as the sentences of the message. */
function sentences(lines: readonly string[]): string {
  return lines.map((line) => `${line}.`).join(' ');
}

type StatusAnswer = { kind: 'status'; status: PageStatus } | { kind: 'ended'; reason: Farewell } | { kind: 'locked' } | { kind: 'unreachable' };

interface Snapshot {
  seq: number;
  blob: Blob;
}

const img = byTestId('stream', HTMLImageElement);
const modeLabel = byTestId('mode', HTMLElement);
const liveLine = byTestId('live-line', HTMLElement);
const notice = byTestId('notice', HTMLElement);
const message = byTestId('message', HTMLElement);
const watchAgain = byTestId('watch-again', HTMLButtonElement);
const snapshotLink = byTestId('snapshot', HTMLAnchorElement);
const fullscreenButton = byTestId('fullscreen', HTMLButtonElement);
const pictureMenu = byTestId('picture-size', HTMLSelectElement);

/**
 * The picture sizes a viewer can pin (the menu). Auto lets PushCam pick by what the connection
 * carries (server/hub/auto-tier.ts); programs without this page get the main picture.
 */
const PICTURES = {
  auto: { quality: 'auto' },
  full: {},
  medium: { width: '640' },
  small: { width: '320' },
} satisfies Record<string, Record<string, string>>;
type Picture = keyof typeof PICTURES;
const PICTURE_KEY = 'pushcam-picture';

const probe = newProbe();

function newProbe(): CanvasRenderingContext2D {
  const canvas = document.createElement('canvas');
  canvas.width = SAMPLE;
  canvas.height = SAMPLE;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('viewer page: no 2D canvas');
  return context;
}

// The server normally keeps the key in a cookie; a key in the page's address is passed on too.
const key = new URLSearchParams(location.search).get('key');
/** Names this page to the server, so it can say how it sees this page watching (crypto.randomUUID needs https). */
const viewerToken = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');

function url(path: string, query: Record<string, string> = {}): string {
  const params = new URLSearchParams(query);
  if (key) params.set('key', key);
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

// --- the picture size ---------------------------------------------------------------------------

let picture: Picture = savedPicture();
/** PushCam could not make the pinned size (it makes as many as it can): full size until the choice changes. */
let pictureRefused = false;

function savedPicture(): Picture {
  try {
    const saved = localStorage.getItem(PICTURE_KEY) ?? '';
    return saved in PICTURES ? (saved as Picture) : 'auto';
  } catch {
    return 'auto';
  }
}

function choosePicture(next: Picture): void {
  picture = next;
  pictureRefused = false;
  try {
    localStorage.setItem(PICTURE_KEY, next);
  } catch {
    // Storage off: the choice holds for this visit.
  }
}

/** What the stream asks for. */
function pictureQuery(): Record<string, string> {
  return pictureRefused ? {} : PICTURES[picture];
}

/** What snapshots ask for: the pinned size; with Auto (a stream thing), the main picture. */
function snapshotPictureQuery(): Record<string, string> {
  return picture === 'auto' ? {} : pictureQuery();
}

// --- what is on screen -------------------------------------------------------------------------

let blobUrl: string | null = null;

function setPicture(src: string | null): void {
  const old = blobUrl;
  if (src === null) img.removeAttribute('src');
  else img.src = src;
  blobUrl = src?.startsWith('blob:') ? src : null;
  // The old picture is already decoded: dropping its blob does not blank the screen.
  if (old) URL.revokeObjectURL(old);
  delete img.dataset.seq;
}

function showSnapshot(snapshot: Snapshot): void {
  setPicture(URL.createObjectURL(snapshot.blob));
  // Which frame is up, for whoever inspects the page (the browser tests do).
  img.dataset.seq = String(snapshot.seq);
}

/** A few pixels of what an image shows now; null while it has none (WebKit's <img> breaks when its stream drops). */
async function sampleOf(source: HTMLImageElement | Blob): Promise<Uint8ClampedArray | null> {
  if (source instanceof HTMLImageElement && (!source.complete || source.naturalWidth === 0)) return null;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(source);
  } catch {
    return null;
  }
  probe.drawImage(bitmap, 0, 0, SAMPLE, SAMPLE);
  bitmap.close();
  return probe.getImageData(0, 0, SAMPLE, SAMPLE).data;
}

function difference(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

// --- modes ---------------------------------------------------------------------------------------

let mode: Mode = 'connecting';
/** When the current mode began (performance.now()). */
let modeSince = 0;
/** Aborted when the mode changes: ends its loops, timers, requests and listeners. */
let modeRun = new AbortController();
/** Aborted while the page is hidden: ends the status requests. */
let visible = new AbortController();

function setMode(next: Mode): void {
  if (next !== mode) modeSince = performance.now();
  mode = next;
  document.body.dataset.mode = next;
  const words = WORDS[next];
  modeLabel.textContent = words.badge;
  notice.hidden = !words.message;
  message.textContent = words.message ?? '';
  watchAgain.hidden = next !== 'kicked';
  // Figures are shown only while they describe the picture on screen.
  if (next !== 'live' && next !== 'snapshots') liveLine.textContent = '';
}

/** Enters a mode with a fresh run; returns the signal that ends with it. */
function enter(next: Mode): AbortSignal {
  modeRun.abort();
  modeRun = new AbortController();
  setMode(next);
  return modeRun.signal;
}

/** Modes in which the page waits for the server to be back, and then takes the stream. */
const WAITING_FOR_SERVER: readonly Mode[] = ['reconnecting', 'unreachable', 'stopped', 'moved'];

// --- the stream ------------------------------------------------------------------------------------

let attempt = 0;
/** Streams that failed in a row; reset once one shows a picture. */
let streamFailures = 0;
/** Times the page fell back to snapshots in a row, for the back-off of trying the stream again. */
let fallbacks = 0;
let streamAskedAt = 0;
// The watchdog's memory: the last pixels seen, when they last changed, and the newest frame the
// server had published by then.
let sample: Uint8ClampedArray | null = null;
let changedAt = 0;
let seqAtChange = 0;
let latestSeq = 0;

function goLive(): void {
  const signal = enter('connecting');
  sample = null;
  changedAt = performance.now();
  seqAtChange = latestSeq;
  streamAskedAt = performance.now();
  previous = null;
  img.addEventListener(
    'load',
    () => {
      if (mode === 'connecting') setMode('live');
    },
    { signal },
  );
  img.addEventListener('error', () => void streamRefused(signal), { signal });
  // A new address every time: for an unchanged src whose stream has ended, Chromium shows the old
  // last frame again without asking the server.
  setPicture(url('stream.mjpg', { viewer: viewerToken, n: String(++attempt), ...pictureQuery() }));
}

/** The stream's own answer to a HEAD: its status, or 0 when none came. */
async function probeStream(signal: AbortSignal, query = pictureQuery()): Promise<number> {
  try {
    const timeout = AbortSignal.any([signal, AbortSignal.timeout(3000)]);
    return (await fetch(url('stream.mjpg', { viewer: viewerToken, ...query }), { method: 'HEAD', cache: 'no-store', signal: timeout })).status;
  } catch {
    return 0;
  }
}

/** The <img> says its request failed: a HEAD tells a lock, a kick or a full server from a stream that cannot get through. */
async function streamRefused(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  // A run of its own, so a second alarm from the same broken stream is ignored.
  const own = enter(mode);
  const status = await probeStream(own);
  if (own.aborted) return;
  if (status === 401) showKeyPage();
  else if (status === 403) kicked();
  else if (status === 409) void waitForPlace('in-use');
  else if (status === 503) void ((await sizeRefused(own)) ? goLive() : waitForPlace('full'));
  else void streamFailed(own);
}

/** A 503 for a pinned size whose main picture would come: PushCam makes as many sizes as it can. */
async function sizeRefused(signal: AbortSignal): Promise<boolean> {
  if (Object.keys(pictureQuery()).length === 0 || (await probeStream(signal, {})) !== 200) return false;
  pictureRefused = true;
  return !signal.aborted;
}

/** The stream did not get through (or ended unseen): a fresh one, a few times, then snapshots. */
async function streamFailed(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  if (++streamFailures >= STREAM_TRIES) return void fallback();
  const own = enter(mode);
  try {
    await sleep(STREAM_RETRY_MS, own);
    goLive();
  } catch {
    // Left the mode meanwhile.
  }
}

/** Runs at every status answer while streaming: does the server see the stream, and does the picture keep up? */
async function watchStream(status: PageStatus, signal: AbortSignal): Promise<void> {
  if (img.complete && img.naturalWidth === 0 && mode === 'live') return streamRefused(signal);
  if (status.you?.watching !== 'stream') {
    if (performance.now() - streamAskedAt >= STREAM_GRACE_MS) void streamFailed(signal);
    return;
  }
  // The server sends it and it shows: this stream works (one that shows a picture the server never sent does not).
  if (img.naturalWidth > 0) {
    streamFailures = 0;
    fallbacks = 0;
  }
  // Reading a 720p frame decodes it again (tens of ms without a GPU), so the picture is only
  // looked at when the server published something new.
  if (latestSeq > seqAtChange) {
    const now = await sampleOf(img);
    if (signal.aborted) return;
    if (now && (!sample || difference(now, sample) > 0)) {
      sample = now;
      changedAt = performance.now();
      seqAtChange = latestSeq;
      return;
    }
  }
  if (performance.now() - changedAt < STALL_MS || latestSeq <= seqAtChange) return;
  // Frames were published and the picture stayed: it is stuck, or the scene is still. The
  // newest snapshot tells which.
  const snapshot = await fetchSnapshot(signal).catch(() => null);
  if (!snapshot || snapshot instanceof Response || signal.aborted) return;
  const [newest, again] = await Promise.all([sampleOf(snapshot.blob), sampleOf(img)]);
  if (signal.aborted) return;
  if (sample && newest && difference(newest, sample) < SAME_PICTURE) {
    seqAtChange = snapshot.seq;
    return;
  }
  // A frame may have reached the stream while the snapshot was on its way.
  if (again && sample && difference(again, sample) > 0) {
    sample = again;
    changedAt = performance.now();
    seqAtChange = latestSeq;
    return;
  }
  void streamFailed(signal);
}

// --- the other modes -----------------------------------------------------------------------------

function kicked(): void {
  enter('kicked');
  setPicture(null);
}

/** A full server, or a guest link for one viewer that another is using: the stream is tried again now and then. */
async function waitForPlace(why: 'full' | 'in-use'): Promise<void> {
  const signal = enter(why);
  setPicture(null);
  try {
    await sleep(FULL_RETRY_MS, signal);
    goLive();
  } catch {
    // Left waiting (hidden): nothing to undo.
  }
}

/** The server no longer takes this page's key (a new key, or never had the right one): the key page asks for it. */
function showKeyPage(): void {
  visible.abort();
  modeRun.abort();
  // Without the old key in the address, the server shows its key page (it says whether the kept key is wrong).
  location.replace(location.pathname);
}

async function fetchSnapshot(signal: AbortSignal, after?: number): Promise<Snapshot | Response> {
  const query: Record<string, string> = { ...snapshotPictureQuery(), ...(after === undefined ? {} : { viewer: viewerToken, after: String(after) }) };
  const res = await fetch(url('snapshot.jpg', query), { cache: 'no-store', signal });
  if (res.status !== 200) return res;
  return { seq: Number(res.headers.get('X-Frame-Seq')), blob: await res.blob() };
}

/** Whether a stream gets through now: its first bytes arrive. Leaves the picture alone. */
async function streamGetsThrough(signal: AbortSignal): Promise<boolean> {
  const timeout = AbortSignal.any([signal, AbortSignal.timeout(GETS_THROUGH_MS)]);
  try {
    const res = await fetch(url('stream.mjpg', { n: String(++attempt), ...pictureQuery() }), { cache: 'no-store', signal: timeout });
    const reader = res.body?.getReader();
    const first = res.ok && reader ? await reader.read() : null;
    void reader?.cancel();
    return Boolean(first && !first.done);
  } catch {
    return false;
  }
}

/**
 * Snapshots: long-polls snapshot.jpg?after=SEQ, one request at a time. The server answers when a
 * newer frame exists, or with 304 after waiting, so this costs a request per frame and nothing
 * while the picture is still. Now and then it checks whether the stream gets through again.
 */
async function fallback(): Promise<void> {
  const signal = enter('snapshots');
  // Let go of the stream now: behind a buffering proxy it would keep pulling bytes nobody sees.
  setPicture(null);
  void tryStreamAgain(signal, Math.min(STREAM_AGAIN_MS * 2 ** fallbacks, STREAM_AGAIN_MAX_MS));
  fallbacks++;
  let seq = 0;
  try {
    while (!signal.aborted) {
      const asked = performance.now();
      const answer = await fetchSnapshot(signal, seq);
      if (signal.aborted) return;
      if (answer instanceof Response) {
        if (answer.status === 401) return showKeyPage();
        if (answer.status === 403) return kicked();
        if (answer.status === 409) return void waitForPlace('in-use');
        if (answer.status === 503 && answer.headers.has('Retry-After')) return void waitForPlace('full');
      } else if (answer.seq > seq) {
        showSnapshot(answer);
        seq = answer.seq;
      }
      // An answer that did not wait (an error, a server that ignores ?after) must not become a busy loop.
      if (performance.now() - asked < RETRY_MIN_MS && answer instanceof Response) await sleep(RETRY_MIN_MS, signal);
    }
  } catch {
    if (!signal.aborted) lostServer();
  }
}

async function tryStreamAgain(signal: AbortSignal, afterMs: number): Promise<void> {
  try {
    await sleep(afterMs, signal);
    if (await streamGetsThrough(signal)) goLive();
    else if (!signal.aborted) void tryStreamAgain(signal, Math.min(afterMs * 2, STREAM_AGAIN_MAX_MS));
  } catch {
    // Left snapshots meanwhile.
  }
}

/** A request failed: the picture stays (dimmed) while the page tries again; after a while it says so. */
function lostServer(): void {
  if (mode === 'reconnecting') {
    if (performance.now() - modeSince >= UNREACHABLE_AFTER_MS) enter('unreachable');
  } else if (mode === 'live' || mode === 'connecting' || mode === 'snapshots') {
    enter('reconnecting');
  }
}

function ended(reason: Farewell): void {
  if (reason === 'kicked') return kicked();
  if (reason === 'expired') return expired();
  if (reason === 'stopped' || reason === 'moved') {
    enter(reason);
    setPicture(null);
    return;
  }
  // Restarting, or a new key (the server then asks for it): back in a moment.
  enter('reconnecting');
}

/** A guest link's end is final: the page stops asking (shown again, it finds the key page, which says the same). */
function expired(): void {
  visible.abort();
  enter('expired');
  setPicture(null);
}

// --- status ----------------------------------------------------------------------------------------

let previous: { seq: number; at: number } | null = null;

function describe(status: PageStatus): string {
  const viewers = status.viewers;
  const parts = [`${viewers} ${viewers === 1 ? 'viewer' : 'viewers'}`];
  const frame = status.frame;
  if (frame && previous && frame.seq > previous.seq && frame.at > previous.at) {
    const fps = ((frame.seq - previous.seq) * 1000) / (frame.at - previous.at);
    parts.push(`${fps.toFixed(fps < 10 ? 1 : 0)} fps`);
  }
  // The size of what this page gets, which Auto or a pinned size makes smaller than the main picture.
  const size = status.you?.picture ?? frame;
  if (size) parts.push(`${size.width}×${size.height}`);
  if (pictureRefused) parts.push(`${pictureMenu.selectedOptions[0]?.textContent ?? ''} is not available now`);
  return parts.join(' · ');
}

async function askStatus(signal: AbortSignal): Promise<StatusAnswer> {
  // A page waiting for the server to be back wants to know at once.
  const wait = WAITING_FOR_SERVER.includes(mode) ? 0 : HOLD_MS;
  try {
    const res = await fetch(url('status.json', { viewer: viewerToken, wait: String(wait) }), { cache: 'no-store', signal });
    if (res.status === 401) return { kind: 'locked' };
    if (!res.ok) return { kind: 'unreachable' };
    const body = (await res.json()) as StatusJson;
    return 'ended' in body ? { kind: 'ended', reason: body.ended } : { kind: 'status', status: body };
  } catch {
    return { kind: 'unreachable' };
  }
}

async function onStatus(status: PageStatus): Promise<void> {
  document.title = status.name || 'PushCam';
  const frame = status.frame;
  latestSeq = frame?.seq ?? 0;
  if (WAITING_FOR_SERVER.includes(mode)) return goLive();
  if (mode === 'live' || mode === 'snapshots') liveLine.textContent = describe(status);
  if (frame && (!previous || frame.seq !== previous.seq)) previous = { seq: frame.seq, at: frame.at };
  if (mode === 'live' || mode === 'connecting') await watchStream(status, modeRun.signal);
}

/** The page's one open status request, again and again: the server answers every HOLD_MS, or at once with news. */
async function statusLoop(signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    const asked = performance.now();
    const answer = await askStatus(signal);
    if (signal.aborted) return;
    if (answer.kind === 'locked') return showKeyPage();
    failures = answer.kind === 'unreachable' ? failures + 1 : 0;
    if (answer.kind === 'unreachable') lostServer();
    else if (answer.kind === 'ended') ended(answer.reason);
    else await onStatus(answer.status).catch(() => undefined);
    // Failures back off; an answer that did not wait (a server closing, an old server) must not become a busy loop.
    const wait = failures > 0 ? Math.min(RETRY_MIN_MS * 2 ** (failures - 1), RETRY_MAX_MS) : RETRY_MIN_MS - (performance.now() - asked);
    if (wait > 0) await sleep(wait, signal).catch(() => undefined);
  }
}

// --- page life ---------------------------------------------------------------------------------------

function start(): void {
  visible = new AbortController();
  streamFailures = 0;
  goLive();
  void statusLoop(visible.signal);
}

/** A hidden tab lets go of the stream so the server stops sending (and maybe encoding) for it. */
function pause(): void {
  visible.abort();
  enter('paused');
  setPicture(null);
}

document.addEventListener('visibilitychange', () => (document.hidden ? pause() : start()));
pictureMenu.value = picture;
pictureMenu.addEventListener('change', () => {
  choosePicture(pictureMenu.value as Picture);
  streamFailures = 0;
  if (mode === 'live' || mode === 'connecting' || mode === 'snapshots') goLive();
});
watchAgain.addEventListener('click', () => {
  streamFailures = 0;
  goLive();
});

snapshotLink.href = url('snapshot.jpg');
snapshotLink.addEventListener('click', () => {
  snapshotLink.download = `pushcam-${timestamp(new Date())}.jpg`;
});

function timestamp(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`;
}

function toggleFullscreen(): void {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void document.documentElement.requestFullscreen().catch(() => undefined);
}

fullscreenButton.hidden = !document.fullscreenEnabled;
fullscreenButton.addEventListener('click', toggleFullscreen);
img.addEventListener('dblclick', toggleFullscreen);
document.addEventListener('fullscreenchange', () => {
  fullscreenButton.textContent = document.fullscreenElement ? 'Exit full screen' : 'Full screen';
});

// The controls fade out while someone just watches, and come back on any movement or key.
let idleTimer: ReturnType<typeof setTimeout> | undefined;
function wake(): void {
  document.body.classList.remove('idle');
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => document.body.classList.add('idle'), IDLE_MS);
}
for (const type of ['pointermove', 'pointerdown', 'keydown']) document.addEventListener(type, wake);
wake();

if (document.hidden) setMode('paused');
else start();
