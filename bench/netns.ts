import { execFileSync } from 'node:child_process';

// A slow link for the bench: a network namespace of its own whose loopback is rate-limited by a
// token bucket (tc tbf). Server and viewer both run inside it, so the only traffic is between
// them, on that loopback. Needs root (ip netns); without it the caller skips the table.

interface SlowLinkSpec {
  mbitPerSecond: number;
  /** How long a packet may wait in the link's queue before it is dropped (the Wi-Fi buffer). */
  queueMs: number;
}

// Named by this process, so parallel runs and teammates never collide; every one made and not yet deleted.
const PREFIX = `pushcam-bench-${process.pid}`;
const made = new Set<string>();
let count = 0;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

function deleteNetns(name: string): void {
  made.delete(name);
  try {
    ip('netns', 'delete', name);
  } catch {
    // Already gone.
  }
}

/**
 * Runs `work` with a fresh namespace whose loopback carries `spec.mbitPerSecond`, and deletes the
 * namespace afterwards, also when `work` fails. MTU 1500, as on a LAN: tbf drops packets larger
 * than its bucket, and loopback's 64 KB packets would be.
 */
export async function withSlowLink<T>(spec: SlowLinkSpec, work: (netns: string) => Promise<T>): Promise<T> {
  const name = `${PREFIX}-${count++}`;
  made.add(name);
  try {
    ip('netns', 'add', name);
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'mtu', '1500', 'up');
    // A bucket of 16 KB: about 10 packets at once, as a Wi-Fi link sends them in bursts.
    const tbf = ['rate', `${spec.mbitPerSecond}mbit`, 'burst', '16kb', 'latency', `${spec.queueMs}ms`];
    ip('netns', 'exec', name, 'tc', 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', ...tbf);
    return await work(name);
  } finally {
    deleteNetns(name);
  }
}

/** Why this machine cannot make slow links, or null if it can (tries once with a scratch namespace). */
export async function slowLinksUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  try {
    return await withSlowLink({ mbitPerSecond: 1, queueMs: 100 }, async () => null);
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return `ip netns / tc failed: ${stderr || (err as Error).message}`;
  }
}

/** Deletes every namespace this run made, whatever state it stopped in (for the run's deadline and errors). */
export function deleteOwnNamespaces(): void {
  for (const name of [...made]) deleteNetns(name);
}
