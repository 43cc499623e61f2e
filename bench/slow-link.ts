import { setTimeout as sleep } from 'node:timers/promises';
import { Child } from './children.js';
import type { ServerKind } from './fanout.js';
import type { ConnectViewers, Counters, Listening, ViewersConnected } from './messages.js';
import { NETNS_PREFIX, type SlowLinkSpec, withSlowLink } from './netns.js';
import { quantile } from './stats.js';

/** One way of watching over a slow link: a server, and what its viewer asks for. */
export interface SlowLinkVariant {
  readonly label: string;
  readonly server: ServerKind;
  /** Added to the server's stream path, e.g. `?quality=auto`. */
  readonly query: string;
}

export interface SlowLinkResult {
  /** Whole frames the viewer got per second. */
  fps: number;
  /** How old each frame was when its last byte arrived, ms. */
  ageP50Ms: number;
  ageP90Ms: number;
  ageMaxMs: number;
}

const CHILD_MODULE: Record<ServerKind, string> = { pushcam: './pushcam-child.ts', 'mjpeg-server': './mjpeg-child.ts' };
const START_TIMEOUT_MS = 20_000;
const MARK_TIMEOUT_MS = 15_000;
let rows = 0;

/**
 * One row of the slow-link table: a fresh namespace whose loopback is the slow link, the server
 * and one viewer inside it, a warm-up so that queues have built up, then the frames read in the
 * window. Namespace and children are gone when this returns.
 */
export async function runSlowLink(
  variant: SlowLinkVariant,
  link: SlowLinkSpec,
  o: { framesDir: string; fps: number; warmupMs: number; measureMs: number },
): Promise<SlowLinkResult> {
  const netns = `${NETNS_PREFIX}-${rows++}`;
  return withSlowLink(netns, link, async () => {
    const server = new Child(CHILD_MODULE[variant.server], [o.framesDir, String(o.fps)], netns);
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
