#!/usr/bin/env node
// `npx pushcam` runs the built CLI; `npm install` builds it (the "prepare" script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../dist/server/cli.js', import.meta.url));
if (!existsSync(cli)) {
  console.error('pushcam: not built yet; run `npm install` (or `npm run build`) in the PushCam folder first.');
  process.exit(1);
}
await import(cli);
