import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Encoder } from '../server/encoder/encoder.js';
import { BoundaryCounter } from './boundary-counter.js';
import { runFanout } from './_fanout-diag.js';
import { testPicture } from './picture.js';

// boundary counter check: split at every position
const needle = Buffer.from('--abcdef');
const stream = Buffer.from('xx--abcdefyy--abcdef--abcdefzz');
for (let cut = 0; cut <= stream.length; cut++) for (let cut2 = cut; cut2 <= stream.length; cut2++) {
  const c = new BoundaryCounter(needle);
  c.push(stream.subarray(0, cut)); c.push(stream.subarray(cut, cut2)); c.push(stream.subarray(cut2));
  if (c.count !== 3) throw new Error(`cut ${cut} ${cut2}: ${c.count}`);
}
console.log('counter ok');
const dir = await mkdtemp(join(tmpdir(), 'pcb-'));
const fd = join(dir, 'frames'); await mkdir(fd);
const enc = new Encoder();
for (let i = 0; i < 30; i++) await writeFile(join(fd, `frame-${String(i).padStart(2, '0')}.jpg`), (await enc.encode({ kind: 'raw', image: await testPicture(640, 480, i) })).jpeg);
const rows = (process.argv[2] ?? 'pushcam:200:0,mjpeg-server:200:0').split(',');
for (const r of rows) {
  const [server, h, s] = r.split(':');
  const res = await runFanout({ server: server as 'pushcam', healthy: Number(h), stalled: Number(s), warmupMs: 2000, measureMs: Number(process.env.MS ?? 6000), framesDir: fd, fps: 30 });
  console.log(r, JSON.stringify(res));
}
