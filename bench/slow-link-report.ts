import { join } from 'node:path';
import { writeRing } from './fanout-report.js';
import { kb, num, table } from './markdown.js';
import { slowLinksUnavailable, type SlowLinkSpec } from './netns.js';
import { FPS, SLOW_LINK_PICTURE, SLOW_LINK_RUN, SLOW_LINK_VARIANTS, SLOW_LINKS } from './settings.js';
import { runSlowLink, type SlowLinkResult, type SlowLinkVariant } from './slow-link.js';

interface SlowLinkLine {
  link: SlowLinkSpec;
  variant: SlowLinkVariant;
  result: SlowLinkResult | Error;
}

const HEADER = ['link', 'server', 'fps', 'frame age at viewer, ms (p50 / p90 / max)'];

/** The slow-link table, or a line saying why this machine cannot make slow links. */
export async function slowLinkTable(dir: string, progress: (line: string) => void): Promise<string> {
  const unavailable = slowLinksUnavailable();
  if (unavailable) {
    progress(`slow links skipped: ${unavailable}`);
    return `Skipped: ${unavailable}.`;
  }
  const framesDir = join(dir, 'frames-720p');
  const frameBytes = await writeRing(framesDir, SLOW_LINK_PICTURE);
  const lines: SlowLinkLine[] = [];
  for (const link of SLOW_LINKS) {
    for (const variant of SLOW_LINK_VARIANTS) {
      progress(`slow link ${link.mbitPerSecond} Mbit/s: ${variant.label}`);
      const result = await runSlowLink(variant, link, { framesDir, fps: FPS, ...SLOW_LINK_RUN }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
      if (result instanceof Error) progress(`  failed: ${result.message}`);
      lines.push({ link, variant, result });
    }
  }
  const rows = lines.map(({ link, variant, result: r }) => [
    `${link.mbitPerSecond} Mbit/s`,
    variant.label,
    ...(r instanceof Error ? [`failed: ${r.message}`, ''] : [num(r.fps), `${num(r.ageP50Ms, 0)} / ${num(r.ageP90Ms, 0)} / ${num(r.ageMaxMs, 0)}`]),
  ]);
  const { width, height, quality } = SLOW_LINK_PICTURE;
  const note =
    `${width}x${height} at ${FPS} fps, q${quality} (${kb(frameBytes)} a frame on average), one viewer; server and viewer in a network namespace whose loopback is the link ` +
    `(tc tbf, MTU 1500, ${SLOW_LINKS[0].queueMs} ms queue); ${SLOW_LINK_RUN.warmupMs / 1000} s warm-up, then ${SLOW_LINK_RUN.measureMs / 1000} s measured. ` +
    'Age: from when the frame was made to when its last byte arrived. Method: docs/benchmarks.md.';
  return `${table(HEADER, rows)}\n\n${note}`;
}
