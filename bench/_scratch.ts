import sharp from 'sharp';
import { testPicture } from './picture.js';
const t0 = performance.now();
for (const [w, h] of [[640, 480], [1280, 720], [1920, 1080]]) {
  const p = await testPicture(w, h);
  const j = await sharp(p.data, { raw: p }).jpeg({ quality: 80, optimiseCoding: false }).toBuffer();
  console.log(w, h, j.length, (performance.now() - t0).toFixed(0));
  if (w === 640) await sharp(p.data, { raw: p }).png().toFile('/tmp/pic.png');
}
