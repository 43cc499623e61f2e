// The viewer page: the push stream in an <img>, and a watchdog that keeps a picture on screen.
//
// Chromium fires `load` on a multipart <img> once, for the first part, and never again (measured
// in Chromium 156); nor does it fire `error` when a running stream's connection drops. So the
// page finds out about new frames by drawing the <img> into a tiny canvas and comparing pixels,
// and learns from status.json whether the server published frames the picture should have shown.

import { byTestId } from '../shared/by-test-id.js';

const STATUS_EVERY_MS = 2000;
/** Frames published, picture unchanged this long: the stream is stuck (or blocked by a proxy). */
const STALL_MS = 4000;
const FALLBACK_LIMIT_MS = 5 * 60_000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10_000;
const IDLE_MS = 3000;
/** The side of the pixel sample: enough to see a change, cheap to draw and read back. */
const SAMPLE = 16;
/** Mean difference per channel below which two samples show the same picture (decoders differ slightly). */
const SAME_PICTURE = 4;

type Mode = 'starting' | 'connecting' | 'live' | 'fallback' | 'stopped' | 'reconnecting' | 'locked' | 'paused' | 'full' | 'kicked';

const MODE_TEXT: Record<Mode, string> = {
  starting: 'connecting',
  connecting: 'connecting',
  live: 'live',
  fallback: 'fallback mode',
  stopped: 'fallback stopped',
  reconnecting: 'reconnecting',
  locked: 'locked',
  paused: 'paused',
  full: 'waiting',
  kicked: 'disconnected',
};

/** How long to wait before asking again when the server is full, or after being kicked. */
const FULL_RETRY_MS = 10_000;
const KICKED_RETRY_MS = 60_000;

const MESSAGES: Partial<Record<Mode, string>> = {
  locked: 'This PushCam needs its access key: open the full link you were given.',
  reconnecting: 'PushCam cannot be reached. Trying again…',
  stopped: 'The fallback picture stopped after 5 minutes to save bandwidth. Press Resume to watch again.',
  full: 'PushCam has as many viewers as it allows. Trying again…',
  kicked: 'The broadcaster disconnected you. Trying again in a minute…',
};

interface Status {
  source: { kind: string; state: string; error?: string };
  frame: { seq: number; width: number; height: number; at: number } | null;
  clients: unknown[];
}

interface Snapshot {
  seq: number;
  blob: Blob;
}

const img = byTestId('stream', HTMLImageElement);
const modeLabel = byTestId('mode', HTMLElement);
const liveLine = byTestId('live-line', HTMLElement);
const message = byTestId('message', HTMLElement);
const resumeButton = byTestId('resume', HTMLButtonElement);
const snapshotLink = byTestId('snapshot', HTMLAnchorElement);
const fullscreenButton = byTestId('fullscreen', HTMLButtonElement);

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

// --- what is on screen -------------------------------------------------------------------------

let blobUrl: string | null = null;

function setPicture(src: string | null): void {
  const old = blobUrl;
  if (src === null) img.removeAttribute('src');
  else img.src = src;
  blobUrl = src?.startsWith('blob:') ? src : null;
  // The old picture is already decoded: dropping its blob does not blank the screen.
  if (old) URL.revokeObjectURL(old);
}

function showSnapshot(snapshot: Snapshot): void {
  setPicture(URL.createObjectURL(snapshot.blob));
  // Which frame is up, for whoever inspects the page (the browser tests do).
  img.dataset.seq = String(snapshot.seq);
}

/** A few pixels of what an image shows; null while it has no picture. */
function sampleOf(source: HTMLImageElement | ImageBitmap): Uint8ClampedArray | null {
  if (source instanceof HTMLImageElement && (!source.complete || source.naturalWidth === 0)) return null;
  probe.drawImage(source, 0, 0, SAMPLE, SAMPLE);
  return probe.getImageData(0, 0, SAMPLE, SAMPLE).data;
}

function difference(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i] - b[i]);
  return sum / a.length;
}

// --- modes ---------------------------------------------------------------------------------------

let mode: Mode = 'starting';
/** Aborted when the mode changes: ends its loops, timers, requests and listeners. */
let modeRun = new AbortController();
/** Aborted while the page is hidden or locked: ends status polling. */
let polling = new AbortController();

function setMode(next: Mode): void {
  mode = next;
  document.body.dataset.mode = next;
  modeLabel.textContent = MODE_TEXT[next];
  const text = MESSAGES[next];
  message.hidden = !text;
  message.textContent = text ?? '';
  resumeButton.hidden = next !== 'stopped';
}

function enter(next: Mode): AbortSignal {
  modeRun.abort();
  modeRun = new AbortController();
  setMode(next);
  return modeRun.signal;
}

const streaming = (): boolean => mode === 'live' || mode === 'connecting';

// The watchdog's memory: the last pixels seen, when they last changed, and the newest frame the
// server had published by then.
let sample: Uint8ClampedArray | null = null;
let changedAt = 0;
let seqAtChange = 0;
let latestSeq = 0;
let attempt = 0;

function goLive(): void {
  const signal = enter('connecting');
  sample = null;
  changedAt = performance.now();
  seqAtChange = latestSeq;
  delete img.dataset.seq;
  img.addEventListener(
    'load',
    () => {
      if (streaming()) setMode('live');
    },
    { signal },
  );
  img.addEventListener('error', () => void streamBroken(signal), { signal });
  // A new address every time: for an unchanged src whose stream has ended cleanly (which is how
  // a server that closes or restarts looks, as the stream has no length), Chromium shows the old
  // last frame again without asking the server.
  setPicture(url('stream.mjpg', { n: String(++attempt) }));
}

async function healthy(signal: AbortSignal): Promise<boolean> {
  try {
    return (await fetch('healthz', { cache: 'no-store', signal })).ok;
  } catch {
    return false;
  }
}

/** A HEAD of the stream answers at once; one that hangs is held up on the way. */
const PROBE_MS = 3000;

/** The stream's own answer to a HEAD: its status, or 0 when none came. */
async function probeStream(signal: AbortSignal): Promise<number> {
  try {
    const probe = AbortSignal.any([signal, AbortSignal.timeout(PROBE_MS)]);
    return (await fetch(url('stream.mjpg'), { method: 'HEAD', cache: 'no-store', signal: probe })).status;
  } catch {
    return 0;
  }
}

/**
 * A dead server, a full one, a kick and a stream that cannot get through (a buffering proxy) all
 * look alike from the <img>; the stream's answer to a HEAD tells them apart. Only the last one
 * falls back to snapshots: a full server or a kick must not be worked around.
 */
async function streamBroken(signal: AbortSignal, snapshot?: Snapshot): Promise<void> {
  if (signal.aborted) return;
  // A run of its own, so a second alarm from the broken stream (error event, watchdog) is ignored.
  const own = enter(mode);
  const status = await probeStream(own);
  // No answer at all from the stream, but one from the server: something in between blocks it.
  const blocked = status === 0 && (await healthy(own));
  if (own.aborted) return;
  if (status === 200 || blocked) void fallback(snapshot);
  else if (status === 401) lock();
  else if (status === 503) void retryLater('full', FULL_RETRY_MS);
  else if (status === 403) void retryLater('kicked', KICKED_RETRY_MS);
  else void reconnect();
}

async function retryLater(why: 'full' | 'kicked', ms: number): Promise<void> {
  const signal = enter(why);
  setPicture(null);
  try {
    await sleep(ms, signal);
    goLive();
  } catch {
    // Left waiting (hidden, resumed): nothing to undo.
  }
}

async function reconnect(): Promise<void> {
  const signal = enter('reconnecting');
  try {
    for (let wait = RETRY_MIN_MS; ; wait = Math.min(wait * 2, RETRY_MAX_MS)) {
      await sleep(wait, signal);
      if (await healthy(signal)) return goLive();
    }
  } catch {
    // Left reconnecting (hidden, resumed): nothing to undo.
  }
}

function lock(): void {
  polling.abort();
  enter('locked');
  setPicture(null);
}

async function fetchSnapshot(signal: AbortSignal, after?: number): Promise<Snapshot | Response> {
  const res = await fetch(url('snapshot.jpg', after === undefined ? {} : { after: String(after) }), {
    cache: 'no-store',
    signal,
  });
  if (res.status !== 200) return res;
  return { seq: Number(res.headers.get('X-Frame-Seq')), blob: await res.blob() };
}

/**
 * Long-polls snapshot.jpg?after=SEQ, one request at a time: the server answers when a newer frame
 * exists, or with 304 after waiting, so this costs a request per frame and nothing while idle.
 */
async function fallback(first?: Snapshot): Promise<void> {
  const signal = enter('fallback');
  // The seed capped its polling workaround at 30 s to save bandwidth; long-polling is cheaper, but
  // an unattended screen should still not pull frames forever.
  const limit = setTimeout(() => enter('stopped'), FALLBACK_LIMIT_MS);
  signal.addEventListener('abort', () => clearTimeout(limit), { once: true });
  let seq = 0;
  if (first) {
    showSnapshot(first);
    seq = first.seq;
  } else {
    // Let go of the stream now: behind a buffering proxy it would keep pulling bytes nobody sees.
    setPicture(null);
  }
  try {
    while (!signal.aborted) {
      const asked = performance.now();
      const answer = await fetchSnapshot(signal, seq);
      if (answer instanceof Response && answer.status === 401) return lock();
      const fresh = !(answer instanceof Response) && answer.seq > seq;
      if (fresh) {
        showSnapshot(answer);
        seq = answer.seq;
      }
      // An answer that did not wait (an error, a server that ignores ?after) must not become a busy loop.
      if (!fresh && performance.now() - asked < RETRY_MIN_MS) await sleep(RETRY_MIN_MS, signal);
    }
  } catch {
    if (!signal.aborted) void reconnect();
  }
}

/** Runs at every status poll while streaming: did the picture keep up with the published frames? */
async function watch(status: Status, signal: AbortSignal): Promise<void> {
  // Drawing a 720p frame into the canvas decodes it again (20-50 ms in Chromium 156 without a
  // GPU), so the picture is only looked at when the server published something new.
  if (latestSeq > seqAtChange) {
    const now = sampleOf(img);
    if (now && (!sample || difference(now, sample) > 0)) {
      sample = now;
      changedAt = performance.now();
      seqAtChange = latestSeq;
      return;
    }
  }
  // A stream whose connection died turns "broken" without an error event.
  if (img.complete && img.naturalWidth === 0) return streamBroken(signal);
  if (performance.now() - changedAt < STALL_MS) return;
  // No stream at the server, long after ours began: it never got there (a proxy holds it) or
  // died unnoticed. Nobody watching also means nothing is published, so the test below can't see it.
  if (status.clients.length === 0) return streamBroken(signal);
  if (latestSeq <= seqAtChange) return;
  // Frames were published and the picture stayed: it is stuck, or the scene is still. The
  // newest snapshot tells which.
  let snapshot: Snapshot | Response;
  try {
    snapshot = await fetchSnapshot(signal);
  } catch {
    if (!signal.aborted) void streamBroken(signal);
    return;
  }
  if (snapshot instanceof Response || signal.aborted) return;
  const bitmap = await createImageBitmap(snapshot.blob);
  const newest = sampleOf(bitmap);
  bitmap.close();
  if (signal.aborted) return;
  if (sample && newest && difference(newest, sample) < SAME_PICTURE) {
    seqAtChange = snapshot.seq;
    return;
  }
  // A frame may have reached the stream while the snapshot was on its way.
  const again = sampleOf(img);
  if (again && sample && difference(again, sample) > 0) {
    sample = again;
    changedAt = performance.now();
    seqAtChange = latestSeq;
    return;
  }
  void streamBroken(signal, snapshot);
}

// --- status ----------------------------------------------------------------------------------------

let previous: { seq: number; at: number } | null = null;

function describe(status: Status): string {
  const viewers = status.clients.length;
  const parts = [`${viewers} ${viewers === 1 ? 'viewer' : 'viewers'}`];
  const frame = status.frame;
  if (frame && previous) {
    const fps = frame.at > previous.at ? ((frame.seq - previous.seq) * 1000) / (frame.at - previous.at) : 0;
    parts.push(`${fps.toFixed(fps < 10 ? 1 : 0)} fps`);
  }
  if (frame) parts.push(`${frame.width}×${frame.height}`);
  if (status.source.state !== 'running') parts.push(status.source.error ?? `${status.source.kind} ${status.source.state}`);
  return parts.join(' · ');
}

async function checkStatus(signal: AbortSignal): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url('status.json'), { cache: 'no-store', signal });
  } catch {
    if (!signal.aborted && (streaming() || mode === 'fallback' || mode === 'starting')) void reconnect();
    return;
  }
  if (res.status === 401) return lock();
  // Asking before streaming spares a locked page a stream request that can only fail.
  if (mode === 'starting') goLive();
  if (!res.ok) return;
  const status = (await res.json()) as Status;
  liveLine.textContent = describe(status);
  if (status.frame) {
    latestSeq = status.frame.seq;
    if (previous?.seq !== status.frame.seq) previous = { seq: status.frame.seq, at: status.frame.at };
  }
  if (streaming()) await watch(status, modeRun.signal);
}

async function pollStatus(signal: AbortSignal): Promise<void> {
  try {
    for (;;) {
      // One odd answer (not JSON, not an image) must not end the polling.
      await checkStatus(signal).catch(() => undefined);
      await sleep(STATUS_EVERY_MS, signal);
    }
  } catch {
    // Hidden or locked: polling ends.
  }
}

// --- page life ---------------------------------------------------------------------------------------

function start(): void {
  polling = new AbortController();
  enter('starting');
  void pollStatus(polling.signal);
}

/** A hidden tab lets go of the stream so the server stops sending (and maybe encoding) for it. */
function pause(): void {
  polling.abort();
  enter('paused');
  setPicture(null);
}

document.addEventListener('visibilitychange', () => (document.hidden ? pause() : start()));
resumeButton.addEventListener('click', goLive);

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

if (!document.hidden) start();
