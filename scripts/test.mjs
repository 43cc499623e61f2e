// Runs the test files: `node scripts/test.mjs fast|slow|all` (npm test runs all).
// Fast files run side by side; slow ones (real browsers, Electron, network namespaces, short
// fuzz runs) one at a time, after the fast ones, since they time what a browser shows and
// each keeps a core busy on its own.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

const TEST_DIR = 'test';

/** Test files (without `.test.ts`) that run one at a time; every other file is fast. */
const ONE_AT_A_TIME = [
  'capture',
  'chromium-stream',
  'cli',
  'control-fuzz',
  'electron-app',
  'electron-main',
  'electron-packaging',
  'electron-preload',
  'faults-capture',
  'faults-files',
  'faults-serve',
  'guest-pages',
  'https-browser',
  'mdns',
  'panel-serve',
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

/** Runs `files` with node's test runner, `concurrency` files at once; true if all passed. */
function run(files, concurrency) {
  const args = ['--import', 'tsx', '--import', './test/helpers/offline.ts', '--test', `--test-concurrency=${concurrency}`, ...files];
  return spawnSync(process.execPath, args, { stdio: 'inherit' }).status === 0;
}

const which = process.argv[2] ?? 'all';
if (!['fast', 'slow', 'all'].includes(which)) {
  console.error(`scripts/test.mjs: unknown set "${which}"; use fast, slow or all.`);
  process.exit(2);
}
let passed = true;
if (which !== 'slow') passed = run(fastFiles, Math.max(2, availableParallelism())) && passed;
if (which !== 'fast') passed = run(slowFiles, 1) && passed;
process.exit(passed ? 0 : 1);
