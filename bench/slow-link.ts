// The slow-link table: one viewer on a rate-limited link (bench/netns.ts), every variant of
// SLOW_LINK_VARIANTS over every link of SLOW_LINKS, PushCam against mjpeg-server.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from './children.js';
import { type ServerKind, serverChild, writeRing } from './fanout.js';
import { kb, num, table } from './markdown.js';
import type { ConnectViewers, Counters, Listening, ViewersConnected } from './messages.js';
import { NETNS_PREFIX, type SlowLinkSpec, slowLinksUnavailable, withSlowLink } from './netns.js';
import { FPS, SLOW_LINK_PICTURE, SLOW_LINK_RUN, SLOW_LINK_VARIANTS, SLOW_LINKS } from './settings.js';
import { quantile } from './stats.js';

/** One way of watching over a slow link: a server, and what its viewer asks for (added to its stream path). */
interface SlowLinkVariant {
  readonly label: string;
  readonly server: ServerKind;
  readonly query: string;
}

interface SlowLinkResult {
  /** Whole frames the viewer got per second. */
  fps: number;
  /** How old each frame was when its last byte arrived, ms. */
  ageP50Ms: number;
  ageP90Ms: number;
  ageMaxMs: number;
}

const START_TIMEOUT_MS = 20_000;
const MARK_TIMEOUT_MS = 15_000;
let rows = 0;

/**
 * One row of the slow-link table: a fresh namespace whose loopback is the slow link, the server
 * and one viewer inside it, a warm-up so that queues have built up, then the frames read in the
 * window. Namespace and children are gone when this returns.
 */
async function runSlowLink(
  variant: SlowLinkVariant,
  link: SlowLinkSpec,
  o: { framesDir: string; warmupMs: number; measureMs: number },
): Promise<SlowLinkResult> {
  const netns = `${NETNS_PREFIX}-${rows++}`;
  return withSlowLink(netns, link, async () => {
    const server = serverChild(variant.server, o.framesDir, netns);
    let viewers: Child | undefined;
    try {
      const { port, path } = await server.next<Listening>('listening', START_TIMEOUT_MS);
      viewers = new Child('./viewers-child.ts', [], netns);
      const connect: ConnectViewers = { type: 'connect', port, path: path + variant.query, healthy: 1, stalled: 0 };
      viewers.send(connect);
      const connected = await viewers.next<ViewersConnected>('connected', START_TIMEOUT_MS);
      if (connected.healthy !== 1) throw new Error(`no stream: ${JSON.stringify(connected.failures)}`);
      await sleep(o.warmupMs);
      const before = await mark(viewers);
      await sleep(o.measureMs);
      const after = await mark(viewers);
      const ages = after.ages;
      return {
        fps: ages.length / ((after.at - before.at) / 1000),
        ageP50Ms: quantile(ages, 0.5),
        ageP90Ms: quantile(ages, 0.9),
        ageMaxMs: ages.length ? Math.max(...ages) : Number.NaN,
      };
    } finally {
      await Promise.all([server.kill(), viewers?.kill()]);
    }
  });
}

async function mark(viewers: Child): Promise<Counters> {
  viewers.send({ type: 'mark' });
  return viewers.next<Counters>('counters', MARK_TIMEOUT_MS);
}

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
      const result = await runSlowLink(variant, link, { framesDir, ...SLOW_LINK_RUN }).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err))));
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
