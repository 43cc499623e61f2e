// `npm start` (after the build): runs the desktop app in the Electron runtime. The electron npm
// package downloads that runtime on first run; where it cannot (no internet), this says so in one
// line, with the headless command that does the same job in Chromium, and exits non-zero.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const HEADLESS = 'npx pushcam serve --source camera --ui';
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

function fail(message) {
  console.error(`pushcam: ${message}`);
  process.exit(1);
}

/** The Electron executable, or null; reads what the electron package's own index.js reads, without its download. */
function electronBinary(packageDir) {
  const pathFile = join(packageDir, 'path.txt');
  const name = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) return join(override, name ?? 'electron');
  const binary = name && join(packageDir, 'dist', name);
  return binary && existsSync(binary) ? binary : null;
}

/** The first-run download the electron package does, quietly: its failure is reported in one line below. */
function downloadElectron(packageDir) {
  if (process.stderr.isTTY) console.error('pushcam: fetching the Electron runtime (first run only)...');
  spawnSync(process.execPath, [join(packageDir, 'install.js')], { stdio: 'ignore', timeout: DOWNLOAD_TIMEOUT_MS });
}

function findElectron() {
  let packageDir;
  try {
    packageDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    fail(`the electron package is not installed; run \`npm install\`, or run PushCam headless instead: ${HEADLESS}`);
  }
  const found = electronBinary(packageDir);
  if (found) return found;
  downloadElectron(packageDir);
  return (
    electronBinary(packageDir) ??
    fail(`the Electron runtime is not installed (it is downloaded on first run, which failed: no internet?). Run PushCam headless instead: ${HEADLESS}`)
  );
}

const electron = findElectron();
if (!existsSync(join(root, 'dist/electron/main.cjs'))) fail('the desktop app is not built; run `npm run build` first');
// Launched with the package folder, so Electron reads "main" from package.json, as in the packaged app.
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
const child = spawn(electron, [root, ...process.argv.slice(2)], { stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (err) => fail(`could not run ${electron}: ${err.message}`));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
