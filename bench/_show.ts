import { runFanout } from './_fanout-diag.js';
const fd = process.argv[2];
for (const r of process.argv[3].split(',')) {
  const [server, h, s] = r.split(':');
  const res = await runFanout({ server: server as 'pushcam', healthy: Number(h), stalled: Number(s), warmupMs: 2000, measureMs: Number(process.env.MS ?? 6000), framesDir: fd, fps: 30 });
  const { fpsAll, ...rest } = res;
  const sorted = fpsAll.map((x) => x.toFixed(1)).sort((a, b) => Number(a) - Number(b));
  console.log(r, JSON.stringify(rest), '\nfps:', sorted.slice(0, 15).join(' '), '...', sorted.slice(-5).join(' '));
}
