// The camera table: `pushcam serve --source camera --fake-camera` as users run it (the built CLI,
// its headless capture browser, the capture page over the loopback control server), with viewers
// reading /stream.mjpg from another process. What they get, and what it costs PushCam and the
// browser, read from /proc.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Status } from '../shared/status.js';
import { CHROMIUM_PATH } from '../test/helpers/chromium.js';
import { startServeChild } from '../test/helpers/serve-child.js';
import { type Child, countersOf, startViewers } from './children.js';
import { kb, mb, num, percent, table } from './markdown.js';
import { cmdlineOf, cpuMark, cpuOf, groupOf, memoryOf, otherCpuPercent, pssBytes, treeOf } from './proc.js';
import { CAMERA_RUN } from './settings.js';
import { type MeasuredTable, median, type Retryable } from './stats.js';

/** Chromium's fake camera runs at 20 fps unless told; `fps=30` is its option (no quotes in argv). */
const FAKE_CAMERA_30FPS = '--use-fake-device-for-media-stream=fps=30';
const TIMEOUT_MS = 20_000;

/**
 * PushCam's --browser, running the Debian Chromium with the fake camera at 30 fps. PushCam passes
 * the bare option (20 fps) and has no way to add `fps=30`; a later option on the command line
 * wins, and /usr/bin/chromium moves options behind the URL, so the bare one is rewritten in place.
 */
function writeBrowserWrapper(dir: string): string {
  const path = join(dir, 'chromium-30fps');
  const script = [
    '#!/bin/sh',
    '# Written by the PushCam camera bench: Chromium with its fake camera at 30 fps.',
    'for arg do',
    '  shift',
    `  [ "$arg" = --use-fake-device-for-media-stream ] && arg=${FAKE_CAMERA_30FPS}`,
    '  set -- "$@" "$arg"',
    'done',
    `exec ${CHROMIUM_PATH} "$@"`,
  ];
  writeFileSync(path, `${script.join('\n')}\n`);
  chmodSync(path, 0o755);
  return path;
}

async function status(port: number): Promise<Pick<Status, 'source' | 'frame' | 'encoder'>> {
  const res = await fetch(`http://127.0.0.1:${port}/status.json`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`/status.json: HTTP ${res.status}`);
  return (await res.json()) as Status;
}

async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`camera bench: no ${what} within ${TIMEOUT_MS / 1000} s`);
    await sleep(200);
  }
}

/** SIGKILL to a process, or with a negative pid to a process group, if it is still there. */
function kill(pid: number | undefined): void {
  try {
    if (pid !== undefined) process.kill(pid, 'SIGKILL');
  } catch {
    // Gone meanwhile.
  }
}

interface CameraRow {
  label: string;
  cells: string[];
  otherCpuPercent: number;
  /** The capture browser's command line carried the 30 fps option. */
  fakeCamera30Fps: boolean;
}

/** One row: a fresh `pushcam serve` and a fresh viewers process, both gone when this returns. */
async function runEndToEnd(timestamp: boolean, progress: (line: string) => void): Promise<CameraRow> {
  const dir = mkdtempSync(join(tmpdir(), 'pushcam-camera-bench-'));
  const { size, intervalMs, viewers: count, warmupMs, measureMs } = CAMERA_RUN;
  progress(`camera: pushcam serve${timestamp ? ' --timestamp' : ''} with ${count} viewers`);
  const args = ['--source', 'camera', '--fake-camera', '--size', size, '--interval', String(intervalMs), '--no-auth', '--browser', writeBrowserWrapper(dir)];
  const pushcam = await startServeChild([...args, ...(timestamp ? ['--timestamp'] : [])]);
  let viewers: Child | undefined;
  let browser: number | undefined;
  // If the bench exits on its own (its deadline, an error) PushCam and its browser must not stay:
  // a spawned child outlives its parent, and the browser runs in a process group of its own.
  const killOnExit = (): void => {
    kill(pushcam.pid);
    kill(browser && -browser);
  };
  process.once('exit', killOnExit);
  try {
    // The capture browser: PushCam's child running with a pushcam-browser-* profile.
    const found = await until('capture browser', () => treeOf(pushcam.pid).find((pid) => /--user-data-dir=\S*pushcam-browser-/.test(cmdlineOf(pid))));
    browser = found;
    const idleRssBytes = memoryOf(pushcam.pid).rssBytes;
    const started = await startViewers({ port: pushcam.port, path: '/stream.mjpg', healthy: count, stalled: 0 });
    viewers = started.viewers;
    // Capture starts when the first viewer comes: wait for camera frames of the asked size, then a few more.
    let first: number | undefined;
    await until('camera frames', async () => {
      const { source, frame } = await status(pushcam.port);
      if (source.state !== 'running' || !frame || `${frame.width}x${frame.height}` !== size) return undefined;
      first ??= frame.seq;
      return frame.seq > first + 10 || undefined;
    });
    const reading = async () => {
      const answers = Promise.all([countersOf(started.viewers), status(pushcam.port)]);
      const [cpu, pushcamCpu, browserCpu, viewersCpu] = [cpuMark(), cpuOf([pushcam.pid]), cpuOf(groupOf(found)), cpuOf([started.viewers.pid])];
      const [counters, s] = await answers;
      return { counters, status: s, pushcamCpu, browserCpu, viewersCpu, cpu };
    };
    await sleep(warmupMs);
    const before = await reading();
    await sleep(measureMs);
    const after = await reading();
    const seconds = (after.counters.at - before.counters.at) / 1000;
    const rate = (figure: (r: typeof before) => number): number => (figure(after) - figure(before)) / seconds;
    const fps = after.counters.frames.map((_n, i) => rate((r) => r.counters.frames[i]));
    const encodes = rate((r) => r.status.encoder.frames);
    const end = memoryOf(pushcam.pid);
    const browserPids = groupOf(found);
    const failed = Object.entries(started.connected.failures).map(([reason, n]) => `${n} ${reason}`);
    return {
      label: `${started.connected.healthy} viewers${timestamp ? ', `--timestamp`' : ''}${failed.length ? ` (failed: ${failed.join(', ')})` : ''}`,
      cells: [
        `${num(median(fps))} / ${num(Math.min(...fps))}`,
        num(rate((r) => r.status.frame?.seq ?? 0)),
        num(rate((r) => r.status.encoder.skipped)),
        encodes > 0 ? `${num(encodes)} (${num(after.status.encoder.avgMs)} ms each)` : '0',
        kb(after.status.frame?.bytes ?? Number.NaN),
        percent(rate((r) => r.pushcamCpu) * 100),
        `${mb(idleRssBytes)} → ${mb(end.rssBytes)} (${mb(end.peakRssBytes)})`,
        `${percent(rate((r) => r.browserCpu) * 100)} (${browserPids.length} processes)`,
        mb(pssBytes(browserPids)),
        percent(rate((r) => r.viewersCpu) * 100),
      ],
      otherCpuPercent: otherCpuPercent(before.cpu, after.cpu, seconds),
      fakeCamera30Fps: cmdlineOf(found).includes(FAKE_CAMERA_30FPS),
    };
  } finally {
    await viewers?.kill();
    // SIGTERM: PushCam closes its browser; whatever is left of it goes here.
    await pushcam.stop();
    kill(browser && -browser);
    process.off('exit', killOnExit);
    rmSync(dir, { recursive: true, force: true });
  }
}

const HEADER = [
  '`pushcam serve --source camera`', 'fps per viewer (median / min)', 'frames published by the core, fps', 'skipped by the core (encoder busy), fps',
  'core encodes/s (its mean time)', 'JPEG', 'PushCam CPU, % of one core', 'PushCam RSS idle → end (peak)', 'capture browser CPU, % of one core',
  'capture browser memory (PSS)', "viewers' process CPU", 'rest of machine CPU',
];

export async function cameraTable(progress: (line: string) => void): Promise<MeasuredTable> {
  if (!existsSync(fileURLToPath(new URL('../dist/server/cli.js', import.meta.url)))) throw new Error('camera bench: PushCam is not built; run `node build/bundle.mjs` first (npm run bench does)');
  const items: Retryable<CameraRow>[] = [];
  for (const timestamp of [false, true]) {
    const again = (): Promise<CameraRow> => runEndToEnd(timestamp, progress);
    items.push({ result: await again(), runs: 1, again });
  }
  const chromium = /Chromium [\d.]+/.exec(execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' }))?.[0] ?? 'Chromium';
  const { size, intervalMs, viewers, warmupMs, measureMs } = CAMERA_RUN;
  const render = (): string => {
    const rows = items.map(({ result: r, runs }) => {
      const label = r.label + (runs > 1 ? ' (less disturbed of 2 runs)' : '') + (r.fakeCamera30Fps ? '' : ' (fake camera NOT at 30 fps: the option was not on its command line)');
      return [label, ...r.cells, percent(r.otherCpuPercent)];
    });
    const note =
      `${size} every ${intervalMs} ms from the fake camera of ${chromium} (Debian) at 30 fps; ${viewers} viewers; ` +
      `${warmupMs / 1000} s warm-up once frames flow, then ${measureMs / 1000} s measured. Loopback only. Method and columns: docs/benchmarks.md.`;
    return table(HEADER, rows, note);
  };
  // A row takes about 25 s.
  return { title: 'Camera end to end', items, estimateMs: 25_000, render };
}
