// The camera table: `pushcam serve --source camera` end to end, its capture browser and viewers.
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CHROMIUM_PATH } from '../test/helpers/chromium.js';
import { E2E, runEndToEnd, type E2eResult } from './camera-e2e.js';
import { kb, mb, num, table } from './markdown.js';
import { DISTURBED_PERCENT } from './settings.js';
import { median } from './stats.js';

// A row takes about 20 s; none is repeated once the camera run is this old, so it stays under 2 minutes.
const RETRY_UNTIL_MS = 60_000;

type Row = E2eResult & { runs: number };

/** A row, and once more if other work took the cores meanwhile and there is time; the less disturbed run is kept. */
async function measureRow(timestamp: boolean, started: number, progress: (line: string) => void): Promise<Row> {
  const first = await runEndToEnd(timestamp, progress);
  if (first.otherCpuPercent <= DISTURBED_PERCENT || performance.now() - started > RETRY_UNTIL_MS) return { ...first, runs: 1 };
  progress(`camera: the rest of the machine used ${num(first.otherCpuPercent, 0)} % of a core meanwhile; once more`);
  const again = await runEndToEnd(timestamp, progress);
  return { ...(again.otherCpuPercent < first.otherCpuPercent ? again : first), runs: 2 };
}

const HEADER = [
  '`pushcam serve --source camera`',
  'fps per viewer (median / min)',
  'frames published by the core, fps',
  'dropped by the core (encoder busy), fps',
  'core encodes/s (its mean time)',
  'JPEG',
  'PushCam CPU, % of one core',
  'PushCam RSS idle → end (peak)',
  'capture browser CPU, % of one core',
  'capture browser memory (PSS)',
  "viewers' process CPU",
  'rest of machine CPU',
];

function row(r: Row): string[] {
  const failed = Object.entries(r.failures).map(([reason, n]) => `${n} ${reason}`);
  return [
    `${r.viewers} viewers${r.timestamp ? ', `--timestamp`' : ''}${r.runs > 1 ? ` (less disturbed of ${r.runs} runs)` : ''}${failed.length ? ` (failed: ${failed.join(', ')})` : ''}`,
    `${num(median(r.fpsPerViewer))} / ${num(Math.min(...r.fpsPerViewer))}`,
    num(r.publishedFps),
    num(r.droppedPerSecond),
    r.encodesPerSecond > 0 ? `${num(r.encodesPerSecond)} (${num(r.encodeMs)} ms each)` : '0',
    kb(r.frameBytes),
    `${num(r.pushcamCpuPercent, 0)} %`,
    `${mb(r.pushcamIdleRssBytes)} → ${mb(r.pushcamEndRssBytes)} (${mb(r.pushcamPeakRssBytes)})`,
    `${num(r.browserCpuPercent, 0)} % (${r.browserProcesses} processes)`,
    mb(r.browserPssBytes),
    `${num(r.viewersCpuPercent, 0)} %`,
    `${num(r.otherCpuPercent, 0)} %`,
  ];
}

export async function cameraTable(progress: (line: string) => void): Promise<string> {
  const started = performance.now();
  const rows = [await measureRow(false, started, progress), await measureRow(true, started, progress)];
  const chromium = execFileSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' }).trim();
  const fps30 = rows.every((r) => r.fakeCamera30Fps) ? 'its fake camera at 30 fps (checked on its command line)' : 'its fake camera NOT at 30 fps (the option was not on its command line)';
  const note =
    `${E2E.size} every ${E2E.intervalMs} ms from ${chromium}, ${fps30}; ${E2E.viewers} viewers; ` +
    `${E2E.warmupMs / 1000} s warm-up once frames flow, then ${E2E.measureMs / 1000} s measured. Loopback only. Method and columns: docs/benchmarks.md.`;
  return `${table(HEADER, rows.map(row))}\n\n${note}`;
}
