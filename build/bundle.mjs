// Builds what runs outside tsx: the CLI for `npx pushcam` and the browser bundles.
// tsc only type-checks (npm run typecheck); esbuild does the emitting, in well under a second.
import { build } from 'esbuild';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist');
// Start clean, so a module that stopped being an entry leaves no stale bundle behind.
rmSync(out, { recursive: true, force: true });
const common = { bundle: true, sourcemap: true, logLevel: 'warning', absWorkingDir: root };

// The core runs on Node: its npm dependencies stay external (sharp is native).
await build({
  ...common,
  entryPoints: ['server/cli/main.ts'],
  outfile: join(out, 'server/cli.js'),
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
});

// Pages: every folder of renderer/ with an index.html is a page. Its entries are the scripts its
// index.html loads, plus its workers (*-worker.ts); the other .ts files are modules they import.
// Other folders (renderer/common) are only imported.
for (const page of readdirSync(join(root, 'renderer'), { withFileTypes: true })) {
  const dir = join(root, 'renderer', page.name);
  if (!page.isDirectory() || !existsSync(join(dir, 'index.html'))) continue;
  const target = join(out, 'renderer', page.name);
  mkdirSync(target, { recursive: true });
  const files = readdirSync(dir, { withFileTypes: true }).filter((f) => f.isFile());
  for (const f of files) if (!f.name.endsWith('.ts')) cpSync(join(dir, f.name), join(target, f.name));
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const scripts = [...html.matchAll(/<script[^>]*\ssrc="\.?\/?([\w-]+)\.js"/g)].map((m) => `${m[1]}.ts`);
  const entries = files.map((f) => f.name).filter((name) => scripts.includes(name) || name.endsWith('-worker.ts'));
  if (entries.length === 0) continue;
  await build({
    ...common,
    entryPoints: entries.map((f) => join(dir, f)),
    outdir: target,
    platform: 'browser',
    format: 'esm',
    target: 'chrome120',
  });
}

// Electron: the main process and the preload, as CommonJS (Electron requires both; a sandboxed
// preload can require nothing but `electron`, so it is one self-contained file). Electron 45 runs
// Node 22 and Chromium 140. The core's code reads import.meta.url to find the package folder;
// CommonJS has no import.meta, so it gets the bundle's own file URL instead.
await build({
  ...common,
  entryPoints: ['electron/main.ts'],
  outfile: join(out, 'electron/main.cjs'),
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  packages: 'external',
  define: { 'import.meta.url': '__pushcamFileUrl' },
  banner: { js: 'const __pushcamFileUrl = require("node:url").pathToFileURL(__filename).href;' },
});
await build({
  ...common,
  entryPoints: ['electron/preload.ts'],
  outfile: join(out, 'electron/preload.cjs'),
  platform: 'node',
  format: 'cjs',
  target: 'chrome140',
  external: ['electron'],
});
// The tray's icons travel with the main process (build/ is not part of the packaged app).
mkdirSync(join(out, 'electron/icons'), { recursive: true });
for (const icon of ['tray.png', 'tray@2x.png', 'tray-live.png', 'tray-live@2x.png']) {
  cpSync(join(root, 'build/icons', icon), join(out, 'electron/icons', icon));
}
