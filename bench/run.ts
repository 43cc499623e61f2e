// `npm run bench`: what a frame costs to encode and what fan-out to many viewers costs, measured
// side by side with libjpeg-turbo's tjbench and the npm package mjpeg-server, then what camera
// capture costs (bench/camera.ts); printed as the Markdown tables for the README and written to
// bench/results.md.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cameraBench } from './camera.js';
import { killAllChildren } from './children.js';
import { encodeTable, measureEncode, retryEncodeIfDisturbed } from './encode-report.js';
import { fanoutLines, fanoutTable, retryDisturbed, slowLines, slowTable, writeRing } from './fanout-report.js';
import { machineNote } from './machine.js';
import { num } from './markdown.js';
import { DEADLINE_MS, RETRY_UNTIL_MS } from './settings.js';

const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
const load = (): string => loadavg().map((n) => n.toFixed(1)).join(' / ');

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = load();
  const dir = await mkdtemp(join(tmpdir(), 'pushcam-bench-'));
  try {
    const machine = machineNote();
    const firstEncode = await measureEncode(dir, progress);
    progress('encoding the fan-out frames');
    const framesDir = join(dir, 'frames');
    const avgFrameBytes = await writeRing(framesDir);
    const main = await fanoutLines(framesDir, progress);
    const slowViewers = await slowLines(framesDir, avgFrameBytes, progress);
    // Re-runs of disturbed measurements come last, in the time left.
    const encode = encodeTable(await retryEncodeIfDisturbed(firstEncode, dir, progress, started + RETRY_UNTIL_MS));
    await retryDisturbed([...main, ...slowViewers], framesDir, progress, started + RETRY_UNTIL_MS);
    const fanout = fanoutTable(main, avgFrameBytes);
    const slow = slowTable(slowViewers);
    progress('camera capture');
    const camera = await cameraBench();
    const minutes = (performance.now() - started) / 60_000;
    const report = [
      '## Benchmarks',
      `Measured by \`npm run bench\` on ${machine}. Whole run: ${num(minutes)} min. Load average (1 / 5 / 15 min): ${loadBefore} at the start, ${load()} at the end; on an idle machine it is near 0.`,
      '### Encode cost per frame (ms, median / p95)',
      encode,
      '### Fan-out to many viewers',
      fanout,
      '### Viewers slower than the stream',
      slow,
      camera,
    ].join('\n\n');
    console.log(report);
    await writeFile(fileURLToPath(new URL('./results.md', import.meta.url)), `${report}\n`);
  } finally {
    killAllChildren();
    await rm(dir, { recursive: true, force: true });
  }
}

const deadline = setTimeout(() => {
  progress(`still running after ${DEADLINE_MS / 1000} s: stopping`);
  killAllChildren();
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

try {
  await main();
} catch (err) {
  killAllChildren();
  console.error(err);
  process.exitCode = 1;
}
