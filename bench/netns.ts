import { execFileSync } from 'node:child_process';

// A slow link for the bench: a network namespace of its own whose loopback is rate-limited by a
// token bucket (tc tbf). Server and viewer both run inside it, so the only traffic is between
// them, on that loopback. Needs root (ip netns); without it the caller skips the table.

/** One namespace per run, named by this process, so parallel runs and teammates never collide. */
export const NETNS_PREFIX = `pushcam-bench-${process.pid}`;

export interface SlowLinkSpec {
  mbitPerSecond: number;
  /** How long a packet may wait in the link's queue before it is dropped (the Wi-Fi buffer). */
  queueMs: number;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/**
 * Runs `work` with a namespace `name` whose loopback carries `spec.mbitPerSecond`, and deletes
 * the namespace afterwards, also when `work` fails. MTU 1500, as on a LAN: tbf drops packets
 * larger than its bucket, and loopback's 64 KB packets would be.
 */
export async function withSlowLink<T>(name: string, spec: SlowLinkSpec, work: () => Promise<T>): Promise<T> {
  ip('netns', 'add', name);
  try {
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'mtu', '1500', 'up');
    // A bucket of 16 KB: about 10 packets at once, as a Wi-Fi link sends them in bursts.
    const tbf = ['rate', `${spec.mbitPerSecond}mbit`, 'burst', '16kb', 'latency', `${spec.queueMs}ms`];
    ip('netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', ...tbf);
    return await work();
  } finally {
    deleteNetns(name);
  }
}

export function deleteNetns(name: string): void {
  try {
    ip('netns', 'delete', name);
  } catch {
    // Already gone.
  }
}

/** Why this machine cannot make slow links, or null if it can (tries once with a scratch namespace). */
export function slowLinksUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces are Linux only';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  const probe = `${NETNS_PREFIX}-probe`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'exec', probe, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '1mbit', 'burst', '16kb', 'latency', '100ms');
    return null;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return `ip netns / tc failed: ${stderr || (err as Error).message}`;
  } finally {
    deleteNetns(probe);
  }
}

/** Deletes every namespace this run made, whatever state it stopped in (for the run's deadline and errors). */
export function deleteOwnNamespaces(): void {
  let names: string[] = [];
  try {
    names = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8', timeout: 5000 })
      .split('\n')
      .map((line) => line.split(' ')[0])
      .filter((n) => n.startsWith(NETNS_PREFIX));
  } catch {
    return;
  }
  for (const name of names) deleteNetns(name);
}
