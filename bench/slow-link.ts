// The slow-link table: one viewer on a rate-limited link (bench/netns.ts), every variant of
// SLOW_LINK_VARIANTS over every link of SLOW_LINKS, PushCam against mjpeg-server.
import { join } from 'node:path';
import { watch, writeRing } from './fanout.js';
import { kb, num, table } from './markdown.js';
import { slowLinksUnavailable, withSlowLink } from './netns.js';
import { FPS, SLOW_LINK_PICTURE, SLOW_LINK_RUN, SLOW_LINK_VARIANTS, SLOW_LINKS } from './settings.js';
import { type MeasuredTable, quantile } from './stats.js';

const HEADER = ['link', 'server', 'fps', 'frame age at viewer, ms (p50 / p90 / max)'];

/** The slow-link table (its rows do not run again), or a line saying why this machine cannot make slow links. */
export async function slowLinkTable(dir: string, progress: (line: string) => void): Promise<MeasuredTable> {
  const title = 'A viewer on a slow link';
  const unavailable = await slowLinksUnavailable();
  if (unavailable) {
    progress(`slow links skipped: ${unavailable}`);
    return { title, items: [], estimateMs: 0, render: () => `Skipped: ${unavailable}.` };
  }
  const framesDir = join(dir, 'frames-720p');
  const frameBytes = await writeRing(framesDir, SLOW_LINK_PICTURE);
  const rows: string[][] = [];
  for (const link of SLOW_LINKS) {
    for (const variant of SLOW_LINK_VARIANTS) {
      progress(`slow link ${link.mbitPerSecond} Mbit/s: ${variant.label}`);
      // A fresh namespace per row whose loopback is the link, the server and one viewer inside it,
      // and a warm-up so that queues have built up.
      const cells = await withSlowLink(link, (netns) =>
        watch(variant.server, framesDir, { healthy: 1, stalled: 0, query: variant.query, netns, ...SLOW_LINK_RUN }, ({ connected, after, seconds }) => {
          if (connected.healthy !== 1) throw new Error(`no stream: ${JSON.stringify(connected.failures)}`);
          const ages = after.counters.ages;
          const max = ages.length ? Math.max(...ages) : Number.NaN;
          return [num(ages.length / seconds), `${num(quantile(ages, 0.5), 0)} / ${num(quantile(ages, 0.9), 0)} / ${num(max, 0)}`];
        }),
      ).catch((err: unknown) => {
        const failed = `failed: ${err instanceof Error ? err.message : String(err)}`;
        progress(`  ${failed}`);
        return [failed, ''];
      });
      rows.push([`${link.mbitPerSecond} Mbit/s`, variant.label, ...cells]);
    }
  }
  const { width, height, quality } = SLOW_LINK_PICTURE;
  const note =
    `${width}x${height} at ${FPS} fps, q${quality} (${kb(frameBytes)} a frame on average), one viewer; server and viewer in a network namespace whose loopback is the link ` +
    `(tc tbf, MTU 1500, ${SLOW_LINKS[0].queueMs} ms queue); ${SLOW_LINK_RUN.warmupMs / 1000} s warm-up, then ${SLOW_LINK_RUN.measureMs / 1000} s measured. ` +
    'Age: from when the frame was made to when its last byte arrived. Method: docs/benchmarks.md.';
  return { title, items: [], estimateMs: 0, render: () => table(HEADER, rows, note) };
}
