import { type ChildProcess, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type ConnectViewers, type Counters, isMessage, type ViewersConnected } from './messages.js';
import { FPS } from './settings.js';

const KILL_GRACE_MS = 2000;
// Every child alive, so an error or the run's deadline can end them all.
const alive = new Set<ChildProcess>();

/**
 * A forked bench process (same Node, same tsx loader) and its typed IPC; with `netns`, run
 * inside that network namespace (`ip netns exec` keeps the IPC channel and the pid).
 */
export class Child {
  private readonly proc: ChildProcess;
  readonly pid: number;
  private readonly inbox: unknown[] = [];
  private exited = false;

  constructor(
    private readonly module: string,
    args: string[],
    netns?: string,
  ) {
    const file = fileURLToPath(new URL(module, import.meta.url));
    const stdio = ['ignore', 'inherit', 'inherit', 'ipc'] as const;
    this.proc = netns
      ? spawn('ip', ['netns', 'exec', netns, process.execPath, ...process.execArgv, file, ...args], { stdio: [...stdio] })
      : fork(file, args, { stdio: [...stdio] });
    if (this.proc.pid === undefined) throw new Error(`${module} did not start`);
    this.pid = this.proc.pid;
    alive.add(this.proc);
    this.proc.on('message', (m) => this.inbox.push(m));
    this.proc.on('exit', () => {
      this.exited = true;
      alive.delete(this.proc);
    });
  }

  send(message: object): void {
    this.proc.send(message);
  }

  /** The next message of `type`; rejects if the child exits or stays silent for `timeoutMs`. */
  async next<T extends { type: string }>(type: T['type'], timeoutMs = 20_000): Promise<T> {
    const timeout = AbortSignal.timeout(timeoutMs);
    for (;;) {
      const at = this.inbox.findIndex((m) => isMessage<T>(m, type));
      if (at !== -1) return this.inbox.splice(at, 1)[0] as T;
      if (this.exited) throw new Error(`${this.module} exited before sending "${type}"`);
      if (timeout.aborted) throw new Error(`no "${type}" from ${this.module} within ${timeoutMs / 1000} s`);
      // Wakes on the next message, the exit or the timeout, whichever comes first.
      const woken = new AbortController();
      const signal = AbortSignal.any([timeout, woken.signal]);
      await Promise.race([once(this.proc, 'message', { signal }), once(this.proc, 'exit', { signal })]).catch(() => undefined);
      woken.abort();
    }
  }

  /** SIGTERM, then SIGKILL if it has not gone after a grace period; resolves once it is gone. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = once(this.proc, 'exit');
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), KILL_GRACE_MS);
    await gone;
    clearTimeout(timer);
  }
}

/** Ends every child at once, when the run ends (its deadline and errors included). */
export function killAllChildren(): void {
  for (const proc of alive) proc.kill('SIGKILL');
}

export type ServerKind = 'pushcam' | 'mjpeg-server';

/** A server under test in a child process of its own, serving the frames in `framesDir` (bench/server-child.ts). */
export const serverChild = (kind: ServerKind, framesDir: string, netns?: string): Child => new Child('./server-child.ts', [kind, framesDir, String(FPS)], netns);

/** A child process of viewers (bench/viewers-child.ts) reading `path` on `port`, once they are all connected or have failed. */
export async function startViewers(m: Omit<ConnectViewers, 'type'>, netns?: string): Promise<{ viewers: Child; connected: ViewersConnected }> {
  const viewers = new Child('./viewers-child.ts', [], netns);
  try {
    viewers.send({ type: 'connect', ...m } satisfies ConnectViewers);
    return { viewers, connected: await viewers.next<ViewersConnected>('connected', 30_000) };
  } catch (err) {
    await viewers.kill();
    throw err;
  }
}

export async function countersOf(viewers: Child): Promise<Counters> {
  viewers.send({ type: 'mark' });
  return viewers.next<Counters>('counters');
}
