// Runs the test files: `node scripts/test.mjs fast|slow|all` (npm test runs all).
// Fast files run side by side; slow ones (real browsers, Electron, network namespaces, short
// fuzz and soak runs, timed real clients, floods of connections) one at a time, after the fast
// ones, since they time what a client sees and each keeps a core busy on its own.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

const TEST_DIR = 'test';

const which = process.argv[2] ?? 'all';
if (!['fast', 'slow', 'all'].includes(which)) {
  console.error(`scripts/test.mjs: unknown set "${which}"; use fast, slow or all.`);
  process.exit(2);
}

/** Test files (without `.test.ts`) that run one at a time; every other file is fast. */
const ONE_AT_A_TIME = [
  'capture',
  'chromium-stream',
  'cli',
  'clients',
  'control-fuzz',
  'electron-app',
  'electron-main',
  'electron-packaging',
  'electron-preload',
  'faults-capture',
  'faults-files',
  'faults-serve',
  'ffmpeg',
  'guest-pages',
  'http-fuzz',
  'http-hardening',
  'https-browser',
  'mdns',
  'panel-serve',
  'soak',
  'ui',
  'viewer-engines',
  'viewer-page',
];

const slowFiles = ONE_AT_A_TIME.map((name) => join(TEST_DIR, `${name}.test.ts`));
for (const file of slowFiles) {
  if (!existsSync(file)) {
    console.error(`scripts/test.mjs: ${file} is listed as slow but does not exist; remove it from ONE_AT_A_TIME.`);
    process.exit(2);
  }
}
const fastFiles = readdirSync(TEST_DIR)
  .filter((name) => name.endsWith('.test.ts'))
  .map((name) => join(TEST_DIR, name))
  .filter((file) => !slowFiles.includes(file))
  .sort();

/**
 * The run's own temp dir. Every test removes its folders (test/helpers/fixtures.ts tempDir); what
 * a process killed on purpose leaves there (a SIGKILLed Chromium's org.chromium.Chromium.*) is
 * named at the end and removed with it, so a run leaves nothing in the temp dir.
 */
const runTmp = mkdtempSync(join(tmpdir(), 'pushcam-test-run-'));

/** Runs `files` with node's test runner, `concurrency` files at once; true if all passed. */
function run(files, concurrency) {
  const args = ['--import', 'tsx', '--import', './test/helpers/offline.ts', '--test', `--test-concurrency=${concurrency}`, ...files];
  return spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, TMPDIR: runTmp } }).status === 0;
}

let passed = true;
if (which !== 'slow') passed = run(fastFiles, Math.max(2, availableParallelism())) && passed;
if (which !== 'fast') passed = run(slowFiles, 1) && passed;
// tsx keeps its compile cache in the temp dir (tsx-UID): not something a test left.
const left = readdirSync(runTmp).filter((name) => !/^tsx-\d+$/.test(name));
if (left.length > 0) console.error(`left in the temp dir during the run, now removed: ${left.join(', ')}`);
rmSync(runTmp, { recursive: true, force: true, maxRetries: 5 });
process.exit(passed ? 0 : 1);
