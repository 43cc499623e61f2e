// `npm run bench`: what a frame costs to encode and what fan-out to many viewers costs, measured
// side by side with libjpeg-turbo's tjbench and the npm package mjpeg-server, how late a viewer
// on a slow link is (bench/slow-link.ts), then `pushcam serve --source camera` end to end (bench/camera.ts);
// printed as the Markdown tables for the README and written to bench/results.md.
// `npm run bench -- --only fanout,slow-link` runs some of the tables (then nothing is written).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { cameraTable } from './camera.js';
import { killAllChildren } from './children.js';
import { encodeTable, measureEncode, retryEncodeIfDisturbed } from './encode.js';
import { fanoutLines, fanoutTable, retryDisturbed, writeRing } from './fanout.js';
import { machineNote } from './machine.js';
import { num } from './markdown.js';
import { deleteOwnNamespaces } from './netns.js';
import { DEADLINE_MS, RETRY_UNTIL_MS } from './settings.js';
import { slowLinkTable } from './slow-link.js';

const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
const load = (): string => loadavg().map((n) => n.toFixed(1)).join(' / ');

const TABLES = ['encode', 'fanout', 'slow-link', 'camera'] as const;
type Table = (typeof TABLES)[number];

/** The tables `--only` names, all without it; null (after a one-line error) for a name that is not a table. */
function chosenTables(argv: string[]): Set<Table> | null {
  const at = argv.indexOf('--only');
  if (at === -1) return new Set(TABLES);
  const names = (argv[at + 1] ?? '').split(',');
  const unknown = names.filter((n) => !(TABLES as readonly string[]).includes(n));
  if (unknown.length === 0) return new Set(names as Table[]);
  console.error(`bench: --only takes a comma-separated list of ${TABLES.join(', ')}; not ${unknown.map((n) => `"${n}"`).join(', ')}`);
  return null;
}

async function main(only: Set<Table>): Promise<void> {
  const started = performance.now();
  const loadBefore = load();
  const dir = await mkdtemp(join(tmpdir(), 'pushcam-bench-'));
  try {
    const machine = machineNote();
    const sections: string[] = [];
    const firstEncode = only.has('encode') ? await measureEncode(dir, progress) : null;
    const framesDir = join(dir, 'frames');
    if (only.has('fanout')) progress('encoding the fan-out frames');
    const avgFrameBytes = only.has('fanout') ? await writeRing(framesDir) : 0;
    const fanout = only.has('fanout') ? await fanoutLines(framesDir, progress) : [];
    const slowLink = only.has('slow-link') ? await slowLinkTable(dir, progress) : null;
    // Re-runs of disturbed measurements come last, in the time left.
    if (firstEncode) sections.push('### Encode cost per frame (ms, median / p95)', encodeTable(await retryEncodeIfDisturbed(firstEncode, dir, progress, started + RETRY_UNTIL_MS)));
    await retryDisturbed(fanout, framesDir, progress, started + RETRY_UNTIL_MS);
    if (fanout.length) sections.push('### Fan-out to many viewers', fanoutTable(fanout, avgFrameBytes));
    if (slowLink) sections.push('### A viewer on a slow link', slowLink);
    if (only.has('camera')) {
      sections.push('### Camera end to end', await cameraTable(progress));
    }
    const minutes = (performance.now() - started) / 60_000;
    const report = [
      '## Benchmarks',
      `Measured by \`npm run bench\` on ${machine}. Whole run: ${num(minutes)} min. Load average (1 / 5 / 15 min): ${loadBefore} at the start, ${load()} at the end; on an idle machine it is near 0.`,
      ...sections,
    ].join('\n\n');
    console.log(report);
    if (only.size === TABLES.length) await writeFile(fileURLToPath(new URL('./results.md', import.meta.url)), `${report}\n`);
  } finally {
    killAllChildren();
    deleteOwnNamespaces();
    await rm(dir, { recursive: true, force: true });
  }
}

const deadline = setTimeout(() => {
  progress(`still running after ${DEADLINE_MS / 1000} s: stopping`);
  killAllChildren();
  deleteOwnNamespaces();
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

const only = chosenTables(process.argv.slice(2));
try {
  if (only) await main(only);
  else process.exitCode = 2;
} catch (err) {
  killAllChildren();
  deleteOwnNamespaces();
  console.error(err);
  process.exitCode = 1;
}
