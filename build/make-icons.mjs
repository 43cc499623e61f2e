// Draws PushCam's icons into build/icons: the app icon set (16x16.png ... 512x512.png, which
// electron-builder turns into the Linux icon set, the .ico and the .icns) and the tray icons
// (tray.png, tray-live.png and their @2x versions). Run once after changing the drawing:
//   node build/make-icons.mjs
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'icons');

// A video camera with two "on air" waves, in a 24-unit box.
const CAMERA = '<rect x="2" y="7" width="13" height="10" rx="2.2"/><path d="M16 10.6 21.2 7.6v8.8L16 13.4z"/>';

function appIcon() {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
    <stop offset="0" stop-color="#2f7cf6"/><stop offset="1" stop-color="#6a3df0"/>
  </linearGradient></defs>
  <rect x="24" y="24" width="464" height="464" rx="104" fill="url(#g)"/>
  <g transform="translate(96 118) scale(13.4)" fill="#fff">${CAMERA}</g>
  <circle cx="404" cy="132" r="34" fill="#ff4d4f" stroke="#fff" stroke-width="10"/>
</svg>`;
}

function trayIcon(live) {
  const dot = live ? '<circle cx="19.5" cy="5" r="4.2" fill="#ff3b30" stroke="#fff" stroke-width="1.2"/>' : '';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">
  <g fill="${live ? '#2f7cf6' : '#8a8f98'}">${CAMERA}</g>${dot}
</svg>`;
}

/** Rasterizes at twice the size and scales down, for clean edges at 16 px. */
async function png(svg, viewBox, size, name) {
  await sharp(Buffer.from(svg), { density: 72 * (size / viewBox) * 2 })
    .resize(size, size)
    .png()
    .toFile(join(dir, name));
}

mkdirSync(dir, { recursive: true });
for (const size of [16, 32, 48, 64, 128, 256, 512]) await png(appIcon(), 512, size, `${size}x${size}.png`);
for (const live of [false, true]) {
  const base = live ? 'tray-live' : 'tray';
  await png(trayIcon(live), 24, 16, `${base}.png`);
  await png(trayIcon(live), 24, 32, `${base}@2x.png`);
}
console.log(`icons written to ${dir}`);
