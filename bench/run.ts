// `npm run bench`: what a frame costs to encode and what fan-out to many viewers costs, measured
// side by side with libjpeg-turbo's tjbench and the npm package mjpeg-server, how late a viewer
// on a slow link is, then `pushcam serve --source camera` end to end; printed as the Markdown
// tables for the README and written to bench/results.md (method: docs/benchmarks.md).
// `npm run bench -- --only fanout,slow-link` runs some of the tables (then nothing is written).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';
import { cameraTable } from './camera.js';
import { killAllChildren } from './children.js';
import { encodeTable } from './encode.js';
import { fanoutTable } from './fanout.js';
import { num } from './markdown.js';
import { deleteOwnNamespaces } from './netns.js';
import { CAMERA_RETRY_UNTIL_MS, DEADLINE_MS, RETRY_UNTIL_MS } from './settings.js';
import { slowLinkTable } from './slow-link.js';
import { type MeasuredTable, retryDisturbed } from './stats.js';

const progress = (line: string): void => void process.stderr.write(`bench: ${line}\n`);
const load = (): string => loadavg().map((n) => n.toFixed(1)).join(' / ');

const TABLES = { encode: encodeTable, fanout: fanoutTable, 'slow-link': slowLinkTable };
const NAMES = [...(Object.keys(TABLES) as (keyof typeof TABLES)[]), 'camera'] as const;
type Name = (typeof NAMES)[number];

/** The tables `--only` names, all without it; null (after a one-line error) for a name that is not a table. */
function chosenTables(argv: string[]): readonly Name[] | null {
  const at = argv.indexOf('--only');
  if (at === -1) return NAMES;
  const names = (argv[at + 1] ?? '').split(',');
  const unknown = names.filter((n) => !(NAMES as readonly string[]).includes(n));
  if (unknown.length === 0) return NAMES.filter((n) => names.includes(n));
  console.error(`bench: --only takes a comma-separated list of ${NAMES.join(', ')}; not ${unknown.map((n) => `"${n}"`).join(', ')}`);
  return null;
}

/** One line on what the figures were measured on. */
function machineNote(): string {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? 'unknown CPU';
  let tjbench = '(version unknown)';
  try {
    tjbench = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'libjpeg-turbo-progs'], { encoding: 'utf8' }).replace(/^\d+:/, '').trim();
  } catch {
    // Not a Debian system, or not installed.
  }
  const { sharp: version, vips, mozjpeg } = sharp.versions;
  return `${availableParallelism()} cores (nproc), ${cpu} · Node ${process.version} · sharp ${version} / libvips ${vips} (its JPEG codec: mozjpeg ${mozjpeg ?? '?'}, a libjpeg-turbo fork) · tjbench from libjpeg-turbo ${tjbench}`;
}

async function main(only: readonly Name[]): Promise<void> {
  const started = performance.now();
  const loadBefore = load();
  const dir = await mkdtemp(join(tmpdir(), 'pushcam-bench-'));
  try {
    const machine = machineNote();
    const tables: MeasuredTable[] = [];
    for (const name of only) if (name !== 'camera') tables.push(await TABLES[name](dir, progress));
    // Re-runs of disturbed measurements come last, in the time left; the camera's after them, in a budget of their own.
    for (const t of tables) await retryDisturbed(t, started + RETRY_UNTIL_MS, progress);
    if (only.includes('camera')) {
      const cameraStarted = performance.now();
      const camera = await cameraTable(progress);
      await retryDisturbed(camera, cameraStarted + CAMERA_RETRY_UNTIL_MS, progress);
      tables.push(camera);
    }
    const minutes = (performance.now() - started) / 60_000;
    const report = [
      '## Benchmarks',
      `Measured by \`npm run bench\` on ${machine}. Whole run: ${num(minutes)} min. Load average (1 / 5 / 15 min): ${loadBefore} at the start, ${load()} at the end; on an idle machine it is near 0.`,
      ...tables.flatMap((t) => [`### ${t.title}`, t.render()]),
    ].join('\n\n');
    console.log(report);
    if (only.length === NAMES.length) await writeFile(new URL('./results.md', import.meta.url), `${report}\n`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Whatever ends the run (its end, an error, its deadline), no child, browser or namespace outlives it.
process.on('exit', () => {
  killAllChildren();
  deleteOwnNamespaces();
});
setTimeout(() => {
  progress(`still running after ${DEADLINE_MS / 1000} s: stopping`);
  process.exit(1);
}, DEADLINE_MS).unref();

const only = chosenTables(process.argv.slice(2));
try {
  if (only) await main(only);
  else process.exitCode = 2;
} catch (err) {
  console.error(err);
  process.exit(1);
}
